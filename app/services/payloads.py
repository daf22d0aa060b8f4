"""The stored delivery's JSON, parsed once per processing (drift counting and the use case both read it)."""

from __future__ import annotations

import json
from typing import Any

from app.db.models import WebhookEvent

_ATTR = "_shopsync_payload"


def payload_of(event: WebhookEvent) -> Any:
    cached = getattr(event, _ATTR, None)
    if cached is None:
        cached = json.loads(event.raw_body)
        setattr(event, _ATTR, cached)
    return cached
