"""Settings: the only module that reads the environment.

Every other module receives a `Settings` instance (or calls `get_settings()`), so configuration is explicit,
testable, and documented in one place (docs/CONFIGURATION.md mirrors this file).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from app.config_alerts import AlertSettings, alert_settings
from app.config_env import ConfigError, EnvReader
from app.config_money import OrderMoneySettings, order_money_settings
from app.config_payments import PaymentSettings, payment_settings

__all__ = ["AlertSettings", "ConfigError", "OrderMoneySettings", "Settings", "get_settings", "load_settings"]

DEFAULT_DATABASE_URL = "postgresql://root@127.0.0.1:5432/shopsync"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

REQUIRED = (
    "SHOPIFY_SHOP",
    "SHOPIFY_WEBHOOK_SECRETS",
    "SHOPIFY_ADMIN_TOKEN",
    "NETSUITE_ACCOUNT_ID",
    "NETSUITE_CONSUMER_KEY",
    "NETSUITE_CONSUMER_SECRET",
    "NETSUITE_TOKEN_ID",
    "NETSUITE_TOKEN_SECRET",
    "OPS_TOKEN",
)
# NetSuite auth: Token-Based Authentication (the default) needs the four TBA settings above; OAuth 2.0
# machine-to-machine needs these instead.
TBA_SETTINGS = ("NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET")
OAUTH2_SETTINGS = ("NETSUITE_CLIENT_ID", "NETSUITE_CERTIFICATE_ID", "NETSUITE_PRIVATE_KEY_FILE")

_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def sqlalchemy_url(url: str) -> str:
    """Accept the plain `postgresql://` URL hosting platforms pass and pin it to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+psycopg://"):
        return url
    raise ConfigError(f"DATABASE_URL must be a postgresql:// URL (got scheme {url.split(':', 1)[0]!r})")


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    shopify_shop: str
    shopify_webhook_secrets: tuple[str, ...] = field(repr=False)
    shopify_admin_token: str = field(repr=False)
    shopify_api_version: str
    shopify_admin_url: str
    netsuite_account_id: str
    netsuite_consumer_key: str = field(repr=False)
    netsuite_consumer_secret: str = field(repr=False)
    netsuite_token_id: str = field(repr=False)
    netsuite_token_secret: str = field(repr=False)
    netsuite_base_url: str
    netsuite_concurrency: int
    ops_token: str = field(repr=False)
    webhook_max_body_bytes: int = 2 * 1024 * 1024
    netsuite_auth: str = "tba"
    netsuite_client_id: str | None = field(default=None, repr=False)
    netsuite_certificate_id: str | None = None
    netsuite_private_key_file: str | None = None
    netsuite_item_sku_field: str = "itemid"
    netsuite_default_customer_external_id: str = "shopify-customer-guest"
    netsuite_currency_map: Mapping[str, str] = field(default_factory=lambda: {"USD": "1"})
    location_map: Mapping[int, str] = field(default_factory=dict)
    netsuite_default_location_id: str | None = None
    netsuite_timeout_connect: float = 3.05
    netsuite_timeout_read: float = 30.0
    netsuite_max_tries: int = 3
    netsuite_lane_shares: Mapping[str, float] = field(
        default_factory=lambda: {"backfill": 0.25, "reconcile": 0.25, "inventory": 0.25}
    )
    netsuite_slot_lease_seconds: float = 35.0
    netsuite_slot_wait_seconds: float = 5.0
    netsuite_bulk_slot_wait_seconds: float = 1.0
    task_max_retries: int = 8
    task_retry_backoff_max: int = 300
    worker_lost_max: int = 3
    database_keepalive_seconds: int = 30
    # WORKER_CONCURRENCY: 0 (unset) sizes worker_orders from the budget (orders_worker_concurrency); the other
    # workers' Procfile lines keep their own defaults.
    worker_concurrency: int = 0
    inventory_push_every_minutes: int = 5
    reconcile_sku_classes: Mapping[str, str] = field(default_factory=dict)
    reconcile_tolerance_high: int = 2
    reconcile_tolerance_low: int = 0
    reconcile_high_velocity_per_day: float = 1.0
    reconcile_spike_factor: float = 5.0
    reconcile_spike_absolute: int = 1000
    reconcile_hour_utc: int = 3
    orders_check_days: int = 30
    bundles: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    outbox_relay_interval_seconds: float = 30.0
    outbox_relay_after_seconds: float = 60.0
    outbox_republish_after_seconds: float = 900.0
    # Beat's leader lock (app/adapters/beat_leader.py): a killed leader is replaced within about the sum of the two.
    beat_lock_timeout_seconds: int = 30
    beat_max_loop_interval_seconds: int = 5
    # orders/edited (docs/MAPPING.md "Order edits"): how long an edit waits for Shopify's orders/updated before
    # reading the order itself, and how long at most while an order payload of the same order is queued.
    order_edit_wait_seconds: float = 10.0
    order_edit_max_wait_seconds: float = 45.0
    item_map_max_age_seconds: int = 86400
    log_level: str = "INFO"
    log_format: str = "json"
    # Public URL of our POST /webhooks/shopify; None: the subscription health check is off.
    webhook_callback_url: str | None = None
    # Customers (docs/MAPPING.md "Customers"): guests get a customer per email or the one guest customer; the
    # subsidiary scopes the lookup by email and is set on customers the service creates.
    guest_customers: str = "per_email"
    netsuite_subsidiary_id: str | None = None
    order_money: OrderMoneySettings = field(default_factory=OrderMoneySettings)
    payments: PaymentSettings = field(default_factory=PaymentSettings)
    # Notifications to Slack / PagerDuty and the daily digest (app/config_alerts.py).
    alerts: AlertSettings = field(default_factory=AlertSettings)
    # Redis Sentinel (docs/SCALING.md "Redis"): set, the primary is asked of these sentinels (REDIS_URL then gives
    # only the password and the db number); empty, REDIS_URL names the one Redis.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "mymaster"

    @property
    def sqlalchemy_url(self) -> str:
        return sqlalchemy_url(self.database_url)

    @property
    def broker_url(self) -> str:
        """Celery's broker URL: REDIS_URL, or one `sentinel://` URL per sentinel as kombu expects them."""
        if not self.redis_sentinels:
            return self.redis_url
        parts = urlsplit(self.redis_url)
        auth = f"{parts.username or ''}:{parts.password}@" if parts.password else ""
        db = parts.path.lstrip("/") or "0"
        return ";".join(f"sentinel://{auth}{host}:{port}/{db}" for host, port in self.redis_sentinels)


