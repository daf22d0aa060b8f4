"""Gunicorn settings for the webhook intake (operators override with GUNICORN_CMD_ARGS).

gthread workers: each request waits on PostgreSQL and Redis, so threads keep the cores busy while a
request waits, and 3 processes x 8 threads covers Shopify's bursts on a 2-core machine.

Prometheus multiprocess mode: the intake counters (app.webhook_metrics) live in each worker process, so each
process writes them to a file in PROMETHEUS_MULTIPROC_DIR and /metrics sums the files. The directory must be set
before prometheus_client is first imported, which is why it is chosen here, in the master, before the app loads:
the operator's value if given (it must be a directory private to this gunicorn), else a fresh temporary one.
"""

import glob
import os

from gunicorn import glogging

# app.config and app.logging_setup import nothing that imports prometheus_client, so the directory is still set in
# time below.
from app.config import ConfigError, ensure_prometheus_multiproc_dir, get_settings
from app.logging_setup import CorrelationFilter, formatter

worker_class = "gthread"
workers = 3
threads = 8
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"


class MaskedLogger(glogging.Logger):
    """gunicorn's own log (start, stop, worker timeouts, an exception that escaped the app) in the service's format
    (LOG_FORMAT), with the correlation id and personal data masked like every other line (app/logging_setup.py)."""

    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        try:
            fmt = get_settings().log_format
        except ConfigError:
            fmt = "text"  # the app stops at start with the error itself; these lines stay masked meanwhile
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter(fmt))
            handler.addFilter(CorrelationFilter())


logger_class = MaskedLogger

# Not a gunicorn setting (gunicorn ignores names it does not know): the directory chosen for this server.
MULTIPROC_DIR = ensure_prometheus_multiproc_dir()

# Imported now, after the directory is set, never inside a hook: gunicorn runs child_exit from its SIGCHLD
# handler, and an import started there can interrupt another import of the same package (seen at shutdown).
from prometheus_client import multiprocess  # noqa: E402


def on_starting(server: object) -> None:
    # Counters restart with the server: files left by an earlier run in a reused directory would be summed in.
    for stale in glob.glob(os.path.join(MULTIPROC_DIR, "*.db")):
        os.remove(stale)


def child_exit(server: object, worker: object) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
