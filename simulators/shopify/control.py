"""The Shopify simulator's control API under `/_sim` (no auth): stats, reset, configuration, faults, orders and
their fulfillments, refunds and cancellations, inventory, webhook subscriptions and deliveries, bulk results.
The endpoints are listed in `server.py`'s docstring; this module routes them over a `SimulatorApp`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from simulators.shopify import payments_control
from simulators.shopify.store import StoreError
from simulators.wsgi import json_body, json_response

if TYPE_CHECKING:
    from simulators.shopify.server import SimulatorApp

SIM_PREFIX = "/_sim"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def _json(status: int, body: Any) -> Response:
    return json_response(status, body, content_type=JSON_CONTENT_TYPE)


@dataclass
class Fault:
    kind: str  # error | drop | throttle
    remaining: int
    status: int = 503

    def as_json(self) -> dict[str, Any]:
        if self.kind == "throttle":
            return {"throttle_next": self.remaining}
        if self.kind == "drop":
            return {"mode": "drop", "count": self.remaining}
        return {"status": self.status, "count": self.remaining}


def _fault_from(body: dict[str, Any]) -> Fault:
    if "throttle_next" in body:
        count = body["throttle_next"]
        if not _is_count(count):
            raise ValueError("throttle_next must be a positive integer")
        return Fault("throttle", count)
    count = body.get("count", 1)
    if not _is_count(count):
        raise ValueError("count must be a positive integer")
    mode = body.get("mode", "error")
    if mode == "drop":
        return Fault("drop", count)
    if mode != "error":
        raise ValueError("mode must be error or drop")
    status = body.get("status", 503)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    return Fault("error", count, status)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class SimControl:
    """Answers `/_sim/...` requests for one simulator app."""

    def __init__(self, app: SimulatorApp) -> None:
        self.app = app

    def __call__(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except StoreError as exc:
            return _json(exc.status, {"error": exc.message})
        except (TypeError, ValueError, KeyError) as exc:
            return _json(400, {"error": str(exc)})

    def _dispatch(self, request: Request) -> Response:
        app = self.app
        path = request.path[len(SIM_PREFIX) :].rstrip("/")
        method = request.method
        if path == "/stats" and method == "GET":
            return _json(200, app.stats_view())
        if path == "/reset" and method == "POST":
            app.reset()
            return _json(200, {"ok": True})
        if path == "/config" and method == "GET":
            return _json(200, app.config_view())
        if path == "/config" and method == "POST":
            app.configure(json_body(request))
            return _json(200, app.config_view())
        if path == "/faults":
            if method == "POST":
                fault = _fault_from(json_body(request))
                with app.lock:
                    app.faults.append(fault)
            elif method == "DELETE":
                with app.lock:
                    app.faults.clear()
            elif method != "GET":
                return _json(405, {"error": "use GET, POST or DELETE"})
            with app.lock:
                return _json(200, {"faults": [f.as_json() for f in app.faults]})
        if path == "/orders" and method == "GET":
            return _json(200, app.store.all_orders())
        if path == "/orders" and method == "POST":
            return _json(200, {"ids": app.store.upsert(json_body(request, kinds=(dict, list)))})
        if path.startswith("/orders/"):
            return self._order(request, path[len("/orders/") :].split("/"))
        if path == "/webhooks/deliver" and method == "POST":
            return _json(200, app.deliver(json_body(request)).as_json())
        if path == "/webhooks" and method == "GET":
            with app.lock:
                return _json(200, list(app.webhook_log))
        if path.startswith("/bulk/") and path.endswith(".jsonl") and method == "GET":
            # No auth here; real Shopify hands out a signed, expiring cloud-storage URL instead.
            number = path[len("/bulk/") : -len(".jsonl")]
            file_path = app.bulk.file_path(int(number)) if number.isdigit() else None
            if file_path is None:
                return _json(404, {"error": f"no bulk operation result {number!r}"})
            return send_file(file_path, request.environ, mimetype="application/jsonl")
        if path.startswith("/payments/"):
            parts = path[len("/payments/") :].split("/")
            result = payments_control.payments(app.payments, request, parts, app.transaction_types)
            return payments_control.answer(result, _json, request)
        if path.startswith("/inventory/"):
            return self._inventory(request, path[len("/inventory/") :])
        if path == "/webhook_subscriptions" or path.startswith("/webhook_subscriptions/"):
            return self._subscriptions(request, path[len("/webhook_subscriptions") :].strip("/"))
        return _json(404, {"error": f"no such simulator endpoint: {method} {request.path}"})

    def _order(self, request: Request, parts: list[str]) -> Response:
        app = self.app
        method = request.method
        if not parts[0].isdigit():
            return _json(404, {"error": f"no order {parts[0]!r}"})
        order_id = int(parts[0])
        if len(parts) == 1 and method == "GET":
            order = app.store.get(order_id)
            return _json(404, {"error": f"no order {order_id}"}) if order is None else _json(200, order)
        if len(parts) == 1 and method == "DELETE":
            if not app.store.delete(order_id):
                return _json(404, {"error": f"no order {order_id}"})
            return _json(200, {"deleted": order_id})
        if len(parts) >= 2 and parts[1] == "transactions":
            result = payments_control.order_transactions(app.payments, request, order_id, parts[2:])
            return payments_control.answer(result, _json, request)
        if len(parts) == 2 and method == "POST":
            action = parts[1]
            if action == "fulfillments":
                return _json(200, {"fulfillment": app.store.add_fulfillment(order_id, json_body(request))})
            if action == "refunds":
                return _json(200, {"refund": app.store.add_refund(order_id, json_body(request))})
            if action == "edit":
                return _json(200, {"order": app.store.edit(order_id, json_body(request))})
            if action == "cancel":
                return _json(200, {"order": app.store.cancel(order_id, json_body(request, default={}))})
        return _json(404, {"error": f"no such simulator endpoint: {method} {request.path}"})

    def _inventory(self, request: Request, what: str) -> Response:
        app = self.app
        method = request.method
        if what == "locations" and method == "GET":
            return _json(
                200,
                [{"id": loc.id, "name": loc.name, "active": loc.active} for loc in app.inventory.sorted_locations()],
            )
        if what == "locations" and method == "POST":
            return _json(200, {"ids": app.inventory.add_locations(json_body(request, kinds=(dict, list)))})
        if what == "items" and method == "POST":
            return _json(200, {"ids": app.inventory.add_items(json_body(request, kinds=(dict, list)))})
        if what == "levels" and method == "POST":
            return _json(200, {"levels": app.inventory.set_levels(json_body(request, kinds=(dict, list)))})
        if what == "levels" and method == "GET":
            args = request.args
            item_id = args.get("inventory_item_id")
            location_id = args.get("location_id")
            return _json(
                200,
                app.inventory.levels_view(
                    sku=args.get("sku"),
                    item_id=int(item_id) if item_id else None,
                    location_id=int(location_id) if location_id else None,
                ),
            )
        if what == "seed" and method == "POST":
            return _json(200, app.inventory.seed(json_body(request)))
        return _json(404, {"error": f"no such simulator endpoint: {method} {request.path}"})

    def _subscriptions(self, request: Request, rest: str) -> Response:
        app = self.app
        method = request.method
        if rest == "" and method == "GET":
            return _json(200, [s.as_json() for s in app.subscriptions.list()])
        parts = rest.split("/")
        if not parts[0].isdigit():
            return _json(404, {"error": f"no such simulator endpoint: {method} {request.path}"})
        subscription_id = int(parts[0])
        if len(parts) == 1 and method == "DELETE":
            if not app.subscriptions.delete(subscription_id):
                return _json(404, {"error": f"no webhook subscription {subscription_id}"})
            return _json(200, {"deleted": subscription_id})
        if len(parts) == 2 and method == "POST" and parts[1] in ("fail", "succeed"):
            failures = 0
            if parts[1] == "fail":
                failures = json_body(request, default={}).get("count", 1)
                if not _is_count(failures):
                    raise ValueError("count must be a positive integer")
            outcome = app.subscriptions.record_deliveries(subscription_id, failures)
            if outcome is None:
                return _json(404, {"error": f"no webhook subscription {subscription_id}"})
            return _json(200, outcome)
        return _json(404, {"error": f"no such simulator endpoint: {method} {request.path}"})