class _Numeric(NamedTuple):
    field: str  # the Settings attribute
    name: str  # the environment variable
    kind: type[int] | type[float]
    default: float | None  # None: NETSUITE_TIMEOUT_READ + 5 (see _numeric_settings)
    minimum: int = 0  # integers only; a number is always >= 0


# The plain numeric settings (docs/CONFIGURATION.md), checked in this order after the structured ones.
_NUMERIC = (
    _Numeric("netsuite_concurrency", "NETSUITE_CONCURRENCY", int, 12, minimum=1),
    _Numeric("webhook_max_body_bytes", "WEBHOOK_MAX_BODY_BYTES", int, 2 * 1024 * 1024, minimum=1024),
    _Numeric("netsuite_timeout_connect", "NETSUITE_TIMEOUT_CONNECT", float, 3.05),
    _Numeric("netsuite_max_tries", "NETSUITE_MAX_TRIES", int, 3, minimum=1),
    _Numeric("netsuite_slot_lease_seconds", "NETSUITE_SLOT_LEASE_SECONDS", float, None),
    _Numeric("netsuite_slot_wait_seconds", "NETSUITE_SLOT_WAIT_SECONDS", float, 5.0),
    _Numeric("netsuite_bulk_slot_wait_seconds", "NETSUITE_BULK_SLOT_WAIT_SECONDS", float, 1.0),
    _Numeric("task_max_retries", "TASK_MAX_RETRIES", int, 8),
    _Numeric("task_retry_backoff_max", "TASK_RETRY_BACKOFF_MAX", int, 300, minimum=1),
    _Numeric("worker_lost_max", "WORKER_LOST_MAX", int, 3, minimum=1),
    _Numeric("database_keepalive_seconds", "DATABASE_KEEPALIVE_SECONDS", int, 30, minimum=0),
    _Numeric("worker_concurrency", "WORKER_CONCURRENCY", int, 0, minimum=0),
    _Numeric("inventory_push_every_minutes", "INVENTORY_PUSH_EVERY_MINUTES", int, 5, minimum=1),
    _Numeric("reconcile_tolerance_high", "RECONCILE_TOLERANCE_HIGH", int, 2),
    _Numeric("reconcile_tolerance_low", "RECONCILE_TOLERANCE_LOW", int, 0),
    _Numeric("reconcile_high_velocity_per_day", "RECONCILE_HIGH_VELOCITY_PER_DAY", float, 1.0),
    _Numeric("reconcile_spike_factor", "RECONCILE_SPIKE_FACTOR", float, 5.0),
    _Numeric("reconcile_spike_absolute", "RECONCILE_SPIKE_ABSOLUTE", int, 1000, minimum=1),
    _Numeric("reconcile_hour_utc", "RECONCILE_HOUR_UTC", int, 3),
    _Numeric("orders_check_days", "ORDERS_CHECK_DAYS", int, 30, minimum=1),
    _Numeric("outbox_relay_interval_seconds", "OUTBOX_RELAY_INTERVAL_SECONDS", float, 30.0),
    _Numeric("outbox_relay_after_seconds", "OUTBOX_RELAY_AFTER_SECONDS", float, 60.0),
    _Numeric("outbox_republish_after_seconds", "OUTBOX_REPUBLISH_AFTER_SECONDS", float, 900.0),
    _Numeric("order_edit_wait_seconds", "ORDER_EDIT_WAIT_SECONDS", float, 10.0),
    _Numeric("order_edit_max_wait_seconds", "ORDER_EDIT_MAX_WAIT_SECONDS", float, 45.0),
    _Numeric("item_map_max_age_seconds", "ITEM_MAP_MAX_AGE_SECONDS", int, 86400),
    _Numeric("beat_lock_timeout_seconds", "BEAT_LOCK_TIMEOUT_SECONDS", int, 30, minimum=3),
    _Numeric("beat_max_loop_interval_seconds", "BEAT_MAX_LOOP_INTERVAL_SECONDS", int, 5, minimum=1),
)


