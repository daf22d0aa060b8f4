"""A Shopify Admin GraphQL API simulator (orders, inventory, webhook subscriptions): a WSGI app the real client
can talk to unchanged.

GraphQL endpoint `POST http://127.0.0.1:<port>/admin/api/<YYYY-MM>/graphql.json`, header
`X-Shopify-Access-Token`. Every document must first validate against Shopify's published schema
(`SimulatorConfig.published_schema`, default the shared 2026-04 reference beside the repository; see
`published_schema.py`), then runs on the simulator's own `schema.graphql`; orders are stored in the REST shape
of the webhook payloads and translated on read (`graphql_api.py`). Every answer carries `extensions.cost`; the
cost-based leaky bucket throttles like Shopify's (`cost.py`). `/_sim/...` (no auth) drives the simulator:

- `GET /_sim/stats`: `requests_total` (GraphQL endpoint, auth failures and faults included),
  `queries_by_root_field` (every request that parsed and validated, throttled ones included), `throttled`,
  `max_cost_exceeded`, `error_responses`, `points_spent` (actual costs), `points_requested`, `bucket`
  (throttleStatus now), `api_versions`, `auth_failures`, `faults_fired`, `orders`, `webhooks`,
  `mutations_by_name` (mutation fields executed, throttled requests not counted), `inventory_changes` ((item,
  location) rows applied by inventory mutations), `idempotent_replays`, `stale_rejections` (inventory mutation
  calls refused with CHANGE_FROM_QUANTITY_STALE), `idempotency_in_flight` (keyed mutations running now),
  `inventory` ({locations, items, levels}), `webhook_subscriptions` (count), `bulk_operations` (bulk query
  operations started).
- `POST /_sim/reset` (orders back to the seed orders; inventory, idempotency keys and webhook subscriptions
  emptied; stats, faults, bucket full; the configuration stays).
- `GET|POST /_sim/config`: any of `access_token`, `bucket_size` (a new size starts full), `restore_rate`,
  `latency_ms`, `max_query_cost`, `location_names` ({location id: name}), `mutation_latency_ms` (how long an
  inventory mutation holds its idempotency key before applying: makes IDEMPOTENCY_CONCURRENT_REQUEST testable),
  `bulk_operation_latency_ms` (the least time a bulk operation stays RUNNING: makes "already in progress"
  testable), `access_scopes` (the scopes granted to the app, `["read_orders", ...]`: what
  `currentAppInstallation.accessScopes` lists; the root fields they do not cover answer ACCESS_DENIED, see
  `access.py`; default: read_orders, read_inventory, write_inventory, read_locations).
- Bulk operations (`bulk.py`): `bulkOperationRunQuery` / `currentBulkOperation`; a completed operation's JSONL is
  served at `GET /_sim/bulk/<id>.jsonl` (no auth; real Shopify gives a signed cloud-storage URL).
- Inventory: `GET|POST /_sim/inventory/locations` `[{"id"?, "name", "active"?}]` answers `{"ids"}`;
  `POST /_sim/inventory/items` `[{"id"?, "sku", "tracked"?}]` answers `{"ids"}`; `POST /_sim/inventory/levels`
  `[{"inventory_item_id" | "sku", "location_id", "available", "on_hand"?}]` answers `{"levels": n}`;
  `GET /_sim/inventory/levels[?sku=&inventory_item_id=&location_id=]` lists `{sku, inventory_item_id,
  location_id, available, on_hand, updated_at}`; `POST /_sim/inventory/seed` `{"locations", "items",
  "available", "on_hand"?, "sku_prefix", "sku_width"?, "location_ids"?, "first_item_id"?}` replaces the whole
  inventory (100,000 items x 3 locations in well under a second) and answers the ids and SKUs it used.
- Webhook subscriptions: `GET /_sim/webhook_subscriptions`, `DELETE /_sim/webhook_subscriptions/<id>`,
  `POST /_sim/webhook_subscriptions/<id>/fail` `{"count": n}` (n failed deliveries in a row; the 8th
  consecutive one deletes the subscription, as Shopify does) and `.../succeed` (resets the run).
- `GET|POST /_sim/orders`: a REST order, a list of them or `{"orders": [...]}`; creates or replaces by id,
  answers `{"ids": [...]}`. `GET|DELETE /_sim/orders/<id>`.
- `POST /_sim/orders/<id>/fulfillments` (REST fulfillment; lines default to all that is unfulfilled) answers
  `{"fulfillment"}`; `POST /_sim/orders/<id>/refunds` (REST refund; without `transactions` one successful refund
  of the lines' price and tax) answers `{"refund"}`; `POST /_sim/orders/<id>/cancel` `{"reason"?}` answers
  `{"order"}`; `POST /_sim/orders/<id>/edit` `{"line_items": [{"id", "quantity"}], "total_price"?}` commits an
  order edit (lines' current quantity; 422 below what has shipped) and answers `{"order"}`. Each bumps the
  order's updated_at and derives fulfillment_status / financial_status.
- Shopify Payments (`payments.py`; endpoints in `payments_control.py`): `Order.transactions`,
  `shopifyPaymentsAccount { payouts balanceTransactions disputes balance }` and `dispute(id)`, generated from the
  orders; `/_sim/orders/<id>/transactions[/expire]` (capture, void, sale, expiry) and `/_sim/payments/...` (payout
  runs, payout status after PAID, reserves, rare balance transaction types, disputes).
- `GET|POST|DELETE /_sim/faults`: `{"status": 503, "count": 1}` the next GraphQL requests get that status;
  `{"mode": "drop", "count": 1}` their connection is closed unanswered; `{"throttle_next": 2}` they are answered
  THROTTLED without touching the bucket.
- `POST /_sim/webhooks/deliver` `{"url", "topic", "payload", "secret", "shop"?, "api_version"?, "webhook_id"?,
  "event_id"?}` (or `resource_id` instead of `payload` for orders/paid, order_transactions/create, disputes/create
  and disputes/update: the simulator builds the body) delivers one signed webhook as Shopify would and answers
  `{"status", "webhook_id", "event_id",
  "error"?}`; `GET /_sim/webhooks` lists recent deliveries.
"""

