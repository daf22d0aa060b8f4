"""A NetSuite REST web services simulator: a WSGI app the real client can talk to unchanged.

Base URL `http://127.0.0.1:<port>/services/rest`. Token-Based Authentication and OAuth 2.0 bearer tokens
(`oauth2.py`), the account-wide concurrency cap, records with NetSuite's sublist semantics, transforms, SuiteQL
over an SQLite mirror of the state (`mirror.py`: tables and columns), and asynchronous requests (`async_jobs.py`).
Transactions' totals are computed as NetSuite computes them, never taken from the client (`totals.py`: the rules,
tax modes and every UNCONFIRMED choice); item types, tax codes and currencies are in `catalog.py`. Money records
(`payments.py`: the rules, statuses and UNCONFIRMED choices): receipts `customerDeposit` (in Undeposited Funds unless
an `account` is given), `cashSale` and `invoice` (transformed from a sales order, or upserted with `createdFrom`),
`customerPayment` (applied to invoices), refunds `cashRefund` and `customerRefund` (applying credit memos and
customer deposits), and the bank `deposit` (payment lines must be undeposited receipts, each deposited once; other
and cash-back lines are not keyed; total = payments + other - cash back, computed). `/_sim/...`
(no auth) exposes stats, records, configuration and fault injection for tests and demos:

- `GET /_sim/stats`; `GET /_sim/records/<type>`; `POST /_sim/records/<type>` `[{"externalId", "body",
  "replace"?: [sublist]}]` (seeding: each an upsert by external id under the REST rules, uncounted, no latency);
  `POST /_sim/reset` `{"items": bool}` (items: also drops every
  item and tax code; currencies always stay).
- `GET|POST /_sim/items`: POST a list of `{"itemid", "displayname"?, "type"?, "rate"?, "istaxable"?, "ispretax"?,
  "externalid"?, "quantityonhand"?, "quantityavailable"?, "location"?}`; `type` is an item record type or its
  itemtype code (`inventoryItem` default, `kitItem`/`Kit`, `nonInventorySaleItem`/`NonInvtPart`,
  `otherChargeSaleItem`/`OthCharge`, `serviceSaleItem`/`Service`, `discountItem`/`Discount`,
  `giftCertificateItem`/`GiftCert`, `salesTaxItem`);
  `rate` is the item's own rate (a price; a discount's amount or "-10%"; a tax code's percent, required);
  quantities only for inventory items. An existing itemid is updated (its type cannot change). Answers (and GET
  lists, by id) `{"id", "itemid", "displayname", "type", "itemtype", "rate"?, "externalid"?, "istaxable"?,
  "ispretax"?}`; `ispretax` (discount items only) is NetSuite's "Apply Before Sales Tax" (totals.py).
- `GET|POST /_sim/taxcodes` `[{"itemid": "CA-SF", "rate": 8.625}]`: the same for sales tax codes (`salesTaxItem`).
- `GET|POST /_sim/currencies` `[{"symbol": "JPY", "name"?, "exchangerate"?}]`: add a currency or change one's
  default rate (by ISO symbol). Seeded: 1 USD (base), 2 GBP, 3 CAD, 4 EUR.
- `POST /_sim/inventory`; `POST /_sim/inventory/seed` `{"items", "sku_prefix", "sku_width", "location_ids", "available",
  "quantities"?: {"<sku>@<location>": n}}` (benchmarks: 100,000 items in seconds);
  `GET|POST /_sim/oauth2/clients` `{"client_id", "certificate_id", "public_key_pem"}`.
- `GET|POST /_sim/config`: any of `latency_ms`, `latency_jitter_ms`, `latency_distribution` (uniform | normal |
  lognormal, see `Settings`; a draw is a /services/rest request's whole answer time, the simulator's own work
  included: the request is handled at once and its answer waits out the rest), `concurrency_limit`, `held_slots`,
  `verify_auth`, `suiteql_lag_ms`, `error_rate` (0..1, on every /services/rest call), `error_status`, `seed` (int
  or null: re-seeds the random draws), `oauth2_token_ttl_s`, `async_job_delay_ms`, `tax_mode` (`legacy`, the
  default: tax from tax codes, tax details refused | `suitetax`: Tax Details Override accepted; totals.py).
  Settings survive `/_sim/reset`.
- `GET|POST /_sim/role`: the integration role's permissions (`permissions.py`), each at Full by default.
  `{"revoke": ["LIST_CUSTJOB", "Items (Lists)", ...]}` takes permissions away (ids, names or labels as in
  docs/PERMISSIONS.md), `{"levels": {"Customers (Lists)": "VIEW"}}` sets levels (NONE, VIEW, CREATE, EDIT, FULL),
  `{"restore": true}` gives everything back (applied first). Requests the role may not make answer
  `403 INSUFFICIENT_PERMISSION` naming the permission. `/_sim/reset` restores the full role.
- `GET|POST|DELETE /_sim/faults`. A fault fires on requests whose operation (`"PUT salesOrder"`,
  `"POST suiteql"`, `"GET async/job"`, `"POST oauth2/token"`, as in `calls_by_operation`) matches `match` (shell
  wildcards; none = every /services/rest call, never the token endpoint). The first fault that fires wins:
    `{"status": 503, "count": 2, "match"?, "mode"?: "error"|"drop"|"drop_after", "delay_ms"?}` the next `count`
        matching requests fail (drop: connection closed unanswered; drop_after: applied, then closed);
    `{"error_rate": 0.1, "status"?: 503, "match"?, "count"?, "mode"?}` each matching request fails with that
        probability, until cleared (or `count` failures);
    `{"burst_429_s": 2.0, "match"?}` every matching request for that many seconds gets the concurrency 429;
    `{"slow_ms": 35000, "count"?: 1, "match"?, "apply_first"?: true}` the response comes that much later,
        holding the concurrency slot; the work is done first (or, with apply_first false, after the wait).
  Faults are forgotten by `/_sim/reset`.
"""