def _numeric_settings(env: EnvReader, read_timeout: float) -> dict[str, int | float]:
    """Settings field -> value for every row of _NUMERIC, checked in table order."""
    values: dict[str, int | float] = {}
    for row in _NUMERIC:
        # A dead holder's slot must outlive any request it may still have in flight at NetSuite.
        default = read_timeout + 5.0 if row.default is None else row.default
        if row.kind is int:
            values[row.field] = env.integer(row.name, int(default), minimum=row.minimum)
        else:
            values[row.field] = env.number(row.name, default)
    # The leader renews its lock once a loop: a lock shorter than a few loops would expire between two renewals.
    if values["beat_lock_timeout_seconds"] < 3 * values["beat_max_loop_interval_seconds"]:
        raise ConfigError(
            f"BEAT_LOCK_TIMEOUT_SECONDS ({values['beat_lock_timeout_seconds']}) must be at least 3 x "
            f"BEAT_MAX_LOOP_INTERVAL_SECONDS ({values['beat_max_loop_interval_seconds']})"
        )
    return values


def _netsuite_auth(env: EnvReader) -> str:
    """The NetSuite auth method, once every setting it and the service require is present."""
    auth_method = env.text("NETSUITE_AUTH", "tba").lower()
    if auth_method not in ("tba", "oauth2"):
        raise ConfigError(f"NETSUITE_AUTH must be tba or oauth2, got {auth_method!r}")
    required = [n for n in REQUIRED if auth_method == "tba" or n not in TBA_SETTINGS]
    if auth_method == "oauth2":
        required += OAUTH2_SETTINGS
    missing = [name for name in required if not env.text(name)]
    if missing:
        raise ConfigError("missing required setting(s): " + ", ".join(missing))
    return auth_method


def _redis_sentinels(env: EnvReader) -> tuple[tuple[str, int], ...]:
    sentinels = []
    for chunk in filter(None, (c.strip() for c in env.text("REDIS_SENTINELS").split(","))):
        host, sep, port = chunk.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(f"REDIS_SENTINELS: expected host:port pairs separated by commas, got {chunk!r}")
        sentinels.append((host, int(port)))
    return tuple(sentinels)


def _webhook_secrets(env: EnvReader) -> tuple[str, ...]:
    secrets = tuple(s.strip() for s in env.text("SHOPIFY_WEBHOOK_SECRETS").split(",") if s.strip())
    if not secrets:
        raise ConfigError("SHOPIFY_WEBHOOK_SECRETS must list at least one secret")
    return secrets


def _database_url(env: EnvReader) -> str:
    database_url = env.text("DATABASE_URL", DEFAULT_DATABASE_URL)
    sqlalchemy_url(database_url)  # validate early: a bad URL must stop the process at start
    return database_url


def _sku_field(env: EnvReader) -> str:
    sku_field = env.text("NETSUITE_ITEM_SKU_FIELD", "itemid")
    if not _FIELD_NAME.match(sku_field):
        raise ConfigError(f"NETSUITE_ITEM_SKU_FIELD must be a plain column name, got {sku_field!r}")
    return sku_field


