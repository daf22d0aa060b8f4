"""The settings app/config.py reads, docs/CONFIGURATION.md documents and the compose env file lists are one set.

The names config reads are taken from the code itself, two ways: load_settings runs on a recording environment
under each configuration that reads different names (TBA, OAuth 2.0, Sentinel, payouts, SuiteTax, discount items),
and an AST walk of app/config.py and every app/config_*.py collects the names passed as literals to the reader's
methods or os.environ and every setting-shaped string (a table of names read in a loop, under a condition no
configuration here meets). A settings group added later (its own app/config_<topic>.py, one field on Settings) is
caught without touching this file: the alerts and payments groups were, when they were merged.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from app.config import REQUIRED, load_settings
from app.config_env import ConfigError, EnvReader

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "CONFIGURATION.md"
EXAMPLE = ROOT / "deploy" / "shopsync.env.example"
COMPOSE = ROOT / "docker-compose.yml"
ENV_FILE = "deploy/shopsync.env"

# Sections of CONFIGURATION.md whose settings processes or compose read, not app/config.py's load_settings.
NOT_LOAD_SETTINGS = ("Process settings", "Docker Compose")
# Read by a program we run, not by our code or the Procfile's shell: gunicorn reads GUNICORN_CMD_ARGS itself.
READ_BY_TOOLS = {"GUNICORN_CMD_ARGS"}
# What compose's `environment:` may set (it wins over the env file): the wiring compose owns.
COMPOSE_WIRING = {"DATABASE_URL", "REDIS_URL", "PORT", "FLOWER_ADDRESS", "FLOWER_PORT", "FLOWER_BASIC_AUTH"}

_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
_ASSIGNMENT = re.compile(r"^(#\s?)?([A-Z][A-Z0-9_]+)=(.*)$")
_INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


class RecordingEnv(dict):
    """An environment that remembers every name it is asked for, whatever reads it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.asked.add(key)
        return super().__contains__(key)


def documented() -> dict[str, str]:
    """Setting name -> the `## ` section of CONFIGURATION.md whose table names it in its first column."""
    names: dict[str, str] = {}
    section = ""
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("|") and not set(line) <= set("|- "):
            for name in _NAME.findall(line.split("|")[1]):
                names.setdefault(name, section)
    return names


def example_entries() -> dict[str, tuple[bool, str]]:
    """Name -> (commented out, value) for every `NAME=value` or `# NAME=value` line of the example env file."""
    entries: dict[str, tuple[bool, str]] = {}
    for line in EXAMPLE.read_text().splitlines():
        if match := _ASSIGNMENT.match(line):
            assert match.group(2) not in entries, f"{match.group(2)} is listed twice in {EXAMPLE.name}"
            entries[match.group(2)] = (match.group(1) is not None, match.group(3).strip().strip("'"))
    return entries


REQUIRED_VALUES = {name: f"value-{name.lower()}" for name in REQUIRED} | {
    "SHOPIFY_SHOP": "store.myshopify.com",
    "NETSUITE_ACCOUNT_ID": "1234567",
}
# Configurations that read names the others do not (each a valid environment: a ConfigError would stop the reads).
CONFIGURATIONS = {
    "tba": {},
    "oauth2": {
        "NETSUITE_AUTH": "oauth2",
        "NETSUITE_CLIENT_ID": "client",
        "NETSUITE_CERTIFICATE_ID": "cert",
        "NETSUITE_PRIVATE_KEY_FILE": "/run/secrets/netsuite.pem",
    },
    "sentinel": {"REDIS_SENTINELS": "10.0.1.1:26379,10.0.1.2:26379", "REDIS_SENTINEL_MASTER": "primary"},
    "payments and payouts": {
        "PAYMENT_MODEL": "deposit",
        "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9",
        "PAYOUT_BANK_ACCOUNTS": "USD=101",
        **{
            f"PAYOUT_{role}_ACCOUNT_ID": str(600 + n)
            for n, role in enumerate(("FEES", "DISPUTES", "RESERVES", "ADJUSTMENTS", "SUSPENSE", "VARIANCE"))
        },
    },
    "suitetax and discount items": {
        "NETSUITE_TAX_MODE": "suitetax",
        "NETSUITE_DEFAULT_TAX_CODE_ID": "12",
        "DISCOUNT_MODE": "item",
        "NETSUITE_DISCOUNT_ITEM_ID": "77",
    },
}