# The /_sim routes are answered by control.py; the command line (`python -m simulators.netsuite`) is cli.py.

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from werkzeug.wrappers import Request, Response

from simulators import wsgi
from simulators.clock import REAL_CLOCK, Clock
from simulators.netsuite.async_jobs import (
    IDEMPOTENCY_HEADER,
    UUID_PATTERN,
    AsyncJobs,
    Job,
    JobResult,
    job_url,
    job_view,
    task_view,
    tasks_view,
)
from simulators.netsuite.control import SIM_PREFIX, SimControl, check_settings, sim_json
from simulators.netsuite.oauth2 import TOKEN_OPERATION, TOKEN_PATH, OAuth2Error, OAuth2Registry
from simulators.netsuite.payments import EXPANDABLE_SUBLISTS, NO_ITEM_LINES
from simulators.netsuite.permissions import Role
from simulators.netsuite.state import (
    SUITEQL_ROW_CEILING,
    ApiError,
    Fault,
    Record,
    RecordRef,
    Settings,
    State,
    canonical_type,
    is_transaction,
    transaction_total,
)

REST_PREFIX = "/services/rest"
TIMESTAMP_WINDOW_S = 300
SUITEQL_MAX_LIMIT = 1000

DEFAULT_SEED_ITEMS: list[tuple[str, str]] = [
    # The SKUs of the shared Shopify fixtures, so the demo order maps onto existing items.
    ("IPOD2008GREEN", "IPod Nano - 8GB Green"),
    ("IPOD2008RED", "IPod Nano - 8GB Red"),
    ("IPOD2008BLACK", "IPod Nano - 8GB Black"),
    ("DEMO-TSHIRT-M", "Demo T-Shirt (M)"),
    ("DEMO-MUG", "Demo Mug"),
]


@dataclass
class SimulatorConfig:
    account_id: str = "1234567_SB1"
    consumer_key: str = "sim-consumer-key"
    # Fixed development credentials of a local simulator, not secrets.
    consumer_secret: str = "sim-consumer-secret"  # noqa: S105
    token_id: str = "sim-token-id"  # noqa: S105
    token_secret: str = "sim-token-secret"  # noqa: S105
    concurrency_limit: int = 15
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    seed_items: list[tuple[str, str]] = field(default_factory=lambda: list(DEFAULT_SEED_ITEMS))
    verify_auth: bool = True
    seed_locations: list[str] = field(default_factory=lambda: ["Main Warehouse"])
    # On-hand (and available) quantity of every seeded item at every seeded location.
    seed_quantity: int = 100
    # OAuth 2.0 M2M: client id -> {certificate id: PEM public key or certificate}.
    oauth2_clients: dict[str, dict[str, str]] = field(default_factory=dict)
    oauth2_token_ttl_s: int = 3600
    latency_distribution: str = "uniform"
    held_slots: int = 0
    suiteql_lag_ms: int = 0
    error_rate: float = 0.0
    seed: int | None = None
    async_job_delay_ms: int = 0
    # "legacy" or "suitetax" (totals.py): how the account taxes transactions.
    tax_mode: str = "legacy"
    # Where simulated time comes from (token expiry, 429 bursts, async job delay and timestamps, SuiteQL lag);
    # tests pass a clock.ManualClock to step through it. Request latency stays a real wait.
    clock: Clock = REAL_CLOCK


# Token-Based Authentication


@dataclass(frozen=True)
class TbaCredentials:
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


def netsuite_realm(account_id: str) -> str:
    """The OAuth realm NetSuite expects: the account id uppercased with `_` (`1234567_SB1`)."""
    return account_id.strip().upper().replace("-", "_")


def tba_signature(
    method: str, url: str, params: Iterable[tuple[str, str]], consumer_secret: str, token_secret: str
) -> str:
    """HMAC-SHA256 signature of a request: base string from the method, the URL without its query and
    the sorted parameters (query, form body, oauth_* less realm and oauth_signature)."""
    base_uri = oauth_signature.base_string_uri(url)
    normalized = oauth_signature.normalize_parameters(list(params))
    base_string = oauth_signature.signature_base_string(method.upper(), base_uri, normalized)
    key = f"{oauth_utils.escape(consumer_secret)}&{oauth_utils.escape(token_secret)}"
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


NonceCheck = Callable[[str, str, int, int, int], bool]