def _currency_map(env: EnvReader) -> dict[str, str]:
    currency_map = env.pairs("NETSUITE_CURRENCY_MAP", "USD=1")
    return {k.upper(): v for k, v in currency_map.items()}


def _lane_shares(env: EnvReader) -> dict[str, float]:
    lane_shares: dict[str, float] = {}
    for lane, raw in env.pairs("NETSUITE_LANE_SHARES", "backfill=0.25,reconcile=0.25,inventory=0.25").items():
        try:
            share = float(raw)
        except ValueError:
            raise ConfigError(f"NETSUITE_LANE_SHARES: share of {lane} must be a number, got {raw!r}") from None
        if not 0 < share <= 1:
            raise ConfigError(f"NETSUITE_LANE_SHARES: share of {lane} must be in (0, 1], got {share}")
        if lane == "live":
            raise ConfigError("NETSUITE_LANE_SHARES: the live lane has no share (it may use the whole budget)")
        lane_shares[lane] = share
    return lane_shares


def _log_format(env: EnvReader) -> str:
    log_format = env.text("LOG_FORMAT", "json").lower()
    if log_format not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, got {log_format!r}")
    return log_format


def _bundles(env: EnvReader) -> dict[str, dict[str, int]]:
    from app.domain.reconciliation import parse_bundles

    try:
        return parse_bundles(env.text("BUNDLE_MAP"))
    except ValueError as exc:
        raise ConfigError(f"BUNDLE_MAP: {exc}") from None


def _sku_classes(env: EnvReader) -> dict[str, str]:
    sku_classes = env.pairs("RECONCILE_SKU_CLASSES")
    if bad := {k: v for k, v in sku_classes.items() if v not in ("high", "low")}:
        raise ConfigError(f"RECONCILE_SKU_CLASSES: classes are high or low, got {bad}")
    return sku_classes


def _location_map(env: EnvReader) -> dict[int, str]:
    location_map: dict[int, str] = {}
    for shopify_location, netsuite_location in env.pairs("LOCATION_MAP").items():
        if not shopify_location.isdigit() or not netsuite_location.isdigit():
            raise ConfigError(
                f"LOCATION_MAP: expected shopify_location_id=netsuite_location_id (digits), got "
                f"{shopify_location}={netsuite_location}"
            )
        location_map[int(shopify_location)] = netsuite_location
    return location_map


def _callback_url(env: EnvReader) -> str | None:
    callback_url = env.text("WEBHOOK_CALLBACK_URL")
    if callback_url and not re.match(r"^https?://[^/\s]+/\S*$", callback_url):
        raise ConfigError(f"WEBHOOK_CALLBACK_URL must be an http(s) URL with a path, got {callback_url!r}")
    return callback_url or None


_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def _customer_settings(env: EnvReader) -> dict[str, str | None]:
    """GUEST_CUSTOMERS, NETSUITE_SUBSIDIARY_ID and the guest customer's external id, checked."""
    guests = env.text("GUEST_CUSTOMERS", "per_email").lower()
    if guests not in ("per_email", "single"):
        raise ConfigError(
            f"GUEST_CUSTOMERS must be per_email (a customer per guest email) or single (one guest customer), "
            f"got {guests!r}"
        )
    subsidiary = env.optional("NETSUITE_SUBSIDIARY_ID")
    if subsidiary is not None and not subsidiary.isdigit():
        raise ConfigError(f"NETSUITE_SUBSIDIARY_ID must be a NetSuite internal id (digits), got {subsidiary!r}")
    guest_eid = env.text("NETSUITE_DEFAULT_CUSTOMER_EXTERNAL_ID", "shopify-customer-guest")
    if not _EXTERNAL_ID.match(guest_eid):
        raise ConfigError(
            "NETSUITE_DEFAULT_CUSTOMER_EXTERNAL_ID must be letters, digits, '_' or '-' (NetSuite's external id "
            f"charset), got {guest_eid!r}"
        )
    return {
        "guest_customers": guests,
        "netsuite_subsidiary_id": subsidiary,
        "netsuite_default_customer_external_id": guest_eid,
    }


