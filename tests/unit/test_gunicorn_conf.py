"""The gunicorn settings choose prometheus_client's multiprocess directory before prometheus_client is imported:
prometheus_client picks multiprocess mode from the environment once, when first imported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.config import ensure_prometheus_multiproc_dir, prometheus_multiproc_dir

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys
import app.config
assert not any(m.startswith("prometheus_client") for m in sys.modules), "app.config imported prometheus_client"
import app.gunicorn_conf as conf
from prometheus_client import values
print(values.ValueClass.__name__)
print(os.environ["PROMETHEUS_MULTIPROC_DIR"] == conf.MULTIPROC_DIR, os.path.isdir(conf.MULTIPROC_DIR))
print(conf.MULTIPROC_DIR)
"""


def test_gunicorn_conf_sets_a_fresh_directory_before_prometheus_client_loads() -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    shutil.rmtree(out[2], ignore_errors=True)
    assert out[0] == "MmapedValue"  # multiprocess mode (MutexValue: in-process counters)
    assert out[1] == "True True"


def test_an_operators_directory_is_kept_and_created(tmp_path: Path, monkeypatch) -> None:
    chosen = tmp_path / "prometheus"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(chosen))
    assert ensure_prometheus_multiproc_dir() == str(chosen)
    assert chosen.is_dir() and prometheus_multiproc_dir() == str(chosen)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    assert prometheus_multiproc_dir() is None


GUNICORN_LOG_PROBE = """
from gunicorn.config import Config
import app.gunicorn_conf as conf
cfg = Config()
cfg.set("errorlog", conf.errorlog)
cfg.set("logger_class", conf.logger_class)
log = cfg.logger_class(cfg)
log.info("Booting worker with pid: %s", 4242)
try:
    raise ValueError({"first_name": "Bobbie", "address1": "Chestnut Street 92", "email": "bobbie.n@hostmail.com"})
except ValueError:
    log.exception("Error handling request /webhooks/shopify")
"""


def test_gunicorns_own_lines_are_in_the_service_format_and_masked(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"), "LOG_FORMAT": "json"}
    err = subprocess.run(
        [sys.executable, "-c", GUNICORN_LOG_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    ).stderr
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["logger"] for line in lines] == ["gunicorn.error", "gunicorn.error"], err
    assert "4242" in lines[0]["message"] and "Traceback" in lines[1]["exc_info"]
    assert not [s for s in ("Bobbie", "Chestnut", "hostmail") if s in err], err
