"""Ops HTTP API: JSON, `Authorization: Bearer <OPS_TOKEN>` (constant-time check), thin over the services."""

from __future__ import annotations

import hmac
import io
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.db.session import session_scope
from app.services import dlq
from app.services.reports import drift_plot, recent_runs
from app.services.status import collect

bp = Blueprint("ops", __name__, url_prefix="/ops")


@bp.before_request
def require_token():  # noqa: ANN201 - a Flask hook
    expected = current_app.config["SETTINGS"].ops_token.encode()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # compare_digest on every request, token or not: the time taken says nothing about the token.
    valid = hmac.compare_digest(token.strip().encode(), expected) and scheme.lower() == "bearer"
    if not valid:
        resp = jsonify({"error": "unauthorized", "message": "Authorization: Bearer <OPS_TOKEN> required"})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="shopsync-ops"'
        return resp
    return None


def _actor() -> str:
    return f"ops-api:{request.remote_addr or '-'}"


def _filter(source: dict[str, Any]) -> dlq.DlqFilter:
    older = source.get("older_than_seconds")
    ids = source.get("ids") or ()
    return dlq.DlqFilter(
        ids=tuple(int(i) for i in ids),
        category=source.get("category") or None,
        error_code=source.get("error_code") or None,
        topic=source.get("topic") or None,
        older_than=timedelta(seconds=int(older)) if older else None,
        everything=bool(source.get("all")),
    )


@bp.get("/status")
def status():  # noqa: ANN201
    return jsonify(collect())


@bp.get("/dlq")
def dlq_list():  # noqa: ANN201
    state = request.args.get("status", "open")
    entries = dlq.list_entries(status=None if state == "all" else state, limit=int(request.args.get("limit", 200)))
    for key in ("category", "error_code", "topic"):
        if request.args.get(key):
            entries = [e for e in entries if e.get(key) == request.args[key]]
    return jsonify({"count": len(entries), "entries": entries})


@bp.get("/dlq/<int:dead_letter_id>")
def dlq_show(dead_letter_id: int):  # noqa: ANN201
    entry = dlq.get_entry(dead_letter_id)
    if entry is None:
        return jsonify({"error": "not_found", "message": f"no dead letter {dead_letter_id}"}), 404
    return jsonify(entry)


@bp.post("/dlq/<int:dead_letter_id>/requeue")
def dlq_requeue_one(dead_letter_id: int):  # noqa: ANN201
    try:
        message = dlq.requeue_one(dead_letter_id, _actor())
    except dlq.RequeueError as exc:
        return jsonify({"error": "not_found", "message": str(exc)}), 404
    return jsonify({"result": message})


@bp.post("/dlq/requeue")
def dlq_requeue_matching():  # noqa: ANN201
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return jsonify({"error": "bad_request", "message": "a JSON object of filters"}), 400
    try:
        results = dlq.requeue_matching(_filter(body), actor=_actor())
    except dlq.RequeueError as exc:
        return jsonify({"error": "bad_request", "message": str(exc)}), 400
    return jsonify({"requeued": len(results), "results": results})


@bp.get("/reconciliations")
def reconciliations():  # noqa: ANN201
    with session_scope() as session:
        return jsonify(recent_runs(session, limit=30))


@bp.get("/reconciliations/drift.svg")
def reconciliations_drift_svg() -> Response:
    """The drift plot of `shopsync reconcile --plot`, drawn in memory: diffs and corrections of the last runs."""
    last = min(max(request.args.get("last", 30, type=int), 1), 365)
    buffer = io.BytesIO()
    with session_scope() as session:
        drift_plot(session, buffer, last=last, fmt="svg")
    resp = Response(buffer.getvalue(), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # Opened on its own the SVG is a document: it may style itself, never run or fetch anything.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    return resp