def _netsuite_base_url(env: EnvReader, account: str) -> str:
    account_host = account.lower().replace("_", "-")
    base_url = env.text("NETSUITE_BASE_URL") or f"https://{account_host}.suitetalk.api.netsuite.com/services/rest"
    return base_url.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping; raises ConfigError naming every missing setting.

    Checks run in a fixed order (auth and required settings, then the structured ones, then the plain numbers),
    so a bad environment always reports the same first error."""
    read = EnvReader(os.environ if env is None else env)
    auth_method = _netsuite_auth(read)
    secrets = _webhook_secrets(read)
    shop = read.text("SHOPIFY_SHOP").lower()
    version = read.text("SHOPIFY_API_VERSION", "2026-04")
    account = read.text("NETSUITE_ACCOUNT_ID")
    database_url = _database_url(read)
    sku_field = _sku_field(read)
    currency_map = _currency_map(read)
    lane_shares = _lane_shares(read)
    read_timeout = read.number("NETSUITE_TIMEOUT_READ", 30.0)
    log_format = _log_format(read)
    bundles = _bundles(read)
    sku_classes = _sku_classes(read)
    location_map = _location_map(read)
    callback_url = _callback_url(read)
    customers = _customer_settings(read)
    order_money = order_money_settings(read)
    payments = payment_settings(read)
    alerts = alert_settings(read)
    return Settings(
        database_url=database_url,
        redis_url=read.text("REDIS_URL", DEFAULT_REDIS_URL),
        redis_sentinels=_redis_sentinels(read),
        redis_sentinel_master=read.text("REDIS_SENTINEL_MASTER", "mymaster"),
        shopify_shop=shop,
        shopify_webhook_secrets=secrets,
        shopify_admin_token=read.text("SHOPIFY_ADMIN_TOKEN"),
        shopify_api_version=version,
        shopify_admin_url=read.text("SHOPIFY_ADMIN_URL") or f"https://{shop}/admin/api/{version}/graphql.json",
        netsuite_account_id=account,
        netsuite_consumer_key=read.text("NETSUITE_CONSUMER_KEY"),
        netsuite_consumer_secret=read.text("NETSUITE_CONSUMER_SECRET"),
        netsuite_token_id=read.text("NETSUITE_TOKEN_ID"),
        netsuite_token_secret=read.text("NETSUITE_TOKEN_SECRET"),
        netsuite_base_url=_netsuite_base_url(read, account),
        netsuite_auth=auth_method,
        netsuite_client_id=read.optional("NETSUITE_CLIENT_ID"),
        netsuite_certificate_id=read.optional("NETSUITE_CERTIFICATE_ID"),
        netsuite_private_key_file=read.optional("NETSUITE_PRIVATE_KEY_FILE"),
        ops_token=read.text("OPS_TOKEN"),
        netsuite_item_sku_field=sku_field,
        netsuite_currency_map=currency_map,
        location_map=location_map,
        netsuite_default_location_id=read.optional("NETSUITE_DEFAULT_LOCATION_ID"),
        netsuite_timeout_read=read_timeout,
        netsuite_lane_shares=lane_shares,
        reconcile_sku_classes=sku_classes,
        bundles=bundles,
        log_level=read.text("LOG_LEVEL", "INFO").upper(),
        log_format=log_format,
        webhook_callback_url=callback_url,
        **customers,
        order_money=order_money,
        payments=payments,
        alerts=alerts,
        **_numeric_settings(read, read_timeout),
    )


def orders_worker_concurrency(settings: Settings) -> int:
    """Tasks worker_orders runs at once: WORKER_CONCURRENCY if set, else the NetSuite budget plus a third. Each task
    holds a slot only while its call is on the wire (~85% of its time at 150 ms per call, more as NetSuite is
    slower), so budget x 4/3 keeps every slot busy while work waits; the extra tasks wait on the limiter."""
    if settings.worker_concurrency > 0:
        return settings.worker_concurrency
    return -(-settings.netsuite_concurrency * 4 // 3)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def environ_copy() -> dict[str, str]:
    """The environment as a dict, for launching child processes (demo, tests) with overrides."""
    return dict(os.environ)


# prometheus_client reads this variable itself, when it is first imported: set, every process writes its counters
# to a file there (multiprocess mode) for /metrics to add up.
PROMETHEUS_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prometheus_multiproc_dir() -> str | None:
    """The directory of prometheus_client's multiprocess files; None outside gunicorn (in-process counters)."""
    return os.environ.get(PROMETHEUS_MULTIPROC_DIR) or None


def ensure_prometheus_multiproc_dir() -> str:
    """Set (for this process and the ones it starts) and create the multiprocess directory: the operator's value if
    given, else a fresh temporary one. Must run before anything imports prometheus_client (app.gunicorn_conf)."""
    if not os.environ.get(PROMETHEUS_MULTIPROC_DIR):
        os.environ[PROMETHEUS_MULTIPROC_DIR] = tempfile.mkdtemp(prefix="shopsync-prometheus-")
    path = os.environ[PROMETHEUS_MULTIPROC_DIR]
    os.makedirs(path, exist_ok=True)
    return path
