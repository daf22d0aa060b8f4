"""Errors a domain decision can raise. Each carries the DLQ category an operator acts on."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help: the event goes to the DLQ with this reason."""

    category = "data"
    code: str | None = None

    def __init__(self, message: str, *, code: str | None = None, category: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if category is not None:
            self.category = category


class UnknownSku(PermanentError):
    code = "UNKNOWN_SKU"

    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__("unknown SKU " + ", ".join(skus))


class MappingError(PermanentError):
    code = "MAPPING"


class SchemaError(PermanentError):
    category = "schema"
    code = "SCHEMA"


class RetryLater(Exception):
    """Not a failure of the data: the work cannot run right now (another worker holds it). Retried."""

    code = "BUSY"
