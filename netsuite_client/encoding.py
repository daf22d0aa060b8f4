"""The JSON encoder for request bodies: exact Decimal digits, nothing NetSuite would misread."""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from json.encoder import encode_basestring  # json.dumps(s, ensure_ascii=False) for a str, without an encoder per call
from typing import Any

__all__ = ["encode_json"]


def encode_json(value: Any) -> bytes:
    """UTF-8 JSON for a request body; `Decimal` values become JSON numbers with their exact digits.

    The stdlib encoder can only emit a Decimal as a string or via float (409.94 must not become
    409.93999999999999773), so bodies are rendered by this small encoder instead.
    """
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send non-finite Decimal {value!s} to NetSuite")
        # "f" keeps every digit and never uses an exponent, which some NetSuite fields refuse.
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot send non-finite float {value!r} to NetSuite")
        out.append(float.__repr__(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, got {type(key).__name__}")
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON for NetSuite")
