"""Errors a domain decision can raise. Each carries the DLQ category an operator acts on."""

from __future__ import annotations

from typing import Any


def _restore(cls: type[BaseException], args: tuple, state: dict[str, Any]) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


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

    def __reduce__(self) -> tuple:
        # Pickle (Celery, multiprocessing, copy) rebuilds an exception as cls(*args); subclasses whose constructor
        # takes other arguments (a SKU list, a transition) would come back garbled or not at all. Keep it as is.
        return (_restore, (self.__class__, self.args, dict(self.__dict__)))


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


class RunLater(Exception):
    """Not a failure and nothing sent: the work should run again in `seconds` (rescheduled with that countdown,
    spending none of the task's retries). Whoever raises it bounds how long it keeps doing so."""

    code = "DEFERRED"

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds

    def __reduce__(self) -> tuple:
        return (_restore, (self.__class__, self.args, dict(self.__dict__)))
