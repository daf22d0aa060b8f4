"""The stored delivery's JSON, parsed once per processing (drift counting and the use case both read it)."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError

from app.db.models import WebhookEvent
from app.domain.errors import SchemaError

_ATTR = "_shopsync_payload"


def payload_of(event: WebhookEvent) -> Any:
    cached = getattr(event, _ATTR, None)
    if cached is None:
        cached = json.loads(event.raw_body)
        setattr(event, _ATTR, cached)
    return cached


def load_payload(schema: Schema, payload: Any, what: str) -> dict[str, Any]:
    """Load a payload through its schema; a violation is a permanent `schema` error naming the fields."""
    try:
        return schema.load(payload)
    except ValidationError as exc:
        fields = ", ".join(sorted(str(k) for k in exc.messages)) if isinstance(exc.messages, dict) else ""
        raise SchemaError(f"{what} failed validation on: {fields} ({exc.messages})") from exc
