"""Record operations (`record/v1`): upsert on an external id, create, get, sublists, list, patch, delete, transform.

Also the checks that keep a caller's data from steering a URL, shared with the asynchronous submissions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from .errors import NetSuiteError
from .responses import _INTERNAL_ID, _json_body, _location_id, _self_link_segments
from .suiteql import SUITEQL_MAX_PAGE_SIZE
from .transport import Transport

__all__ = ["RecordOperations"]

_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]+$")
# Record types, sublists and field names become path segments and query values: a strict shape keeps a
# caller's data from ever steering the URL ("../", "?", "#").
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# --- validation -----------------------------------------------------------------------------------------


def _check_identifier(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError(f"invalid NetSuite {kind}: {value!r}")
    return value


def _check_external_id(external_id: str) -> str:
    if not isinstance(external_id, str) or not _EXTERNAL_ID.match(external_id):
        raise ValueError(f"external id must be letters, digits, '_' or '-': {external_id!r}")
    return external_id


def _check_upsert(record_type: str, external_id: str, body: Mapping[str, Any]) -> None:
    _check_identifier("record type", record_type)
    _check_external_id(external_id)
    if not isinstance(body, Mapping):
        raise TypeError("upsert body must be a mapping")
    if "id" in body:
        raise ValueError("upsert body must not contain an internal 'id' (NetSuite refuses it)")
    if body.get("externalId", external_id) != external_id:
        raise ValueError("upsert body externalId differs from the external id in the URL")


def _record_ref(ref: str | int) -> tuple[str, str | None, str | None]:
    """(path segment, internal id, external id) for an internal id or an `eid:<externalId>` reference."""
    if isinstance(ref, bool):
        raise TypeError("record id must be an int or str, not bool")
    if isinstance(ref, int):
        if ref <= 0:
            raise ValueError(f"invalid NetSuite internal id: {ref!r}")
        return str(ref), str(ref), None
    if isinstance(ref, str):
        if _INTERNAL_ID.match(ref):
            return ref, ref, None
        if ref.startswith("eid:"):
            eid = _check_external_id(ref[4:])
            return ref, None, eid
    raise ValueError(f"invalid NetSuite record id (internal id or 'eid:<externalId>'): {ref!r}")


def _replace_params(replace: Sequence[str]) -> dict[str, str]:
    if isinstance(replace, str):
        replace = (replace,)
    names = [_check_identifier("sublist", name) for name in replace]
    return {"replace": ",".join(names)} if names else {}


def _appends_lines(body: Mapping[str, Any], replace: Sequence[str]) -> bool:
    """Whether sending `body` twice could add sublist lines twice.

    Lines sent without `?replace=<sublist>` are added, not matched, unless they carry their key; so
    repeating such a request after an ambiguous failure would duplicate them.
    """
    replaced = {replace} if isinstance(replace, str) else set(replace)
    for name, value in body.items():
        if isinstance(value, Mapping) and isinstance(value.get("items"), list) and name not in replaced:
            return True
    return False


# --- response parsing -----------------------------------------------------------------------------------


def _require_location(response: requests.Response) -> tuple[str, str]:
    found = _location_id(response)
    if found is None:
        raise NetSuiteError(
            "NetSuite answered without a Location holding the new record's id",
            status=response.status_code,
            code="MISSING_LOCATION",
        )
    return found, found


def _record_doc(response: requests.Response) -> tuple[dict[str, Any], str | None]:
    doc = _json_body(response)
    if not isinstance(doc, dict):
        raise NetSuiteError("record response is not an object", status=200, code="INVALID_RESPONSE")
    found = doc.get("id")
    return doc, str(found) if found is not None else None


def _sublist_lines(response: requests.Response) -> tuple[list[dict[str, Any]], None]:
    doc = _json_body(response)
    items = doc.get("items") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise NetSuiteError("sublist response has no items", status=200, code="INVALID_RESPONSE")
    return [_sublist_line(item) for item in items if isinstance(item, dict)], None


def _sublist_line(item: dict[str, Any]) -> dict[str, Any]:
    line = dict(item)
    links = line.pop("links", None)
    if "line" not in line and isinstance(links, list):
        for last in _self_link_segments(links):
            if _INTERNAL_ID.match(last):
                line["line"] = int(last)
    return line


def _collection_ids(response: requests.Response) -> tuple[list[str], None]:
    doc = _json_body(response)
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise NetSuiteError("collection response has no items", status=200, code="INVALID_RESPONSE")
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id") is not None], None


def _nothing(response: requests.Response) -> tuple[None, None]:
    return None, None


# --- the operations -------------------------------------------------------------------------------------


class RecordOperations(Transport):
    """Single-record REST operations over the transport."""

    def upsert(
        self,
        record_type: str,
        external_id: str,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str | None:
        """Create or update the record whose external id is `external_id`; the internal id if NetSuite says.

        `PUT record/v1/<type>/eid:<externalId>`. On an existing transaction, sublist lines without their
        `line` key are added, so pass `replace=("item",)` when sending a full set of lines.
        """
        _check_upsert(record_type, external_id, body)
        return self._write_body(
            "upsert",
            "PUT",
            record_type,
            _record_ref(f"eid:{external_id}"),
            body,
            replace=replace,
            parse=lambda r: (_location_id(r), _location_id(r)),
            correlation_id=correlation_id,
            lane=lane,
        )

    def create(
        self,
        record_type: str,
        body: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str:
        """`POST record/v1/<type>`; the new record's internal id.

        With an `externalId` in the body the call is retried like an upsert after a failure that may have created
        the record (read timeout, 5xx): NetSuite refuses a second record with that external id, so a repeat can
        only create it once (the caller sees the refusal, a ValidationError, and can read what is there). Without
        one it is not retried after such a failure: prefer `upsert` wherever the record type allows it.
        """
        _check_identifier("record type", record_type)
        if not isinstance(body, Mapping):
            raise TypeError("create body must be a mapping")
        eid = body.get("externalId")
        return self._call(
            operation="create",
            method="POST",
            path=f"record/v1/{record_type}",
            body=body,
            parse=_require_location,
            record_type=record_type,
            external_id=eid if isinstance(eid, str) else None,
            repeatable=isinstance(eid, str) and bool(eid),
            correlation_id=correlation_id,
            lane=lane,
        )

    def get(
        self,
        record_type: str,
        id_or_eid: str | int | None = None,
        *,
        external_id: str | None = None,
        fields: Sequence[str] | None = None,
        expand_sub_resources: bool = False,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> dict[str, Any]:
        """`GET record/v1/<type>/<id>` by internal id (or `eid:...`), or by `external_id=`."""
        _check_identifier("record type", record_type)
        if (id_or_eid is None) == (external_id is None):
            raise ValueError("pass exactly one of an internal id or external_id=")
        ref = id_or_eid if id_or_eid is not None else "eid:" + _check_external_id(str(external_id))
        target = _record_ref(ref)
        params: dict[str, str] = {}
        if fields:
            names = [fields] if isinstance(fields, str) else list(fields)
            params["fields"] = ",".join(_check_identifier("field", f) for f in names)
        if expand_sub_resources:
            params["expandSubResources"] = "true"
        return self._on_record(
            "get",
            "GET",
            record_type,
            target,
            parse=_record_doc,
            params=params,
            correlation_id=correlation_id,
            lane=lane,
        )

    def get_sublist(
        self,
        record_type: str,
        id: str | int,
        sublist: str = "item",
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> list[dict[str, Any]]:
        """The lines of a sublist (`GET record/v1/<type>/<id>/<sublist>`), each with its `line` key.

        Asks for expanded lines: without `expandSubResources` NetSuite may answer with links only. A line
        that lacks `line` gets it from its self link (`.../item/<line>`).
        """
        _check_identifier("record type", record_type)
        _check_identifier("sublist", sublist)
        return self._on_record(
            "get_sublist",
            "GET",
            record_type,
            _record_ref(id),
            suffix=f"/{sublist}",
            parse=_sublist_lines,
            params={"expandSubResources": "true"},
            correlation_id=correlation_id,
            lane=lane,
        )

    def list_ids(
        self,
        record_type: str,
        *,
        limit: int = SUITEQL_MAX_PAGE_SIZE,
        offset: int = 0,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> list[str]:
        """Internal ids of one page of a record type's instances (`GET record/v1/<type>?limit=&offset=`).

        Needs the View level of the record type's permission and nothing more, which makes `limit=1` the
        cheapest read that proves the role holds it (a role without it gets 403 INSUFFICIENT_PERMISSION).
        """
        _check_identifier("record type", record_type)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= SUITEQL_MAX_PAGE_SIZE:
            raise ValueError(f"limit must be an int between 1 and {SUITEQL_MAX_PAGE_SIZE}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError("offset must be a non-negative int")
        return self._call(
            operation="list",
            method="GET",
            path=f"record/v1/{record_type}",
            params={"limit": str(limit), "offset": str(offset)},
            parse=_collection_ids,
            record_type=record_type,
            correlation_id=correlation_id,
            lane=lane,
        )

    def patch(
        self,
        record_type: str,
        id: str | int,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> None:
        """`PATCH record/v1/<type>/<id>` (+ `?replace=<sublists>`)."""
        _check_identifier("record type", record_type)
        if not isinstance(body, Mapping):
            raise TypeError("patch body must be a mapping")
        self._write_body(
            "patch",
            "PATCH",
            record_type,
            _record_ref(id),
            body,
            replace=replace,
            parse=_nothing,
            correlation_id=correlation_id,
            lane=lane,
        )

    def delete(
        self,
        record_type: str,
        id: str | int,
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> None:
        """`DELETE record/v1/<type>/<id>`. A 404 after an attempt that may have landed counts as done."""
        _check_identifier("record type", record_type)
        self._on_record(
            "delete",
            "DELETE",
            record_type,
            _record_ref(id),
            parse=_nothing,
            missing_is_done=True,
            correlation_id=correlation_id,
            lane=lane,
        )

    def transform(
        self,
        record_type: str,
        id: str | int,
        target_type: str,
        body: Mapping[str, Any] | None = None,
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str:
        """`POST record/v1/<type>/<id>/!transform/<target>`; the new record's internal id.

        Never repeated after a failure that may have created the target (read timeout, 5xx): the caller
        must look for the record (e.g. by its externalId) before trying again.
        """
        _check_identifier("record type", record_type)
        _check_identifier("record type", target_type)
        return self._on_record(
            "transform",
            "POST",
            record_type,
            _record_ref(id),
            suffix=f"/!transform/{target_type}",
            body=dict(body) if body is not None else {},
            parse=_require_location,
            repeatable=False,
            correlation_id=correlation_id,
            lane=lane,
        )

    def _on_record(
        self,
        operation: str,
        method: str,
        record_type: str,
        target: tuple[str, str | None, str | None],
        *,
        parse: Callable[[requests.Response], tuple[Any, str | None]],
        suffix: str = "",
        **call: Any,
    ) -> Any:
        """A call on one record (`record/v1/<type>/<id>[suffix]`, `target` from `_record_ref`), recorded as such."""
        segment, internal_id, eid = target
        return self._call(
            operation=operation,
            method=method,
            path=f"record/v1/{record_type}/{segment}{suffix}",
            parse=parse,
            record_type=record_type,
            external_id=eid,
            internal_id=internal_id,
            **call,
        )

    def _write_body(
        self,
        operation: str,
        method: str,
        record_type: str,
        target: tuple[str, str | None, str | None],
        body: Mapping[str, Any],
        *,
        replace: Sequence[str],
        parse: Callable[[requests.Response], tuple[Any, str | None]],
        correlation_id: str | None,
        lane: str,
    ) -> Any:
        """A PUT/PATCH of `body` (+ `?replace=`): repeatable after an ambiguous failure unless it adds lines."""
        return self._on_record(
            operation,
            method,
            record_type,
            target,
            parse=parse,
            params=_replace_params(replace),
            body=body,
            repeatable=not _appends_lines(body, replace),
            correlation_id=correlation_id,
            lane=lane,
        )