# The /_sim routes are answered by control.py; the command line (`python -m simulators.shopify`) is cli.py.

from __future__ import annotations

import copy
import hmac
import json
import logging
import re
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from werkzeug.wrappers import Request, Response

from simulators import wsgi
from simulators.shopify.access import (
    DEFAULT_ACCESS_SCOPES,
    app_installation,
    check_scopes,
    field_allowed,
    guard_root,
)
from simulators.shopify.bulk import BulkOperations
from simulators.shopify.control import JSON_CONTENT_TYPE, SIM_PREFIX, Fault, SimControl
from simulators.shopify.cost import SINGLE_QUERY_MAX_COST, LeakyBucket, actual_cost, requested_cost
from simulators.shopify.graphql_api import OrderView, RequestContext, ShopContext, load_schema, root_value
from simulators.shopify.inventory import IdempotencyRegistry, InventoryStore
from simulators.shopify.inventory_api import InventoryContext, InventoryViews, inventory_root
from simulators.shopify.payments import PaymentsLedger
from simulators.shopify.payments_api import order_transactions, payments_root
from simulators.shopify.payments_control import BUILT_TOPICS, build_payload
from simulators.shopify.published_schema import (
    DEFAULT_PUBLISHED_SCHEMA,
    PublishedSchemaValidator,
    default_published_schema,
)
from simulators.shopify.store import OrderStore
from simulators.shopify.subscriptions import SubscriptionStore
from simulators.shopify.webhooks import DEFAULT_API_VERSION, Delivery, send_webhook

GRAPHQL_PATH = re.compile(r"^/admin/api/(?P<version>[^/]+)/graphql\.json$")
API_VERSION_PATTERN = re.compile(r"^(\d{4}-\d{2}|unstable)$")
INVALID_TOKEN_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"
WEBHOOK_LOG_SIZE = 200
LOG = logging.getLogger("simulators.shopify")

