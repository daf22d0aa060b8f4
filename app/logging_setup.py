"""Structured logs with personal data masked and a correlation id on every line.

Emails, phone numbers, names and street addresses never reach a log line, whoever logs it: the formatters
`configure_logging` installs mask what a line carries, the message and also the exception and its traceback
(chained ones included: Celery's task failure lines, `logger.exception`), the stack and, in JSON, every extra field. The
correlation id is the Shopify webhook id: set at intake and again when a worker picks the event up, so one delivery
can be followed from the HTTP request through the task to every NetSuite call it made (the call log carries it too).
"""

from __future__ import annotations

import datetime
import enum
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w/.:-])\+?[\d(][\d\s().-]{5,}\d(?![\w/])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONEY = re.compile(r"\d{1,12}\.\d{2}")  # an amount (99999.00) is no phone: one dot, two decimals

# Keys whose value is personal data wherever they occur: Shopify's customers and addresses (REST snake_case,
# GraphQL camelCase), NetSuite's customer and address bodies (camelCase; SuiteQL answers in lower case). City,
# province and country stay readable (tax and location questions need them); a postal code, a street, a name or
# coordinates do not. `name` is masked everywhere (Shopify's address `name` is the person's full name), so a line
# item's or a task's `name` in a payload is masked too: the SKU, the ids and the message text stay readable.
PERSONAL_KEYS = (
    *("first_name", "last_name", "name", "company", "address1", "address2", "street", "zip", "postal_code"),
    *("postcode", "phone", "email", "latitude", "longitude", "firstName", "lastName", "middleName", "displayName"),
    *("companyName", "altName", "addressee", "attention", "addr1", "addr2", "addr3", "addrPhone", "addrText"),
    *("altPhone", "mobilePhone", "homePhone", "defaultAddress", "credit_card_name"),
)
_PERSONAL = frozenset(key.lower() for key in PERSONAL_KEYS)
# Matched without regard to case, as a JSON or dict key (`"zip": "K2P 1L4"`, `'name': 'Bob'`, also escaped inside a
# string: `\"addr1\": \"1 Main St\"`) or a keyword (`first_name='Bob'`, `?email=x&`): the value is replaced, the
# key, its quotes and a null stay. So a line holds a personal key only if it holds `=`, `":` or `':`, and one of
# _HINTS (every key contains one): a line without both skips the search (most lines: a few C-level `in` tests).
_KEY = "(?:" + "|".join(sorted(_PERSONAL, key=len, reverse=True)) + ")"
_KEYED = re.compile(
    rf"(?P<key>(?<![\w\\])(?:(?P<kq>\\*[\"']){_KEY}(?P=kq):|{_KEY}=)\s*)"
    r"(?:(?P<vq>\\*[\"'])(?P<quoted>.*?)(?<!\\)(?P=vq)|(?!null\b|None\b|true\b|false\b)(?P<bare>[^\s,;&(){}\[\]\"'\\]+))",
    re.IGNORECASE,
)
_HINTS = ("name", "addr", "phone", "mail", "street", "zip", "compan", "atten", "postal", "postcode", "tude")


def _may_hold_personal_keys(text: str) -> bool:
    if "=" not in text and '":' not in text and "':" not in text:
        return False
    lowered = text.lower()
    for hint in _HINTS:
        if hint in lowered:
            return True
    return False


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
    if not 7 <= len(digits) <= 15 or not re.search(r"[\s().+-]", text) or _DATE.search(text) or _MONEY.fullmatch(text):
        return text
    return "***" + digits[-2:]


def _mask_keyed(match: re.Match[str]) -> str:
    if match.group("vq") is not None:
        return f"{match.group('key')}{match.group('vq')}***{match.group('vq')}"
    return f"{match.group('key')}***"


def mask_pii(text: str) -> str:
    """The text with emails, phone numbers and the values of personal keys (PERSONAL_KEYS) masked."""
    if _may_hold_personal_keys(text):
        text = _KEYED.sub(_mask_keyed, text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@***", text)
    return _PHONE.sub(_mask_phone, text)


def mask_value(value: Any, key: str = "") -> Any:
    """A structured value (a JSON log line's extra field) with its personal data masked, keys kept."""
    if key.lower() in _PERSONAL and isinstance(value, str | int | float) and not isinstance(value, bool):
        return "***"
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | datetime.date | datetime.time | enum.Enum):
        return value
    return mask_pii(str(value))  # an exception, a dataclass, anything the encoder would have written with str()


class PiiMaskingFilter(logging.Filter):
    """Masks the message, exception and stack of a record, for a handler whose formatter is not one of ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters write exc_text when exc_info is gone; a JSON formatter would format exc_info afresh.
            record.exc_text, record.exc_info = mask_pii(record.exc_text), None
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        return True


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


class MaskingTextFormatter(logging.Formatter):
    """The text line with its message, exception (traceback included) and stack masked; the fixed prefix (time,
    level, logger, process, correlation id) is left alone: it holds no personal data, and masking it would cost
    every line a phone-shaped match on the timestamp."""

    def format(self, record: logging.LogRecord) -> str:
        cached = record.exc_text
        # Another handler may have cached the traceback unmasked: format it again (masked) from exc_info, or mask
        # the cached text, and leave the record as it was for the handlers after this one.
        record.exc_text = None if record.exc_info else (mask_pii(cached) if cached else cached)
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = mask_pii(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return mask_pii(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask_pii(super().formatStack(stack_info))


# Fields of a JSON line that carry no personal data by construction (time, level, logger, process, correlation id).
_SAFE_JSON_FIELDS = frozenset({"time", "level", "logger", "process", "correlation_id"})


class MaskingJsonFormatter(JsonFormatter):
    """One JSON object a line; the message, `exc_info`, `stack_info` and every extra field masked before encoding."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key, value in log_data.items():
            if key not in _SAFE_JSON_FIELDS and value is not None:
                log_data[key] = mask_pii(value) if isinstance(value, str) else mask_value(value, key)
        return log_data


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return MaskingJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(correlation_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return MaskingTextFormatter("%(asctime)s %(levelname)s %(name)s %(process)d [%(correlation_id)s] %(message)s")


CELERY_PER_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    root = logging.getLogger()
    if not any(isinstance(h.formatter, MaskingJsonFormatter | MaskingTextFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(fmt))
        handler.addFilter(CorrelationFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # Celery's "Task … received" and "Task … succeeded" lines say again, without the correlation id, what the
    # service's own line per event says (`event N synced order …`); at INFO they were two of the ~5 JSON lines a
    # worker wrote per order. Failures and retries still log (ERROR, and our own reschedule line); DEBUG keeps them.
    quiet = logging.DEBUG if logging.getLevelName(level) == logging.DEBUG else logging.WARNING
    for name in CELERY_PER_TASK_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
