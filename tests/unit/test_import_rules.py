"""Dependencies run one way (docs/ARCHITECTURE.md): tasks -> app -> clients, schemas. Walked with ast over every
import, function-level ones included, so a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# package -> top-level packages it must never import
FORBIDDEN = {
    "app": {"tasks", "simulators", "devtools", "bench", "tests"},
    "tasks": {"simulators", "devtools", "bench", "tests"},
    "netsuite_client": {"app", "tasks", "simulators", "devtools"},
    "shopify_client": {"app", "tasks", "simulators", "devtools"},
    "schemas": {"app", "tasks", "simulators", "devtools"},
    "simulators": {"app", "tasks", "devtools"},
    "beat_schedule": {"tasks", "simulators", "devtools"},
}
# module -> modules it must never import (the celery app and the schedule are wired from outside both)
FORBIDDEN_MODULES = {"app.celery": {"beat_schedule"}, "beat_schedule": {"app.celery"}}
# Layers inside app (docs/ARCHITECTURE.md): module prefix -> module prefixes it must never import. The domain is
# pure (no app wiring, no database, no HTTP, no broker); repositories and adapters sit below the use cases.
FORBIDDEN_LAYERS = {
    "app.domain": {
        "app.services",
        "app.adapters",
        "app.db",
        "app.config",
        "app.celery",
        "sqlalchemy",
        "requests",
        "redis",
        "celery",
        "flask",
        "netsuite_client",
        "shopify_client",
    },
    "app.db": {"app.services", "app.adapters", "app.celery", "app.publish"},
    "app.adapters": {"app.services", "app.celery", "app.publish"},
}
ENVIRONMENT_READER = "app/config.py"
ENVIRONMENT_CHECKED = ("app", "tasks", "netsuite_client", "shopify_client", "schemas")


def _module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imported(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import; relative ones resolved against the file's own package."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in {"environ", "getenv"} for alias in node.names):
                lines.append(node.lineno)
    return lines


def _files() -> list[Path]:
    files = [p for top in FORBIDDEN if (ROOT / top).is_dir() for p in (ROOT / top).rglob("*.py")]
    return sorted([*files, ROOT / "beat_schedule.py"])


def violations(files: list[Path] | None = None, root: Path = ROOT) -> dict[str, str]:
    """'file: rule' -> where, for every import or environment read that breaks a rule."""
    found: dict[str, str] = {}
    for path in files if files is not None else _files():
        rel = path.relative_to(root).as_posix()
        module = _module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        top = module.split(".")[0]
        tree = ast.parse(path.read_text(), filename=rel)
        for line, target in _imported(tree, package):
            target_top = target.split(".")[0]
            if target_top in FORBIDDEN.get(top, set()):
                found.setdefault(f"{rel}: {top} imports {target_top}", f"{rel}:{line} imports {target}")
            for banned in FORBIDDEN_MODULES.get(module, set()):
                if _within(target, banned):
                    found.setdefault(f"{rel}: {module} imports {banned}", f"{rel}:{line} imports {target}")
            for layer, banned_prefixes in FORBIDDEN_LAYERS.items():
                if not _within(module, layer):
                    continue
                for banned in banned_prefixes:
                    if _within(target, banned):
                        found.setdefault(f"{rel}: {layer} imports {banned}", f"{rel}:{line} imports {target}")
        if top in ENVIRONMENT_CHECKED and rel != ENVIRONMENT_READER:
            for line in _reads_environment(tree):
                found.setdefault(f"{rel}: os.environ outside {ENVIRONMENT_READER}", f"{rel}:{line}")
    return found


def test_the_walk_sees_every_package() -> None:
    seen = {_module_name(p).split(".")[0] for p in _files()}
    assert set(FORBIDDEN) <= seen


def test_imports_run_one_way() -> None:
    found = violations()
    assert found == {}, "\n".join(f"{where}: breaks '{rule}'" for rule, where in found.items())


def test_a_client_importing_app_lazily_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "netsuite_client" / "_rule_probe.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from app.config import get_settings\n    return get_settings\n")
    found = violations([bad], root=tmp_path)
    assert found == {
        "netsuite_client/_rule_probe.py: netsuite_client imports app": "netsuite_client/_rule_probe.py:2 imports "
        "app.config"
    }


def test_relative_imports_resolve_against_the_files_package() -> None:
    tree = ast.parse("from .client import X\nfrom ..app import config\n")
    assert _imported(tree, "netsuite_client") == [
        (1, "netsuite_client.client"),
        (1, "netsuite_client.client.X"),
        (2, "app"),
        (2, "app.config"),
    ]
    assert _imported(ast.parse("from . import limiter\n"), "netsuite_client")[0] == (1, "netsuite_client")


def test_an_environment_read_outside_config_is_caught() -> None:
    tree = ast.parse("import os\nx = os.environ.get('A')\nfrom os import getenv\n")
    assert sorted(_reads_environment(tree)) == [2, 3]


def test_a_domain_module_reaching_for_the_database_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "app" / "domain" / "_rule_probe.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from app.db.repositories import load_view\nimport sqlalchemy\n")
    found = violations([bad], root=tmp_path)
    assert found == {
        "app/domain/_rule_probe.py: app.domain imports app.db": (
            "app/domain/_rule_probe.py:1 imports app.db.repositories"
        ),
        "app/domain/_rule_probe.py: app.domain imports sqlalchemy": "app/domain/_rule_probe.py:2 imports sqlalchemy",
    }
    # The same import from a use case is allowed: services load state through the repositories.
    fine = tmp_path / "app" / "services" / "_rule_probe.py"
    fine.parent.mkdir(parents=True)
    fine.write_text("from app.db.repositories import load_view\n")
    assert violations([fine], root=tmp_path) == {}
