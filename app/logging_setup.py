"""Structured logs with personal data masked and a correlation id on every line.

Emails, phone numbers and street addresses never reach a log line, whoever formats it. The correlation id is
the Shopify webhook id: set at intake and again when a worker picks the event up, so one delivery can be
followed from the HTTP request through the task to every NetSuite call it made (the call log carries it too).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w/.:-])\+?[\d(][\d\s().-]{5,}\d(?![\w/])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


@contextmanager
def correlated(value: str | None) -> Iterator[None]:
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    # A phone has separators (or a +) and 7-15 digits; bare ids and ISO dates stay readable.
    if not 7 <= len(digits) <= 15 or not re.search(r"[\s().+-]", text) or _DATE.search(text):
        return text
    return "***" + digits[-2:]


def mask_pii(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@***", text)
    return _PHONE.sub(_mask_phone, text)


class PiiMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(correlation_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s %(process)d [%(correlation_id)s] %(message)s")


CELERY_PER_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, PiiMaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(fmt))
        handler.addFilter(CorrelationFilter())
        handler.addFilter(PiiMaskingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # Celery's "Task … received" and "Task … succeeded" lines say again, without the correlation id, what the
    # service's own line per event says (`event N synced order …`); at INFO they were two of the ~5 JSON lines a
    # worker wrote per order. Failures and retries still log (ERROR, and our own reschedule line); DEBUG keeps them.
    quiet = logging.DEBUG if logging.getLevelName(level) == logging.DEBUG else logging.WARNING
    for name in CELERY_PER_TASK_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
