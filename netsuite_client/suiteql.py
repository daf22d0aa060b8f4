"""SuiteQL: safe literals (SuiteQL over REST has no bind parameters) and queries read page by page."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from .errors import NetSuiteError, SuiteQLLimitError
from .responses import _json_body
from .transport import Transport

__all__ = ["SUITEQL_MAX_PAGE_SIZE", "SUITEQL_MAX_ROWS", "SuiteQLOperations", "suiteql_in", "suiteql_literal"]

SUITEQL_MAX_PAGE_SIZE = 1000
SUITEQL_MAX_ROWS = 100_000
# Oracle rejects an IN list longer than this (ORA-01795), and SuiteQL inherits it.
SUITEQL_MAX_IN_ITEMS = 1000


def suiteql_literal(value: str) -> str:
    """A SuiteQL string literal for `value`: `O'Brien` -> `'O''Brien'`.

    SuiteQL over REST has no bind parameters, so every SKU, email or external id placed in a query must
    go through here. Control characters (NUL included) are refused rather than escaped: no legitimate key
    contains them and some layers truncate at NUL.
    """
    if not isinstance(value, str):
        raise TypeError(f"suiteql_literal expects str, got {type(value).__name__}")
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            raise ValueError("SuiteQL literal contains a control character")
    return "'" + value.replace("'", "''") + "'"


def suiteql_in(values: Iterable[str]) -> str:
    """A parenthesised list of SuiteQL literals for `IN`: `('a','b')`. Duplicates are dropped."""
    if isinstance(values, str):
        raise TypeError("suiteql_in expects an iterable of str, not a single str")
    literals = list(dict.fromkeys(suiteql_literal(v) for v in values))
    if not literals:
        raise ValueError("suiteql_in needs at least one value (IN () is not valid SuiteQL)")
    if len(literals) > SUITEQL_MAX_IN_ITEMS:
        raise ValueError(f"suiteql_in accepts at most {SUITEQL_MAX_IN_ITEMS} values; split the query")
    return "(" + ",".join(literals) + ")"


class SuiteQLOperations(Transport):
    """`suiteql()`: a query's rows, fetched page by page over the transport."""

    def suiteql(
        self,
        query: str,
        *,
        page_size: int = SUITEQL_MAX_PAGE_SIZE,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> Iterator[dict[str, Any]]:
        """Rows of a SuiteQL query, fetched page by page (`POST query/v1/suiteql?limit=&offset=`).

        The query MUST have an ORDER BY on a unique key: NetSuite pages by offset, and without a total order
        rows can repeat or go missing between pages. NetSuite serves at most 100,000 rows per query; when
        more remain this raises `SuiteQLLimitError` after yielding the rows it could, and the caller should
        page with keyset conditions (`WHERE id > <last id> ORDER BY id`). Build literals with
        `suiteql_literal` / `suiteql_in`, never by string formatting.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("SuiteQL query must be a non-empty string")
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise TypeError("page_size must be an int")
        if not 1 <= page_size <= SUITEQL_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {SUITEQL_MAX_PAGE_SIZE}")
        return self._suiteql_pages(query, page_size, correlation_id or uuid.uuid4().hex, lane)

    def _suiteql_pages(self, query: str, page_size: int, correlation_id: str, lane: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._call(
                operation="suiteql",
                method="POST",
                path="query/v1/suiteql",
                params={"limit": str(page_size), "offset": str(offset)},
                body={"q": query},
                extra_headers={"Prefer": "transient"},
                parse=_suiteql_page,
                correlation_id=correlation_id,
                lane=lane,
            )
            items, has_more = page
            for row in items:
                yield _strip_links(row)
            if not has_more:
                return
            offset += page_size
            if offset + page_size > SUITEQL_MAX_ROWS:
                raise SuiteQLLimitError(
                    f"SuiteQL serves at most {SUITEQL_MAX_ROWS} rows a query and more remain after {offset}; "
                    "page with a keyset condition (WHERE key > last ORDER BY key) instead of offsets",
                    code="SUITEQL_ROW_LIMIT",
                )


def _suiteql_page(response: requests.Response) -> tuple[tuple[list[Any], bool], None]:
    doc = _json_body(response)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise NetSuiteError("SuiteQL response has no items", status=response.status_code, code="INVALID_RESPONSE")
    return (doc["items"], bool(doc.get("hasMore"))), None


def _strip_links(row: Any) -> Any:
    if isinstance(row, dict):
        row = dict(row)
        row.pop("links", None)
    return row