def check_tba(
    *,
    method: str,
    url: str,
    authorization: str,
    credentials: TbaCredentials,
    realm: str,
    now: int,
    body_params: Sequence[tuple[str, str]] = (),
    remember_nonce: NonceCheck | None = None,
    window_s: int = TIMESTAMP_WINDOW_S,
) -> str | None:
    """Verify a TBA Authorization header for a request to `url` (with its query). None if it passes,
    otherwise the reason, which only goes to the simulator's log: NetSuite tells the client nothing."""
    try:
        # Header values arrive percent-encoded (RFC 5849 3.5.1) and the parser leaves them so.
        header = {k: oauth_utils.unescape(v) for k, v in oauth_utils.parse_authorization_header(authorization)}
    except (ValueError, TypeError, IndexError):
        return "malformed Authorization header"
    if header.get("realm") != realm:
        return f"realm {header.get('realm')!r} is not {realm!r}"
    if header.get("oauth_signature_method") != "HMAC-SHA256":
        return f"signature method {header.get('oauth_signature_method')!r} is not HMAC-SHA256"
    if header.get("oauth_version", "1.0") != "1.0":
        return "oauth_version must be 1.0"
    for name in ("oauth_consumer_key", "oauth_token", "oauth_nonce", "oauth_timestamp", "oauth_signature"):
        if not header.get(name):
            return f"{name} missing"
    if not hmac.compare_digest(header["oauth_consumer_key"].encode(), credentials.consumer_key.encode()):
        return "unknown consumer key"
    if not hmac.compare_digest(header["oauth_token"].encode(), credentials.token_id.encode()):
        return "unknown token"
    try:
        timestamp = int(header["oauth_timestamp"])
    except ValueError:
        return "oauth_timestamp is not an integer"
    if abs(now - timestamp) > window_s:
        return "oauth_timestamp outside the accepted window"
    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    params += list(body_params)
    params += [(k, v) for k, v in header.items() if k.startswith("oauth_") and k != "oauth_signature"]
    expected = tba_signature(method, url, params, credentials.consumer_secret, credentials.token_secret)
    if not hmac.compare_digest(expected.encode(), header["oauth_signature"].encode()):
        return "signature mismatch"
    # Only a correctly signed request may spend a nonce, or anyone could block a client's next nonce.
    if remember_nonce is not None and not remember_nonce(
        header["oauth_token"], header["oauth_nonce"], timestamp, now, window_s
    ):
        return "nonce replayed"
    return None


# responses

_STATUS_TYPES = {
    400: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "Bad Request"),
    401: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "Unauthorized"),
    403: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4", "Forbidden"),
    404: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5", "Not Found"),
    405: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6", "Method Not Allowed"),
    429: ("https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"),
    500: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "Internal Server Error"),
    502: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.3", "Bad Gateway"),
    503: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4", "Service Unavailable"),
    504: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.5", "Gateway Timeout"),
}

LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."


def error_body(error: ApiError) -> dict[str, Any]:
    type_url, title = _STATUS_TYPES.get(
        error.status, ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15", "Error")
    )
    detail: dict[str, Any] = {"detail": error.detail}
    if error.path is not None:
        detail["o:errorPath"] = error.path
    if error.query_param is not None:
        detail["o:errorQueryParam"] = error.query_param
    detail["o:errorCode"] = error.code
    return {"type": type_url, "title": title, "status": error.status, "o:errorDetails": [detail]}


def _json_response(status: int, body: Any, kind: str = "singular") -> Response:
    # NetSuite answers with its own media type; clients that only call .json() do not notice.
    return Response(
        json.dumps(body),
        status=status,
        content_type=f"application/vnd.oracle.resource+json; type={kind}; charset=UTF-8",
    )


def _error_response(error: ApiError) -> Response:
    return _json_response(error.status, error_body(error), kind="error")


def _no_content(location: str | None = None) -> Response:
    response = Response(status=204)
    if location is not None:
        response.headers["Location"] = location
    return response


def _suiteql_value(value: Any) -> str:
    # SuiteQL answers every value as a string, numbers included.
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# routing


# Routes that read async jobs: never themselves run asynchronously.
JOB_KINDS = ("job", "tasks", "task", "result")


@dataclass
class Route:
    kind: str  # collection | instance | sublist | line | transform | suiteql | job | tasks | task | result | unknown
    operation: str
    raw_type: str = ""
    record_type: str | None = None
    key: str = ""
    line: str = ""
    target: str = ""
    task: str = ""