# graphql-core's validation messages -> the codes Shopify (graphql-ruby) puts in extensions.code. Anything not
# listed gets GRAPHQL_VALIDATION_FAILED; the codes are the simulator's choice where Shopify's are not documented.
_VALIDATION_CODES = (
    ("Cannot query field", "undefinedField"),
    ("Unknown argument", "argumentNotAccepted"),
    ("Unknown type", "undefinedType"),
    ("Unknown fragment", "undefinedFragment"),
    ("is never used", "variableNotUsed"),
    ("is not defined", "undefinedVariable"),
    ("is required, but it was not provided", "missingRequiredArguments"),
    ("must have a selection of subfields", "selectionMismatch"),
    ("must not have a selection", "selectionMismatch"),
    ("cannot represent", "argumentLiteralsIncompatible"),
    ("Expected value of type", "argumentLiteralsIncompatible"),
)


@dataclass
class SimulatorConfig:
    shop: str = "demo-store.myshopify.com"
    # A fixed development credential of a local simulator, not a secret.
    access_token: str = "shpat_sim_token"  # noqa: S105
    api_version: str = DEFAULT_API_VERSION
    bucket_size: int = 1000
    restore_rate: float = 100.0
    latency_ms: int = 0
    seed_orders: list[dict[str, Any]] = field(default_factory=list)
    shop_name: str = "Demo Store"
    currency: str = "USD"
    # Shopify's single-query ceiling; the effective one is the smaller of this and the bucket size.
    max_query_cost: int = SINGLE_QUERY_MAX_COST
    location_names: dict[int, str] = field(default_factory=dict)
    mutation_latency_ms: int = 0
    # the least time a bulk operation stays RUNNING (makes "already in progress" testable)
    bulk_operation_latency_ms: int = 0
    # The access scopes granted to the app (currentAppInstallation.accessScopes); root fields that need another
    # one answer ACCESS_DENIED (access.py). Default: what the service needs.
    access_scopes: list[str] = field(default_factory=lambda: list(DEFAULT_ACCESS_SCOPES))
    # Shopify's published Admin GraphQL schema (introspection JSON): every incoming document must validate against
    # it before the simulator's own schema runs it, so a field real Shopify lacks fails here as in production.
    # Default: the shared reference beside the repository when it is there; None validates on schema.graphql only.
    published_schema: str | None = field(default_factory=default_published_schema)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return wsgi.json_response(status, body, headers, content_type=JSON_CONTENT_TYPE)


def _format_error(error: GraphQLError, default_code: str) -> dict[str, Any]:
    formatted = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        extensions["code"] = default_code
    formatted["extensions"] = extensions
    return formatted


def _validation_code(message: str) -> str:
    for fragment, code in _VALIDATION_CODES:
        if fragment in message:
            return code
    return "GRAPHQL_VALIDATION_FAILED"