_READER_METHODS = {name for name in vars(EnvReader) if not name.startswith("_")}
# A string of a config module shaped like a setting (capitals, at least one underscore) is taken for one: it catches
# names kept in a table and read in a loop under a condition no configuration above meets. Name here any such
# string that is not a setting (an error code, say).
_SETTING_SHAPED = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
NOT_SETTINGS: set[str] = set()


def _literal_reads(tree: ast.Module) -> set[str]:
    """Names passed as string literals to an EnvReader method, or read from os.environ (directly or by a constant)."""
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def literal(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SETTING_SHAPED.fullmatch(node.value):
            names.add(node.value)
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            on_environ = is_environ(node.func.value) and node.func.attr in ("get", "setdefault", "pop")
            if on_environ or node.func.attr in _READER_METHODS - {"get"}:
                key = literal(node.args[0])
        elif isinstance(node, ast.Subscript) and is_environ(node.value):
            key = literal(node.slice)
        if key and re.fullmatch(r"[A-Z][A-Z0-9_]+", key):
            names.add(key)
    return names


def config_modules() -> list[Path]:
    return [ROOT / "app" / "config.py", *sorted((ROOT / "app").glob("config_*.py"))]


def config_reads() -> set[str]:
    names: set[str] = set()
    for extra in CONFIGURATIONS.values():
        env = RecordingEnv(REQUIRED_VALUES | extra)
        load_settings(env)
        names |= env.asked
    for path in config_modules():
        names |= _literal_reads(ast.parse(path.read_text(), filename=str(path)))
    return names - NOT_SETTINGS


def test_the_recording_sees_every_kind_of_read():
    # The collection itself must see reads made through a table (_NUMERIC), a group module (config_money), a
    # configuration-dependent branch (OAuth 2.0) and os.environ outside load_settings.
    names = config_reads()
    assert {"NETSUITE_TIMEOUT_CONNECT", "NETSUITE_TIP_ITEM", "NETSUITE_CLIENT_ID", "PROMETHEUS_MULTIPROC_DIR"} <= names
    assert {"LOCATION_MAP", "BUNDLE_MAP", "WEBHOOK_CALLBACK_URL", "DISCOUNT_MODE", "ORDER_CURRENCY"} <= names


def test_the_ast_walk_finds_a_read_no_configuration_reaches():
    tree = ast.parse(
        "X_CONST = 'ALERT_NAMED_BY_CONSTANT'\n"
        "ROLES = {'fees': 'PAYOUT_FEES_ACCOUNT_ID'}\n"
        "def group(env):\n"
        "    if env.optional('ALERT_SLACK_WEBHOOK_URL'):\n"
        "        return env.integer('ALERT_RETRY_SECONDS', 5), os.environ.get(X_CONST), env.text('PORT')\n"
        "    if env.pairs('BANKS'):\n"
        "        return {role: env.text(name) for role, name in ROLES.items()}\n"
        "    raise ConfigError('must be digits, got USD=1')\n"
    )
    assert _literal_reads(tree) == {
        *("ALERT_SLACK_WEBHOOK_URL", "ALERT_RETRY_SECONDS", "ALERT_NAMED_BY_CONSTANT", "PORT", "BANKS"),
        "PAYOUT_FEES_ACCOUNT_ID",
    }


def test_every_setting_config_reads_is_documented_and_in_the_example_env_file():
    reads, docs, example = config_reads(), documented(), example_entries()
    assert not reads - docs.keys(), f"read by app/config*.py but not in docs/CONFIGURATION.md: {sorted(reads - docs)}"
    missing = reads - example.keys()
    assert not missing, f"read by app/config*.py but not in {EXAMPLE.relative_to(ROOT)}: {sorted(missing)}"


def test_every_documented_setting_is_read_and_listed_in_the_example_env_file():
    reads, docs, example = config_reads(), documented(), example_entries()
    for_load_settings = {name for name, section in docs.items() if not section.startswith(NOT_LOAD_SETTINGS)}
    stale = for_load_settings - reads
    assert not stale, f"documented but read by no app/config*.py: {sorted(stale)}"
    assert docs.keys() == example.keys(), (
        f"documented, not in the example env file: {sorted(docs.keys() - example.keys())}; "
        f"in the example env file, not documented: {sorted(example.keys() - docs.keys())}"
    )


def test_process_and_compose_settings_are_read_by_something():
    used = "\n".join(p.read_text() for p in (ROOT / "Procfile", COMPOSE))
    others = {name for name, section in documented().items() if section.startswith(NOT_LOAD_SETTINGS)}
    unread = {n for n in others if not re.search(rf"\b{n}\b", used)} - config_reads() - READ_BY_TOOLS
    assert not unread, f"documented process/compose settings nothing reads: {sorted(unread)}"


def test_the_defaults_the_example_shows_are_the_ones_config_applies():
    example = example_entries()
    shown = {name: value for name, (commented, value) in example.items() if commented and value}
    assert {"NETSUITE_CONCURRENCY", "NETSUITE_SHIPPING_ITEM", "LOG_FORMAT"} <= shown.keys()
    assert load_settings(REQUIRED_VALUES | shown) == load_settings(REQUIRED_VALUES)


def test_the_example_env_file_holds_no_secret_and_needs_the_required_ones_filled():
    example = example_entries()
    for name in (*REQUIRED, "POSTGRES_PASSWORD", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH"):
        assert example[name] == (False, ""), f"{name}: set, and empty in the example (the operator fills it in)"
    # Left as shipped, the service refuses to start and names what to fill in.
    shipped = {name: value for name, (commented, value) in example.items() if not commented}
    with pytest.raises(ConfigError, match="missing required setting"):
        load_settings(shipped)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_passes_the_env_file_to_every_process_of_ours():
    services = compose()["services"]
    ours = {name: svc for name, svc in services.items() if "build" in svc}
    assert {"web", "worker_orders", "worker_fulfillment", "worker_bulk", "beat", "flower", "migrate"} <= ours.keys()
    for name, service in ours.items():
        assert service.get("env_file") == [ENV_FILE], name
        # OAuth 2.0's key is a file: mounted, so NETSUITE_PRIVATE_KEY_FILE needs no compose edit either.
        assert "./deploy/secrets:/run/shopsync-secrets:ro" in service.get("volumes", []), name
        fixed = set(service.get("environment") or {})
        assert fixed <= COMPOSE_WIRING, f"{name} sets {sorted(fixed - COMPOSE_WIRING)} itself: use the env file"
        assert {"DATABASE_URL", "REDIS_URL"} <= fixed, f"{name}: compose must point it at its own services"
    # The filled-in file and the key hold secrets: never committed, never in the image's build context.
    assert {ENV_FILE, "deploy/secrets/"} <= set((ROOT / ".gitignore").read_text().splitlines())
    assert {"deploy/*.env", "deploy/secrets"} <= set((ROOT / ".dockerignore").read_text().splitlines())


def test_what_compose_interpolates_is_documented_and_set_in_the_example():
    # `docker compose --env-file deploy/shopsync.env` reads these from the example's copy.
    interpolated = set(_INTERPOLATION.findall(COMPOSE.read_text()))
    example, docs = example_entries(), documented()
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH"} <= interpolated
    for name in interpolated:
        assert name in docs, name
        assert example.get(name, (True, ""))[0] is False, f"{name}: compose needs it, uncomment it in the example"
    assert COMPOSE_WIRING <= docs.keys()