def _parse_route(method: str, segments: list[str]) -> Route:
    if segments == ["query", "v1", "suiteql"]:
        return Route("suiteql", f"{method} suiteql")
    if len(segments) >= 4 and segments[:3] == ["async", "v1", "job"]:
        job_id, rest = segments[3], segments[4:]
        if not rest:
            return Route("job", f"{method} async/job", key=job_id)
        if rest == ["task"]:
            return Route("tasks", f"{method} async/task", key=job_id)
        if len(rest) == 2 and rest[0] == "task":
            return Route("task", f"{method} async/task", key=job_id, task=rest[1])
        if len(rest) == 3 and rest[0] == "task" and rest[2] == "result":
            return Route("result", f"{method} async/result", key=job_id, task=rest[1])
    if len(segments) >= 3 and segments[:2] == ["record", "v1"]:
        raw_type = segments[2]
        record_type = canonical_type(raw_type)
        name = record_type or raw_type
        rest = segments[3:]
        common = {"raw_type": raw_type, "record_type": record_type}
        if not rest:
            return Route("collection", f"{method} {name}", **common)
        key = rest[0]
        if len(rest) == 1:
            return Route("instance", f"{method} {name}", key=key, **common)
        if rest[1:] == ["item"]:
            return Route("sublist", f"{method} {name}", key=key, **common)
        if len(rest) == 2 and rest[1] in EXPANDABLE_SUBLISTS.get(name, ()):
            # A deposit's payment, other and cash-back sublists, read as a collection.
            return Route("sublist", f"{method} {name}", key=key, target=rest[1], **common)
        if len(rest) == 3 and rest[1] == "item":
            return Route("line", f"{method} {name}", key=key, line=rest[2], **common)
        if len(rest) == 3 and rest[1] == "!transform":
            target = canonical_type(rest[2]) or rest[2]
            return Route("transform", f"{method} {name}/!transform/{target}", key=key, target=rest[2], **common)
    return Route("unknown", f"{method} unknown")


def _preferences(request: Request) -> set[str]:
    """The Prefer header's preference names, lowercased, parameters dropped, over repeated headers."""
    names = set()
    for header in request.headers.getlist("Prefer"):
        for part in header.split(","):
            name = part.split(";", 1)[0].strip().lower()
            if name:
                names.add(name)
    return names


