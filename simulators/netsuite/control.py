"""The NetSuite simulator's control API under `/_sim` (no auth): stats, records, reset, role, items,
inventory, configuration and faults. The endpoints are listed in `server.py`'s docstring; this module routes
them and checks what they are given, over the live parts of a `SimulatorApp`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from simulators.netsuite.catalog import TAX_CODE_TYPE
from simulators.netsuite.state import (
    LATENCY_DISTRIBUTIONS,
    RECORD_TYPES,
    ApiError,
    Fault,
    Record,
    canonical_type,
    is_transaction,
)
from simulators.netsuite.totals import TAX_MODES
from simulators.wsgi import json_body, json_response

if TYPE_CHECKING:
    from simulators.netsuite.server import SimulatorApp

SIM_PREFIX = "/_sim"


def sim_json(status: int, body: Any) -> Response:
    """A plain JSON answer (the control API and the token endpoint; NetSuite's own media type is for records)."""
    return json_response(status, body)


class SimControl:
    """Answers `/_sim/...` requests for one simulator app."""

    def __init__(self, app: SimulatorApp) -> None:
        self.app = app

    def __call__(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except ApiError as exc:
            return sim_json(exc.status, {"error": exc.detail})
        except (TypeError, ValueError) as exc:
            return sim_json(400, {"error": str(exc)})

    def _dispatch(self, request: Request) -> Response:
        app = self.app
        path = request.path[len(SIM_PREFIX) :].rstrip("/")
        method = request.method
        if path == "/stats" and method == "GET":
            stats = app.state.stats()
            stats["async_jobs"] = app.jobs.counts()
            stats["recent_auth_failures"] = list(app.auth_failures)
            return sim_json(200, stats)
        if path == "/oauth2/clients" and method == "GET":
            return sim_json(200, app.oauth2.clients())
        if path == "/oauth2/clients" and method == "POST":
            body = json_body(request)
            app.oauth2.register(body.get("client_id"), body.get("certificate_id"), body.get("public_key_pem"))
            return sim_json(200, app.oauth2.clients())
        if path.startswith("/records/") and method == "GET":
            record_type = canonical_type(path[len("/records/") :])
            if record_type is None:
                return sim_json(404, {"error": f"unknown record type; one of {list(RECORD_TYPES)}"})
            return sim_json(200, [_dump(r) for r in app.state.list_records(record_type)])
        if path.startswith("/records/") and method == "POST":
            record_type = canonical_type(path[len("/records/") :])
            if record_type is None:
                return sim_json(404, {"error": f"unknown record type; one of {list(RECORD_TYPES)}"})
            return sim_json(200, _upsert_many(app, record_type, _list_body(request)))
        if path == "/reset" and method == "POST":
            body = json_body(request, default={})
            app.state.reset(items=bool(body.get("items", False)))
            app.jobs.reset()
            app.role.restore()
            with app.state.lock:
                app.auth_failures.clear()
            return sim_json(200, {"ok": True})
        if path == "/role" and method == "GET":
            return sim_json(200, {"permissions": app.role.view()})
        if path == "/role" and method == "POST":
            body = json_body(request)
            unknown = sorted(set(body) - {"revoke", "levels", "restore"})
            if unknown:
                raise ValueError(f"unknown role fields {unknown}; known: levels, restore, revoke")
            if body.get("restore", False) is True:
                app.role.restore()
            app.role.change(revoke=body.get("revoke"), levels=body.get("levels"))
            return sim_json(200, {"permissions": app.role.view()})
        if path == "/items" and method == "GET":
            return sim_json(200, app.state.list_items())
        if path == "/items" and method == "POST":
            return sim_json(200, app.state.add_items(_list_body(request)))
        if path == "/taxcodes" and method == "GET":
            return sim_json(200, [i for i in app.state.list_items() if i["type"] == TAX_CODE_TYPE])
        if path == "/taxcodes" and method == "POST":
            entries = _list_body(request)
            if not all(isinstance(e, dict) for e in entries):
                raise ValueError("each tax code must be an object")
            return sim_json(200, app.state.add_items([{**e, "type": TAX_CODE_TYPE} for e in entries]))
        if path == "/currencies" and method == "GET":
            return sim_json(200, app.state.list_currencies())
        if path == "/currencies" and method == "POST":
            return sim_json(200, app.state.set_currencies(_list_body(request)))
        if path == "/inventory" and method == "POST":
            return sim_json(200, app.state.set_inventory(_list_body(request)))
        if path == "/inventory/seed" and method == "POST":
            return sim_json(200, app.state.seed_inventory(json_body(request, default={})))
        if path == "/config" and method == "GET":
            return sim_json(200, vars(app.state.settings()))
        if path == "/config" and method == "POST":
            return sim_json(200, vars(app.state.update_settings(check_settings(json_body(request)))))
        if path == "/faults" and method == "GET":
            return sim_json(200, {"faults": app.state.faults()})
        if path == "/faults" and method == "POST":
            return sim_json(200, {"faults": app.state.add_fault(_fault_from(json_body(request), now=app.clock.time()))})
        if path == "/faults" and method == "DELETE":
            app.state.clear_faults()
            return sim_json(200, {"faults": []})
        return sim_json(404, {"error": f"no such simulator endpoint: {method} {request.path}"})


def _upsert_many(app: SimulatorApp, record_type: str, entries: list[Any]) -> list[str]:
    """Seed records in bulk (benchmarks): each `{"externalId", "body", "replace"?: [sublist, ...]}` goes through
    the same rules as `PUT record/v1/<type>/eid:<externalId>?replace=...`, without auth, latency or call counts.
    Answers the internal ids in order; the first refused entry stops the batch (those before it stay)."""
    ids = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("externalId") or not isinstance(entry.get("body"), dict):
            raise ValueError(f"entry {n}: needs externalId and a body object")
        replace = {str(name) for name in entry.get("replace") or ()}
        ids.append(str(app.state.upsert(record_type, str(entry["externalId"]), entry["body"], replace).id))
    return ids


def _list_body(request: Request) -> list[dict[str, Any]]:
    body = json.loads(request.get_data(cache=True) or b"null")
    if not isinstance(body, list):
        raise ValueError("the body must be a JSON list")
    return body


def _dump(record: Record) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(record.id), **record.fields}
    if is_transaction(record.type):
        lines = record.lines or []
        data["item"] = {"items": lines, "totalResults": len(lines)}
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The changes a `/_sim/config` body asks for, checked (ValueError names the bad one); the app checks its
    start settings with it too, so a bad CLI value fails at start rather than mid-run."""
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name == "verify_auth":
            if not isinstance(value, bool):
                raise ValueError("verify_auth must be a boolean")
        elif name in (
            "latency_ms",
            "latency_jitter_ms",
            "concurrency_limit",
            "held_slots",
            "suiteql_lag_ms",
            "async_job_delay_ms",
        ):
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        elif name == "oauth2_token_ttl_s":
            if not _is_int(value) or value < 1:
                raise ValueError("oauth2_token_ttl_s must be a positive integer")
        elif name == "latency_distribution":
            if value not in LATENCY_DISTRIBUTIONS:
                raise ValueError(f"latency_distribution must be one of {list(LATENCY_DISTRIBUTIONS)}")
        elif name == "error_rate":
            if not _is_number(value) or not 0 <= value <= 1:
                raise ValueError("error_rate must be a number between 0 and 1")
            value = float(value)
        elif name == "error_status":
            if not _is_int(value) or not 400 <= value <= 599:
                raise ValueError("error_status must be an HTTP error status (400-599)")
        elif name == "seed":
            if value is not None and not _is_int(value):
                raise ValueError("seed must be an integer or null")
        elif name == "tax_mode":
            if value not in TAX_MODES:
                raise ValueError(f"tax_mode must be one of {list(TAX_MODES)}")
        else:
            raise ValueError(f"unknown setting {name!r}")
        changes[name] = value
    return changes


_FAULT_KEYS = frozenset(
    {"status", "count", "match", "mode", "delay_ms", "error_rate", "burst_429_s", "slow_ms", "apply_first"}
)


def _fault_from(body: dict[str, Any], *, now: float) -> Fault:
    unknown = sorted(set(body) - _FAULT_KEYS)
    if unknown:
        # A misspelt key would otherwise turn into a plain 503 fault nobody asked for.
        raise ValueError(f"unknown fault fields {unknown}; known: {sorted(_FAULT_KEYS)}")
    kinds = [name for name in ("error_rate", "burst_429_s", "slow_ms") if name in body]
    if len(kinds) > 1:
        raise ValueError(f"a fault is one of error_rate, burst_429_s or slow_ms, not {kinds}")
    kind = kinds[0] if kinds else None
    fault = Fault(
        status=body.get("status", 503),
        # Rate faults and bursts last until cleared (or the window ends) unless given a count.
        count=body.get("count", None if kind in ("error_rate", "burst_429_s") else 1),
        match=body.get("match"),
        mode=body.get("mode", "error"),
        delay_ms=body.get("delay_ms", 0),
    )
    if not _is_int(fault.status) or not 400 <= fault.status <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    if fault.count is not None and (not _is_int(fault.count) or fault.count < 1):
        raise ValueError("count must be a positive integer")
    if fault.match is not None and not isinstance(fault.match, str):
        raise ValueError('match must be a string like "PUT salesOrder" (shell wildcards allowed)')
    if fault.mode not in ("error", "drop", "drop_after"):
        raise ValueError("mode must be error, drop or drop_after")
    if not _is_int(fault.delay_ms) or fault.delay_ms < 0:
        raise ValueError("delay_ms must be a non-negative integer")
    if kind == "error_rate":
        rate = body["error_rate"]
        if not _is_number(rate) or not 0 < rate <= 1:
            raise ValueError("error_rate must be a number in (0, 1]")
        fault.error_rate = float(rate)
    elif kind == "burst_429_s":
        seconds = body["burst_429_s"]
        if not _is_number(seconds) or seconds <= 0:
            raise ValueError("burst_429_s must be a positive number of seconds")
        if body.get("status", 429) != 429 or body.get("mode", "error") != "error":
            raise ValueError("a burst answers the concurrency 429: leave status and mode out")
        fault.status = 429
        fault.burst_until = now + seconds
    elif kind == "slow_ms":
        fault.slow_ms = body["slow_ms"]
        if not _is_int(fault.slow_ms) or fault.slow_ms < 1:
            raise ValueError("slow_ms must be a positive integer")
        if "status" in body or "mode" in body:
            raise ValueError("a slow fault answers normally, late: leave status and mode out")
        fault.apply_first = body.get("apply_first", True)
        if not isinstance(fault.apply_first, bool):
            raise ValueError("apply_first must be a boolean")
        fault.mode = "slow"
    elif "apply_first" in body:
        raise ValueError("apply_first only goes with slow_ms")
    return fault
