"""Shopify ids: global ids (`gid://shopify/Order/450789469`) and the numeric legacy ids inside them.

Ids are Python ints throughout: they exceed 2**53, so they never pass through float on the way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["gid", "id_of", "int_id", "legacy_id"]

_GID = re.compile(r"^gid://shopify/([A-Za-z][A-Za-z0-9]*)/([0-9]+)(?:\?.*)?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def gid(kind: str, id: int | str) -> str:
    """`gid("Order", 450789469)` -> `"gid://shopify/Order/450789469"`."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ValueError(f"invalid Shopify resource kind: {kind!r}")
    return f"gid://shopify/{kind}/{int_id(id, what=f'{kind} id')}"


def legacy_id(gid: str) -> int:
    """The numeric id inside a Shopify global id: `"gid://shopify/LineItem/466157049"` -> 466157049."""
    match = _GID.match(gid) if isinstance(gid, str) else None
    if match is None:
        raise ValueError(f"not a Shopify global id: {gid!r}")
    return int(match.group(2))


def int_id(value: Any, *, what: str = "id") -> int:
    """A positive id given as an int or a string of digits (UnsignedInt64 and gids arrive as strings)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid {what}: {value!r}")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and value.isdigit() and value.isascii():
        result = int(value)
    else:
        raise ValueError(f"invalid {what}: {value!r}")
    if result <= 0:
        raise ValueError(f"invalid {what}: {value!r}")
    return result


def id_of(node: Mapping[str, Any] | None) -> int | None:
    """The legacy id of a node that has `legacyResourceId` and/or a gid `id`."""
    if not isinstance(node, Mapping):
        return None
    legacy = node.get("legacyResourceId")
    if legacy is not None:
        return int_id(legacy, what="legacyResourceId")
    raw = node.get("id")
    return legacy_id(raw) if raw is not None else None