def _raw_request_target(environ: dict[str, Any]) -> tuple[str, str]:
    """(path, query) as the client sent them, percent-encoding intact: that is what it signed."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if raw.startswith(("http://", "https://")):
            parts = urlsplit(raw)
            return parts.path, parts.query
        path, _, query = raw.partition("?")
        return path, query
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    return quote(path), environ.get("QUERY_STRING", "")


class SimulatorApp:
    """The WSGI application. `state` is the live simulator state (tests may read it directly)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.realm = netsuite_realm(config.account_id)
        self.credentials = TbaCredentials(
            config.consumer_key, config.consumer_secret, config.token_id, config.token_secret
        )
        settings = Settings(
            latency_ms=config.latency_ms,
            latency_jitter_ms=config.latency_jitter_ms,
            concurrency_limit=config.concurrency_limit,
            verify_auth=config.verify_auth,
            latency_distribution=config.latency_distribution,
            held_slots=config.held_slots,
            suiteql_lag_ms=config.suiteql_lag_ms,
            error_rate=config.error_rate,
            seed=config.seed,
            oauth2_token_ttl_s=config.oauth2_token_ttl_s,
            async_job_delay_ms=config.async_job_delay_ms,
            tax_mode=config.tax_mode,
        )
        # The same checks as /_sim/config, so a bad CLI value fails at start rather than mid-run.
        check_settings({k: v for k, v in vars(settings).items() if k != "verify_auth"})
        self.state = State(
            settings=settings,
            seed_items=config.seed_items,
            seed_locations=config.seed_locations,
            seed_quantity=config.seed_quantity,
            clock=self.clock,
        )
        self.oauth2 = OAuth2Registry(config.oauth2_clients)
        # The role behind every accepted token (permissions.py): every permission at Full until told otherwise.
        self.role = Role()
        self.jobs = AsyncJobs(self.clock)
        self.auth_failures: list[str] = []
        self.control = SimControl(self)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == REST_PREFIX or request.path.startswith(REST_PREFIX + "/"):
            response = self._rest(request)
        elif request.path.startswith(SIM_PREFIX + "/"):
            response = self.control(request)
        else:
            response = sim_json(404, {"error": f"no such path {request.path}"})
        return response(environ, start_response)

    # /services/rest

    def _rest(self, request: Request) -> Response:
        if request.path == TOKEN_PATH:
            # The token endpoint authenticates by the assertion itself, and takes no concurrency slot.
            return self._token(request)
        if not self.state.begin_request():
            return _error_response(ApiError(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL))
        started = time.monotonic()
        ok = False
        try:
            response = self._serve(request)
            ok = response.status_code < 400
            return response
        finally:
            self.state.end_request(time.monotonic() - started, ok)

    def _serve(self, request: Request) -> Response:
        """A /services/rest request that holds a concurrency slot."""
        # The drawn latency is the request's whole answer time, the simulator's own work included (that work,
        # a few ms under load, would otherwise come on top of every call and lower the cap's real ceiling):
        # the request is handled, then the rest of the latency is waited out, holding its slot throughout.
        # NetSuite counts a request against the pool before it looks at its credentials.
        answer_at = time.monotonic() + self.state.draw_latency_ms() / 1000
        try:
            return self._serve_now(request, answer_at)
        finally:
            self._wait_until(answer_at)

    def _serve_now(self, request: Request, answer_at: float) -> Response:
        try:
            if self.state.settings().verify_auth:
                reason = self._authenticate(request)
                if reason is not None:
                    self.state.note_auth_rejection()
                    self._remember_auth_failure(reason)
                    return self._unauthorized()
            raw_path, _ = _raw_request_target(request.environ)
            segments = [unquote(s) for s in raw_path[len(REST_PREFIX) :].split("/") if s]
            route = _parse_route(request.method, segments)
            self.state.note_call(route.operation, request.remote_addr)
            fault = self.state.take_fault(route.operation)
            return self._with_fault(fault, request, lambda: self._handle(route, request), answer_at)
        except Exception:  # noqa: BLE001 - a simulator bug must still look like NetSuite's 500 to the client
            traceback.print_exc()
            return self._fault_response(500)

    def _with_fault(
        self, fault: Fault | None, request: Request, handle: Callable[[], Response], answer_at: float
    ) -> Response:
        if fault is None:
            return handle()
        if fault.delay_ms > 0:
            time.sleep(fault.delay_ms / 1000)
        if fault.mode == "drop":
            self._wait_until(answer_at)  # the connection goes when the answer would have come
            return wsgi.drop_connection(request)
        if fault.mode == "error":
            return self._fault_response(fault.status)
        if fault.mode == "slow":
            if fault.apply_first:
                response = handle()
                time.sleep(fault.slow_ms / 1000)
                return response
            time.sleep(fault.slow_ms / 1000)
            return handle()
        handle()  # drop_after
        self._wait_until(answer_at)
        return wsgi.drop_connection(request)

    def _handle(self, route: Route, request: Request) -> Response:
        if route.kind not in JOB_KINDS and "respond-async" in _preferences(request):
            try:
                return self._submit_async(route, request)
            except ApiError as exc:
                return _error_response(exc)
        return self._execute(route, request)

    def _execute(self, route: Route, request: Request) -> Response:
        try:
            return self._dispatch(route, request)
        except ApiError as exc:
            return _error_response(exc)
        except Exception:  # noqa: BLE001 - a simulator bug must still look like NetSuite's 500 to the client
            traceback.print_exc()
            return self._fault_response(500)

    @staticmethod
    def _wait_until(moment: float) -> None:
        """Sleep until `moment` on the monotonic clock (at once if it has passed)."""
        left = moment - time.monotonic()
        if left > 0:
            time.sleep(left)

    # OAuth 2.0 token endpoint

    def _token(self, request: Request) -> Response:
        started = time.monotonic()
        self.state.note_token_request()
        answer_at = started + self.state.draw_latency_ms() / 1000  # the whole answer time, as for a REST call
        issued = False

        def answer() -> Response:
            nonlocal issued
            response = self._issue_token(request)
            issued = response.status_code == 200
            return response

        try:
            fault = self.state.take_fault(TOKEN_OPERATION, explicit_only=True)
            return self._with_fault(fault, request, answer, answer_at)
        finally:
            self._wait_until(answer_at)
            self.state.end_token_request(time.monotonic() - started, issued)

    def _issue_token(self, request: Request) -> Response:
        try:
            if request.method != "POST":
                raise OAuth2Error("invalid_request", f"the token endpoint takes POST, not {request.method}")
            if request.mimetype != "application/x-www-form-urlencoded":
                raise OAuth2Error("invalid_request", "the token request must be form-encoded")
            form = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
            settings = self.state.settings()
            body = self.oauth2.token_request(
                form,
                # The audience is the URL the client called: a JWT made for another host or path is refused.
                audience=f"{request.scheme}://{request.host}{request.path}",
                now=self.clock.time(),
                ttl_s=settings.oauth2_token_ttl_s,
            )
        except OAuth2Error as exc:
            self.state.note_auth_rejection()
            self._remember_auth_failure(f"oauth2 token: {exc.reason}")
            response = sim_json(400, {"error": exc.error})
        else:
            response = sim_json(200, body)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _authenticate(self, request: Request) -> str | None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            return "no Authorization header"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return self.oauth2.check_bearer(token.strip(), self.clock.time())
        body_params: list[tuple[str, str]] = []
        if request.mimetype == "application/x-www-form-urlencoded":
            # RFC 5849 signs form bodies too; NetSuite's REST API takes JSON, so this is for completeness.
            body_params = parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
        path, query = _raw_request_target(request.environ)
        url = f"{request.scheme}://{request.host}{path}" + (f"?{query}" if query else "")
        return check_tba(
            method=request.method,
            url=url,
            authorization=authorization,
            credentials=self.credentials,
            realm=self.realm,
            now=int(self.clock.time()),
            body_params=body_params,
            remember_nonce=self.state.remember_nonce,
        )

    def _remember_auth_failure(self, reason: str) -> None:
        with self.state.lock:
            self.auth_failures.append(reason)
            del self.auth_failures[:-50]

    def _unauthorized(self) -> Response:
        response = _error_response(ApiError(401, "INVALID_LOGIN", LOGIN_DETAIL))
        response.headers["WWW-Authenticate"] = (
            f'OAuth realm="{self.realm}", error="token_rejected", error_description="Invalid login attempt."'
        )
        return response

    def _fault_response(self, status: int) -> Response:
        if status == 401:
            return self._unauthorized()
        if status == 429:
            return _error_response(ApiError(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL))
        if status >= 500:
            # Not drawn from the seeded generator, so error ids do not shift a seeded run's draws.
            error_id = f"sim{secrets.token_hex(6)}"
            detail = f"An unexpected error has occurred. Error ID: {error_id}"
            return _error_response(ApiError(status, "UNEXPECTED_ERROR", detail))
        codes = {400: "USER_ERROR", 403: "INSUFFICIENT_PERMISSION", 404: "NONEXISTENT_ID"}
        return _error_response(ApiError(status, codes.get(status, "USER_ERROR"), "Injected fault."))

    def _base_url(self, request: Request) -> str:
        return f"{request.scheme}://{request.host}{REST_PREFIX}"

    # asynchronous requests

    def _submit_async(self, route: Route, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key:
            # API_FACTS only says async requests carry the key; requiring it is the simulator's choice, so a
            # client that forgets it finds out here rather than on a duplicate in production.
            raise ApiError(
                400, "USER_ERROR", f"Asynchronous requests must carry an {IDEMPOTENCY_HEADER} header (a UUID)."
            )
        if not UUID_PATTERN.fullmatch(key):
            raise ApiError(400, "USER_ERROR", f"The {IDEMPOTENCY_HEADER} header must be a UUID, not {key!r}.")
        data = request.get_data(cache=True)
        job, fresh = self.jobs.claim(key, route.operation)
        location = job_url(self._base_url(request), job.id)
        if not fresh:
            response = _error_response(
                ApiError(
                    400,
                    "IDEMPOTENCY_ERROR",
                    f"A request with idempotency key {key} was already submitted as job {job.id}.",
                )
            )
            response.headers["Location"] = location
            return response
        # The job needs its own copy of the request: this one's stream and socket go with its connection.
        environ = {k: v for k, v in request.environ.items() if not k.startswith((wsgi.SOCKET_KEY, "wsgi.input"))}
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        threading.Thread(
            target=self._run_job, args=(job, route, environ), name=f"netsuite-async-{job.id}", daemon=True
        ).start()
        response = Response(status=202)
        response.headers["Location"] = location
        response.headers["Preference-Applied"] = "respond-async"
        return response

    def _run_job(self, job: Job, route: Route, environ: dict[str, Any]) -> None:
        # Async jobs run in NetSuite's own queue: they hold no slot of the concurrency cap. The queue's delay is
        # simulated time, so a test can step past it on a manual clock.
        delay_ms = self.state.settings().async_job_delay_ms
        if delay_ms > 0:
            self.clock.sleep(delay_ms / 1000)
        if not self.jobs.start(job):
            return
        response = self._execute(route, Request(environ))
        headers = [(k, v) for k, v in response.headers.items() if k.lower() in ("location", "content-type")]
        self.jobs.finish(job, JobResult(response.status_code, headers, response.get_data()))

    def _job_endpoint(self, route: Route, request: Request) -> Response:
        self._require_method(request, "GET")
        job = self.jobs.get(route.key)
        # One task per job, with the job's id.
        if job is None or (route.kind in ("task", "result") and route.task != job.id):
            raise ApiError(404, "NONEXISTENT_ID", "The job or task does not exist.", path="id")
        base = self._base_url(request)
        if route.kind == "job":
            return _json_response(200, job_view(base, job))
        if route.kind == "tasks":
            return _json_response(200, tasks_view(base, job), kind="collection")
        if route.kind == "task":
            return _json_response(200, task_view(base, job))
        result = job.result
        if result is None:
            # Not in API_FACTS; answering "not there yet" keeps a client from reading a result too early.
            raise ApiError(404, "NONEXISTENT_ID", "The task has not completed: its result does not exist yet.")
        return Response(result.body, status=result.status, headers=result.headers)

    def _dispatch(self, route: Route, request: Request) -> Response:
        if route.kind in JOB_KINDS:
            return self._job_endpoint(route, request)
        if route.kind == "suiteql":
            self._require_method(request, "POST")
            return self._suiteql(request)
        if route.kind == "unknown":
            # NetSuite's code for a path it does not serve is not in API_FACTS.
            raise ApiError(404, "INVALID_URL", f"The requested URL {request.path} does not exist.")
        record_type = route.record_type
        if record_type is None:
            # INVALID_RCRD_TYPE is a plausible code; API_FACTS does not give NetSuite's exact one.
            raise ApiError(404, "INVALID_RCRD_TYPE", f"Record type '{route.raw_type}' does not exist.")
        base = self._base_url(request)
        method = request.method
        if route.kind == "collection":
            self._require_method(request, "GET", "POST")
            self._authorize(route, request)
            if method == "GET":
                return self._list(request, record_type, base)
            record = self.state.create(record_type, self._json_body(request))
            return _no_content(self._record_url(base, record))
        if route.kind == "instance":
            self._require_method(request, "GET", "PUT", "PATCH", "DELETE")
            self._authorize(route, request)
            if method == "GET":
                record = self.state.get(record_type, route.key)
                return _json_response(200, self._render(record, base, request))
            if method == "DELETE":
                self.state.delete(record_type, route.key)
                return _no_content()
            body = self._json_body(request)
            replace = {name.strip() for name in request.args.get("replace", "").split(",") if name.strip()}
            if method == "PUT":
                if not route.key.startswith("eid:"):
                    raise ApiError(
                        400,
                        "USER_ERROR",
                        "PUT is only supported as an upsert by external ID: record/v1/<type>/eid:<id>.",
                    )
                record = self.state.upsert(record_type, route.key[4:], body, replace)
            else:
                record = self.state.update(record_type, route.key, body, replace)
            return _no_content(self._record_url(base, record))
        if route.kind in ("sublist", "line"):
            self._require_method(request, "GET")
            self._authorize(route, request)
            record = self.state.get(record_type, route.key)
            if route.target:
                return self._named_sublist(record, base, route.target)
            if not is_transaction(record_type) or record_type in NO_ITEM_LINES:
                raise ApiError(404, "INVALID_URL", f"Record type '{record_type}' has no item sublist.")
            return self._sublist(record, base, route.line)
        self._require_method(request, "POST")
        target = canonical_type(route.target)
        if target is None:
            raise ApiError(404, "INVALID_RCRD_TYPE", f"Record type '{route.target}' does not exist.")
        self.role.check_transform(record_type, target)
        body = self._json_body(request, required=False)
        record = self.state.transform(record_type, route.key, target, body)
        return _no_content(self._record_url(base, record))

    def _authorize(self, route: Route, request: Request) -> None:
        """The role's permission check of a record request (permissions.py); a 403 before anything happens."""
        record_type = route.record_type
        if record_type is None:
            return
        method = "GET" if route.kind in ("sublist", "line") else request.method
        exists = None
        if method == "PUT" and route.kind == "instance":
            try:
                self.state.get(record_type, route.key)
            except ApiError:
                exists = False
            else:
                exists = True
        self.role.check_record(method, record_type, exists=exists)

    @staticmethod
    def _require_method(request: Request, *allowed: str) -> None:
        if request.method not in allowed:
            raise ApiError(405, "USER_ERROR", f"Method {request.method} is not allowed on this resource.")

    @staticmethod
    def _json_body(request: Request, required: bool = True) -> dict[str, Any]:
        data = request.get_data(cache=True)
        if not data.strip():
            if required:
                raise ApiError(400, "USER_ERROR", "The request body is empty.")
            return {}
        try:
            body = json.loads(data)
        except ValueError as exc:
            raise ApiError(400, "USER_ERROR", f"The request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "USER_ERROR", "The request body must be a JSON object.")
        return body

    @staticmethod
    def _record_url(base: str, record: Record | RecordRef) -> str:
        return f"{base}/record/v1/{record.type}/{record.id}"

    def _line_view(self, record_url: str, line: dict[str, Any]) -> dict[str, Any]:
        return {"links": [{"rel": "self", "href": f"{record_url}/item/{line['line']}"}], **line}

    def _render(self, record: Record, base: str, request: Request) -> dict[str, Any]:
        url = self._record_url(base, record)
        data = dict(record.fields)
        expand = request.args.get("expandSubResources", "").lower() == "true"
        if is_transaction(record.type):
            data.setdefault("total", _plain(transaction_total(record)))
        if is_transaction(record.type) and record.type not in NO_ITEM_LINES:
            sublist: dict[str, Any] = {"links": [{"rel": "self", "href": f"{url}/item"}]}
            if expand:
                lines = record.lines or []
                sublist["items"] = [self._line_view(url, line) for line in lines]
                sublist["totalResults"] = len(lines)
            data["item"] = sublist
        for name in EXPANDABLE_SUBLISTS.get(record.type, ()):
            # Like NetSuite, a record's sublists come back as links unless the client asks for them expanded.
            items = (data.get(name) or {}).get("items", [])
            data[name] = {"links": [{"rel": "self", "href": f"{url}/{name}"}]}
            if expand:
                data[name].update(items=items, count=len(items), totalResults=len(items))
        wanted = {name.strip() for name in request.args.get("fields", "").split(",") if name.strip()}
        if wanted:
            data = {name: value for name, value in data.items() if name in wanted}
        return {"links": [{"rel": "self", "href": url}], **data, "id": str(record.id)}

    def _sublist(self, record: Record, base: str, line: str) -> Response:
        url = self._record_url(base, record)
        lines = record.lines or []
        if line:
            for candidate in lines:
                if str(candidate["line"]) == line:
                    return _json_response(200, self._line_view(url, candidate))
            raise ApiError(
                404,
                "NONEXISTENT_ID",
                "The record instance does not exist. Provide a valid record instance ID.",
            )
        body = {
            "links": [{"rel": "self", "href": f"{url}/item"}],
            "count": len(lines),
            "hasMore": False,
            "items": [self._line_view(url, candidate) for candidate in lines],
            "offset": 0,
            "totalResults": len(lines),
        }
        return _json_response(200, body, kind="collection")

    def _named_sublist(self, record: Record, base: str, name: str) -> Response:
        items = (record.fields.get(name) or {}).get("items", [])
        body = {
            "links": [{"rel": "self", "href": f"{self._record_url(base, record)}/{name}"}],
            "count": len(items),
            "hasMore": False,
            "items": items,
            "offset": 0,
            "totalResults": len(items),
        }
        return _json_response(200, body, kind="collection")

    def _list(self, request: Request, record_type: str, base: str) -> Response:
        if request.args.get("q"):
            # Answering the unfiltered list would quietly give the client wrong records.
            raise ApiError(400, "USER_ERROR", "The simulator does not support the q filter; use SuiteQL.")
        limit, offset = self._paging(request)
        records = self.state.list_records(record_type)
        page = records[offset : offset + limit]
        items = [{"links": [{"rel": "self", "href": self._record_url(base, r)}], "id": str(r.id)} for r in page]
        body = {
            "links": self._page_links(f"{base}/record/v1/{record_type}", limit, offset, len(records)),
            "count": len(page),
            "hasMore": offset + len(page) < len(records),
            "items": items,
            "offset": offset,
            "totalResults": len(records),
        }
        return _json_response(200, body, kind="collection")

    @staticmethod
    def _paging(request: Request) -> tuple[int, int]:
        values = {}
        for name, default in (("limit", SUITEQL_MAX_LIMIT), ("offset", 0)):
            raw = request.args.get(name)
            try:
                values[name] = default if raw is None else int(raw)
            except ValueError:
                values[name] = -1
        limit, offset = values["limit"], values["offset"]
        # INVALID_PARAMETER with o:errorQueryParam is how NetSuite reports a bad query parameter, to the best
        # of public reports; API_FACTS only fixes the page size (1000) and the 100,000-row ceiling.
        if not 1 <= limit <= SUITEQL_MAX_LIMIT:
            raise ApiError(
                400,
                "INVALID_PARAMETER",
                f"Invalid value for the 'limit' parameter: it must be between 1 and {SUITEQL_MAX_LIMIT}.",
                query_param="limit",
            )
        if offset < 0:
            raise ApiError(400, "INVALID_PARAMETER", "Invalid value for the 'offset' parameter.", query_param="offset")
        if offset + limit > SUITEQL_ROW_CEILING:
            raise ApiError(
                400,
                "INVALID_PARAMETER",
                f"Invalid value for the 'offset' parameter: at most {SUITEQL_ROW_CEILING} rows can be paged.",
                query_param="offset",
            )
        return limit, offset

    @staticmethod
    def _page_links(url: str, limit: int, offset: int, total: int) -> list[dict[str, str]]:
        def href(at: int) -> str:
            return f"{url}?limit={limit}&offset={at}"

        last = max(0, (total - 1) // limit * limit)
        links = [{"rel": "first", "href": href(0)}]
        if offset > 0:
            links.append({"rel": "prev", "href": href(max(0, offset - limit))})
        if offset + limit < total:
            links.append({"rel": "next", "href": href(offset + limit)})
        links.append({"rel": "last", "href": href(last)})
        links.append({"rel": "self", "href": href(offset)})
        return links

    def _suiteql(self, request: Request) -> Response:
        if "transient" not in _preferences(request):
            raise ApiError(400, "USER_ERROR", "The 'Prefer: transient' header is required for SuiteQL queries.")
        limit, offset = self._paging(request)
        query = self._json_body(request).get("q")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "USER_ERROR", 'The request body must be {"q": "<SuiteQL query>"}.')
        self.role.check_suiteql(query)
        columns, rows = self.state.suiteql(query)
        page = rows[offset : offset + limit]
        items = []
        for row in page:
            # NetSuite leaves null columns out of a result row entirely (not in API_FACTS; chosen so a client
            # that indexes a possibly-empty column fails here as it would in production).
            values = {name: _suiteql_value(v) for name, v in zip(columns, row, strict=True) if v is not None}
            items.append({"links": [], **values})
        body = {
            "links": self._page_links(f"{self._base_url(request)}/query/v1/suiteql", limit, offset, len(rows)),
            "count": len(page),
            "hasMore": offset + len(page) < len(rows),
            "items": items,
            "offset": offset,
            "totalResults": len(rows),
        }
        return _json_response(200, body, kind="collection")


# running it


def create_app(config: SimulatorConfig) -> SimulatorApp:
    """The simulator as a WSGI application."""
    return SimulatorApp(config)


def _banner(config: SimulatorConfig, host: str, port: int) -> str:
    return (
        f"NetSuite simulator for account {netsuite_realm(config.account_id)} on "
        f"http://{host}:{port}{REST_PREFIX} (control: http://{host}:{port}{SIM_PREFIX}/stats)"
    )


def serve(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8090, *, quiet: bool = False) -> None:
    """Run the simulator in the foreground until interrupted."""
    server = wsgi.make_wsgi_server(create_app(config), host, port, quiet=quiet)
    wsgi.serve_forever(server, _banner(config, host, server.port))


def start_in_thread(
    config: SimulatorConfig, port: int = 0, host: str = "127.0.0.1"
) -> tuple[wsgi.SimulatorServer, str]:
    """Start the simulator on a daemon thread; (server, base URL). Stop it with server.shutdown()."""
    server = wsgi.start_in_thread(create_app(config), host, port, name="netsuite-simulator")
    return server, f"http://{host}:{server.port}{REST_PREFIX}"