def _root_field_names(document: DocumentNode, operation: OperationDefinitionNode) -> list[str]:
    """Names of the operation's root fields, through fragments, each once."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: list[str] = []
    pending = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if not name.startswith("__") and name not in names:
                    names.append(name)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                pending.append(fragments.pop(selection.name.value).selection_set)
    return names


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests_total = 0
            self.queries_by_root_field: Counter[str] = Counter()
            self.throttled = 0
            self.max_cost_exceeded = 0
            self.error_responses = 0
            self.points_spent = 0
            self.points_requested = 0
            self.api_versions: Counter[str] = Counter()
            self.auth_failures = 0
            self.faults_fired = 0
            self.webhooks: Counter[str] = Counter()
            self.mutations_by_name: Counter[str] = Counter()
            self.inventory_changes = 0
            self.idempotent_replays = 0
            self.stale_rejections = 0
            self.bulk_operations = 0

    def add(self, name: str, amount: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)


@dataclass
class Outcome:
    """A GraphQL answer: the JSON body and its HTTP status."""

    body: dict[str, Any]
    status: int = 200


class SimulatorApp:
    """The WSGI application. `store` holds the orders (tests may use it directly)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = copy.deepcopy(config)
        _check_config(vars(self.config))
        self.config.access_scopes = check_scopes(self.config.access_scopes)
        self.schema: GraphQLSchema = load_schema()
        self.published = (
            PublishedSchemaValidator(self.config.published_schema) if self.config.published_schema else None
        )
        if self.published is None:
            LOG.warning(
                "Shopify's published Admin GraphQL schema is not configured (looked for %s): documents are validated "
                "against the simulator's own schema only, so a field real Shopify lacks is NOT refused",
                DEFAULT_PUBLISHED_SCHEMA,
            )
        self.store = OrderStore(self.config.seed_orders)
        self.payments = PaymentsLedger(self.store, lambda: self.config.currency)
        enum = self.schema.type_map["ShopifyPaymentsTransactionType"]
        self.transaction_types = frozenset(enum.values)  # type: ignore[attr-defined]
        self.bucket = LeakyBucket(self.config.bucket_size, self.config.restore_rate)
        self.stats = Stats()
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.webhook_log: deque[dict[str, Any]] = deque(maxlen=WEBHOOK_LOG_SIZE)
        self.inventory = InventoryStore()
        self.idempotency = IdempotencyRegistry()
        self.subscriptions = SubscriptionStore(lambda: self.config.api_version)
        self.inventory_context = InventoryContext(
            self.inventory,
            self.idempotency,
            self.subscriptions,
            self.stats.add,
            lambda: self.config.mutation_latency_ms / 1000,
        )
        self.bulk = BulkOperations(
            self.schema,
            self.inventory,
            lambda: self.config.bulk_operation_latency_ms / 1000,
            published=self.published,
        )
        self.control = SimControl(self)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        match = GRAPHQL_PATH.match(request.path)
        if match is not None:
            response = self._graphql_endpoint(request, match.group("version"))
        elif request.path.startswith(SIM_PREFIX + "/"):
            response = self.control(request)
        else:
            response = _json(404, {"errors": "Not Found"})
        return response(environ, start_response)

    # GraphQL endpoint

    def _shop_context(self) -> ShopContext:
        return ShopContext(
            self.config.shop_name,
            self.config.shop,
            self.config.currency,
            self.config.location_names,
            InventoryViews(self.inventory).location_by_id,
            lambda order, money: order_transactions(self.payments, order, money),
        )

    def _graphql_endpoint(self, request: Request, version: str) -> Response:
        if not API_VERSION_PATTERN.match(version):
            return _json(404, {"errors": "Not Found"})
        with self.stats.lock:
            self.stats.requests_total += 1
            self.stats.api_versions[version] += 1
        headers = {"X-Shopify-API-Version": version, "X-Request-Id": str(uuid.uuid4())}
        if self.config.latency_ms > 0:
            time.sleep(self.config.latency_ms / 1000)
        token = request.headers.get("X-Shopify-Access-Token", "")
        if not _constant_time_equal(token, self.config.access_token):
            self.stats.add("auth_failures")
            return _json(401, INVALID_TOKEN_BODY, headers)
        fault = self._take_fault(("error", "drop"))
        if fault is not None:
            self.stats.add("faults_fired")
            if fault.kind == "drop":
                return wsgi.drop_connection(request)
            if fault.status == 429:
                # The REST Admin API's answer to a request-rate limit (API_FACTS); GraphQL itself throttles by cost.
                headers["Retry-After"] = "2.0"
            return _json(fault.status, {"errors": HTTPStatus(fault.status).phrase}, headers)
        if request.method != "POST":
            return _json(405, {"errors": "Method Not Allowed"}, {**headers, "Allow": "POST"})
        try:
            query, variables, operation_name = self._read_request(request)
        except ValueError as exc:
            return _json(400, {"errors": str(exc)}, headers)
        if not query:
            return _json(400, {"errors": {"query": "Required parameter missing or invalid"}}, headers)
        try:
            outcome = self.execute(query, variables, operation_name, base_url=request.host_url)
        except Exception:  # noqa: BLE001 - a simulator bug must still look like Shopify's internal error
            traceback.print_exc()
            request_id = headers["X-Request-Id"]
            outcome = Outcome(
                {
                    "errors": [
                        {
                            "message": f"Internal error. Looks like something went wrong on our end.\n"
                            f"Request ID: {request_id} (include this in support requests).",
                            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                        }
                    ]
                }
            )
        if outcome.body.get("errors"):
            self.stats.add("error_responses")
        return _json(outcome.status, outcome.body, headers)

    @staticmethod
    def _read_request(request: Request) -> tuple[str | None, dict[str, Any] | None, str | None]:
        data = request.get_data(cache=True)
        if request.mimetype == "application/graphql":
            return data.decode("utf-8"), None, None
        try:
            body = json.loads(data or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValueError("Invalid JSON in request body") from None
        if not isinstance(body, dict):
            raise ValueError("The request body must be a JSON object")
        variables = body.get("variables")
        if isinstance(variables, str):
            variables = json.loads(variables) if variables.strip() else None
        if variables is not None and not isinstance(variables, dict):
            raise ValueError("variables must be a JSON object")
        query = body.get("query")
        if query is not None and not isinstance(query, str):
            raise ValueError("query must be a string")
        operation_name = body.get("operationName") or None
        return query, variables, operation_name

    def _cost_extension(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }

    def _errors(self, errors: list[dict[str, Any]], requested: int = 0) -> Outcome:
        return Outcome({"errors": errors, "extensions": self._cost_extension(requested, 0)})

    def _query_root(self) -> dict[str, Any]:
        shop = self._shop_context()

        def order_node(order_id: int) -> dict[str, Any] | None:
            order = self.store.get(order_id)
            return OrderView(order, shop).node() if order is not None else None

        return {
            **root_value(self.store, shop),
            **inventory_root(self.inventory_context),
            **payments_root(self.payments, self.config.currency, order_node),
        }

    def _bulk_root(self, base_url: str) -> dict[str, Any]:
        """bulkOperationRunQuery and currentBulkOperation (bulk.py). The mutation costs 10 points like any
        mutation; the bulk query's own execution spends nothing from the bucket, as on Shopify."""

        def run_query(_info: Any, query: str) -> dict[str, Any]:
            created, errors = self.bulk.run_query(query, self._query_root, RequestContext)
            if created is not None:
                self.stats.add("bulk_operations")
            return {"bulkOperation": created.view(base_url) if created else None, "userErrors": errors}

        def current(_info: Any, type: str = "QUERY") -> dict[str, Any] | None:  # noqa: A002 - GraphQL's name
            if type != "QUERY":
                return None  # bulk mutations are not simulated
            operation = self.bulk.snapshot(self.bulk.current)
            return operation.view(base_url) if operation is not None else None

        return {"bulkOperationRunQuery": run_query, "currentBulkOperation": current}

    def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        base_url: str = "http://127.0.0.1/",
    ) -> Outcome:
        """Run one GraphQL request through parsing, validation, cost, throttle and execution."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return self._errors([_format_error(error, "GRAPHQL_PARSE_FAILED")])
        # Shopify's own schema first (what production would refuse), then the simulator's (what it can run).
        validation_errors = self.published.validate(query, document) if self.published is not None else []
        if not validation_errors:
            validation_errors = validate(self.schema, document)
        if validation_errors:
            return self._errors([_format_error(e, _validation_code(e.message)) for e in validation_errors])
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            message = (
                f"No operation named '{operation_name}'"
                if operation_name
                else "An operation name is required when sending multiple operations."
            )
            return self._errors([{"message": message, "extensions": {"code": "OPERATION_NOT_FOUND"}}])
        with self.stats.lock:
            self.stats.queries_by_root_field.update(_root_field_names(document, operation))
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            return self._errors([_format_error(e, "variableMismatch") for e in coerced])
        # graphql-core 3.3 wraps the values (`.coerced`); 3.2 returned the dict itself.
        coerced = getattr(coerced, "coerced", coerced)
        cost = requested_cost(self.schema, document, operation, coerced)
        requested = cost.requested
        if cost.errors:
            return self._errors([_format_error(e, "BAD_REQUEST") for e in cost.errors], requested)
        max_cost = min(self.bucket.size, self.config.max_query_cost)
        if requested > max_cost:
            self.stats.add("max_cost_exceeded")
            return self._max_cost_exceeded(requested, int(max_cost))
        if self._take_fault(("throttle",)) is not None:
            self.stats.add("faults_fired")
            return self._throttled(requested)
        if not self.bucket.try_take(requested):
            return self._throttled(requested)
        scopes = list(self.config.access_scopes)
        if operation.operation == OperationType.MUTATION:
            # A field the scopes do not cover is refused, not executed.
            executed = [name for name in _root_field_names(document, operation) if field_allowed(name, scopes)]
            with self.stats.lock:
                self.stats.mutations_by_name.update(executed)
        context = RequestContext()
        root = {**self._query_root(), **self._bulk_root(base_url), "currentAppInstallation": app_installation(scopes)}
        result = execute_sync(
            self.schema,
            document,
            root_value=guard_root(root, scopes),
            context_value=context,
            variable_values=variables or {},
            operation_name=operation_name,
        )
        actual = actual_cost(self.schema, document, operation, coerced, result.data, requested)
        self.bucket.give_back(requested - actual)
        with self.stats.lock:
            self.stats.points_spent += actual
            self.stats.points_requested += requested
        body: dict[str, Any] = {}
        if result.errors:
            for error in result.errors:
                if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
                    traceback.print_exception(error.original_error)
            body["errors"] = [_format_error(e, "INTERNAL_SERVER_ERROR") for e in result.errors]
        body["data"] = result.data
        extensions = self._cost_extension(requested, actual)
        if context.search:
            extensions["search"] = context.search
        body["extensions"] = extensions
        return Outcome(body)

    def _throttled(self, requested: int) -> Outcome:
        self.stats.add("throttled")
        return Outcome(
            {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC},
                    }
                ],
                "extensions": self._cost_extension(requested, None),
            }
        )

    def _max_cost_exceeded(self, requested: int, max_cost: int) -> Outcome:
        message = (
            f"Query cost is {requested}, which exceeds the single query max cost limit ({max_cost}).\n\n"
            f"See {RATE_LIMITS_DOC} for more information on how the cost of a query is calculated.\n\n"
            "To query larger amounts of data with fewer limits, bulk operations should be used instead."
        )
        return Outcome(
            {
                "errors": [
                    {
                        "message": message,
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": max_cost},
                    }
                ],
                "extensions": self._cost_extension(requested, None),
            }
        )

    def _take_fault(self, kinds: Sequence[str]) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # operations shared by the control API and Python callers

    def reset(self) -> None:
        self.store.reset(self.config.seed_orders)
        self.payments.reset()
        self.inventory.reset()
        self.idempotency.reset()
        self.subscriptions.reset()
        self.bulk.reset()
        self.stats.reset()
        self.bucket.refill_fully()
        with self.lock:
            self.faults.clear()
            self.webhook_log.clear()

    def configure(self, changes: dict[str, Any]) -> None:
        _check_config(changes)
        unknown = set(changes) - CONFIGURABLE
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; one of {sorted(CONFIGURABLE)}")
        if "location_names" in changes:
            changes = {**changes, "location_names": {int(k): str(v) for k, v in changes["location_names"].items()}}
        if "access_scopes" in changes:
            changes = {**changes, "access_scopes": check_scopes(changes["access_scopes"])}
        for name, value in changes.items():
            setattr(self.config, name, value)
        if "bucket_size" in changes or "restore_rate" in changes:
            self.bucket.configure(changes.get("bucket_size"), changes.get("restore_rate"))

    def config_view(self) -> dict[str, Any]:
        return {
            "shop": self.config.shop,
            "access_token": self.config.access_token,
            "api_version": self.config.api_version,
            "bucket_size": self.config.bucket_size,
            "restore_rate": self.config.restore_rate,
            "latency_ms": self.config.latency_ms,
            "max_query_cost": self.config.max_query_cost,
            "location_names": {str(k): v for k, v in self.config.location_names.items()},
            "mutation_latency_ms": self.config.mutation_latency_ms,
            "bulk_operation_latency_ms": self.config.bulk_operation_latency_ms,
            "access_scopes": list(self.config.access_scopes),
        }

    def stats_view(self) -> dict[str, Any]:
        bucket = self.bucket.status()
        with self.stats.lock:
            return {
                "requests_total": self.stats.requests_total,
                "queries_by_root_field": dict(self.stats.queries_by_root_field),
                "throttled": self.stats.throttled,
                "max_cost_exceeded": self.stats.max_cost_exceeded,
                "error_responses": self.stats.error_responses,
                "points_spent": self.stats.points_spent,
                "points_requested": self.stats.points_requested,
                "bucket": bucket,
                "api_versions": dict(self.stats.api_versions),
                "auth_failures": self.stats.auth_failures,
                "faults_fired": self.stats.faults_fired,
                "orders": self.store.count(),
                "webhooks": {
                    "sent": self.stats.webhooks["sent"],
                    "succeeded": self.stats.webhooks["succeeded"],
                    "failed": self.stats.webhooks["failed"],
                },
                "mutations_by_name": dict(self.stats.mutations_by_name),
                "inventory_changes": self.stats.inventory_changes,
                "idempotent_replays": self.stats.idempotent_replays,
                "stale_rejections": self.stats.stale_rejections,
                "idempotency_in_flight": self.idempotency.in_flight(),
                "inventory": self.inventory.counts(),
                "webhook_subscriptions": self.subscriptions.count(),
                "bulk_operations": self.stats.bulk_operations,
                "payments": self.payments.counts(),
            }

    def deliver(self, body: dict[str, Any]) -> Delivery:
        for name in ("url", "topic", "secret"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ValueError(f"{name} is required (a string)")
        if "payload" not in body and body["topic"] in BUILT_TOPICS and "resource_id" in body:
            body = {**body, "payload": build_payload(self.payments, body["topic"], body["resource_id"])}
        if "payload" not in body:
            raise ValueError(f"payload is required (or resource_id for {', '.join(sorted(BUILT_TOPICS))})")
        delivery = send_webhook(
            body["url"],
            body["topic"],
            body["payload"],
            secret=body["secret"],
            shop=body.get("shop") or self.config.shop,
            api_version=body.get("api_version") or self.config.api_version,
            webhook_id=body.get("webhook_id"),
            event_id=body.get("event_id"),
        )
        with self.stats.lock:
            self.stats.webhooks["sent"] += 1
            self.stats.webhooks["succeeded" if delivery.ok else "failed"] += 1
        with self.lock:
            self.webhook_log.append({"url": body["url"], "topic": body["topic"], **delivery.as_json()})
        return delivery


CONFIGURABLE = frozenset(
    {
        "access_token",
        "bucket_size",
        "restore_rate",
        "latency_ms",
        "max_query_cost",
        "location_names",
        "mutation_latency_ms",
        "bulk_operation_latency_ms",
        "access_scopes",
    }
)


def _check_config(values: dict[str, Any]) -> None:
    """The same checks for the constructor and /_sim/config, so a bad CLI value fails at start."""
    if "access_token" in values and not isinstance(values["access_token"], str):
        raise ValueError("access_token must be a string")
    for name in ("bucket_size", "restore_rate", "max_query_cost"):
        if name in values and (not _is_number(values[name]) or values[name] <= 0):
            raise ValueError(f"{name} must be a positive number")
    for name in ("latency_ms", "mutation_latency_ms", "bulk_operation_latency_ms"):
        if name in values and (not _is_number(values[name]) or values[name] < 0):
            raise ValueError(f"{name} must be a number >= 0")
    if "location_names" in values and not isinstance(values["location_names"], dict):
        raise ValueError("location_names must be an object {location id: name}")
    if "access_scopes" in values:
        check_scopes(values["access_scopes"])


def _constant_time_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


# running it


def create_app(config: SimulatorConfig) -> SimulatorApp:
    """The simulator as a WSGI application."""
    return SimulatorApp(config)


def graphql_url(base_url: str, api_version: str = DEFAULT_API_VERSION) -> str:
    return f"{base_url}/admin/api/{api_version}/graphql.json"


def serve(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8091, *, quiet: bool = False) -> None:
    """Run the simulator in the foreground until interrupted."""
    server = wsgi.make_wsgi_server(create_app(config), host, port, quiet=quiet)
    base = f"http://{host}:{server.port}"
    banner = (
        f"Shopify simulator for {config.shop} on {graphql_url(base, config.api_version)} "
        f"(token {config.access_token}; control: {base}{SIM_PREFIX}/stats)\n"
        + (
            f"validating documents against Shopify's published schema {config.published_schema}"
            if config.published_schema
            else "WARNING: no published Shopify schema: documents are validated against the simulator's own schema only"
        )
    )
    wsgi.serve_forever(server, banner)


def start_in_thread(
    config: SimulatorConfig, port: int = 0, host: str = "127.0.0.1"
) -> tuple[wsgi.SimulatorServer, str]:
    """Start the simulator on a daemon thread; (server, base URL `http://127.0.0.1:<port>`).
    `server.app` is the SimulatorApp; stop it with server.shutdown()."""
    server = wsgi.start_in_thread(create_app(config), host, port, name="shopify-simulator")
    return server, f"http://{host}:{server.port}"
