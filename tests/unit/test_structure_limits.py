"""Size limits that keep the house readable (docs/ARCHITECTURE.md): no module of the service over 600 lines, no
function of the service, its clients or its tasks over 80 lines. A module or function that grows past them has
taken a second job; split it by job rather than raising the limit."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
# Benchmarks, simulators and tests may be long; everything else is the product.
LONG_MODULES_ALLOWED = ("bench", "simulators", "tests")
FUNCTION_LIMITED = ("app", "tasks", "netsuite_client", "shopify_client")
MIGRATIONS = Path("app") / "db" / "migrations"


def _python_files(top: str, root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / top).rglob("*.py") if ".venv" not in p.parts)


def _product_packages() -> list[str]:
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in LONG_MODULES_ALLOWED
    )


def long_modules() -> dict[str, int]:
    found = {}
    files = [f for top in _product_packages() for f in _python_files(top)] + sorted(ROOT.glob("*.py"))
    for path in files:
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            found[str(path.relative_to(ROOT))] = lines
    return found


def long_functions(root: Path = ROOT) -> dict[str, int]:
    found = {}
    for top in FUNCTION_LIMITED:
        for path in _python_files(top, root):
            rel = path.relative_to(root)
            if rel.is_relative_to(MIGRATIONS):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found[f"{rel} {node.name}"] = length
    return found


def test_the_product_packages_are_found() -> None:
    # The limits below would pass vacuously if the walk found nothing.
    assert {"app", "tasks", "netsuite_client", "shopify_client", "schemas"} <= set(_product_packages())


def test_no_module_of_the_service_is_over_600_lines() -> None:
    assert long_modules() == {}


def test_no_function_of_the_service_clients_or_tasks_is_over_80_lines() -> None:
    assert long_functions() == {}


def test_a_new_long_function_is_caught_and_migrations_are_not(tmp_path: Path) -> None:
    body = "    x = 1\n" * MAX_FUNCTION_LINES
    (tmp_path / "app" / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "app" / "grown.py").write_text(f"def fits():\n{body[10:]}\n\nasync def grown():\n{body}")
    (tmp_path / "app" / "db" / "migrations" / "m.py").write_text(f"def upgrade():\n{body}")
    found = long_functions(tmp_path)
    assert found == {"app/grown.py grown": MAX_FUNCTION_LINES + 1}
