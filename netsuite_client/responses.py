"""Reading NetSuite's answers: JSON bodies, and record ids out of `Location` headers and self links.

Shared by the record, SuiteQL and async-job operations; nothing here sends a request.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from .errors import NetSuiteError

_INTERNAL_ID = re.compile(r"^[0-9]+$")


def _json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise NetSuiteError(
            "response body is not JSON",
            status=response.status_code,
            code="INVALID_RESPONSE",
        ) from None


def _last_segment(url: str) -> str:
    """The last path segment of a URL: `.../salesOrder/123/` -> `123`."""
    return urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _internal_id_from_location(location: str | None) -> str | None:
    """The internal id a `Location` header points at, if its last segment is one."""
    if not location:
        return None
    last = _last_segment(location)
    return last if _INTERNAL_ID.match(last) else None


def _location_id(response: requests.Response) -> str | None:
    return _internal_id_from_location(response.headers.get("Location"))


def _self_link_segments(links: Iterable[Any]) -> Iterator[str]:
    """The last path segment of each `rel: self` link of a NetSuite `links` list."""
    for link in links:
        if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
            yield _last_segment(link["href"])
