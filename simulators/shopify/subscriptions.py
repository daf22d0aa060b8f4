"""Webhook subscriptions of the simulated shop (created through the Admin API, as the service does).

Shopify deletes an API-created subscription after 8 consecutive failed deliveries (API_FACTS); the control API
reports failures with `fail`, and a success resets the run.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

MAX_CONSECUTIVE_FAILURES = 8
FORMATS = ("JSON", "XML")
FIRST_SUBSCRIPTION_ID = 1_200_000_001


@dataclass(frozen=True)
class Subscription:
    id: int
    topic: str
    uri: str
    format: str
    api_version: str
    created_at: float
    updated_at: float
    consecutive_failures: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "gid": f"gid://shopify/WebhookSubscription/{self.id}",
            "topic": self.topic,
            "uri": self.uri,
            "format": self.format,
            "api_version": self.api_version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "consecutive_failures": self.consecutive_failures,
        }


@dataclass(frozen=True)
class SubscriptionError:
    field: list[str] | None
    message: str


def _check_uri(uri: Any) -> SubscriptionError | None:
    # Shopify wants https for HTTP endpoints; plain http is accepted here so tests can use loopback receivers.
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return SubscriptionError(["webhookSubscription", "uri"], "Address is invalid")
    return None


def _normal_format(value: Any) -> str | None:
    text = "JSON" if value is None else str(value).upper()
    return text if text in FORMATS else None


class SubscriptionStore:
    def __init__(self, api_version: Callable[[], str], clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._api_version = api_version
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._subscriptions: dict[int, Subscription] = {}
            self._ids = itertools.count(FIRST_SUBSCRIPTION_ID)

    def list(self, topics: list[str] | None = None) -> list[Subscription]:
        with self._lock:
            found = sorted(self._subscriptions.values(), key=lambda s: s.id)
        return [s for s in found if not topics or s.topic in topics]

    def get(self, subscription_id: int) -> Subscription | None:
        with self._lock:
            return self._subscriptions.get(subscription_id)

    def create(self, topic: str, uri: Any, fmt: Any) -> tuple[Subscription | None, list[SubscriptionError]]:
        error = _check_uri(uri)
        if error is not None:
            return None, [error]
        normal = _normal_format(fmt)
        if normal is None:
            return None, [SubscriptionError(["webhookSubscription", "format"], f"Format must be one of {FORMATS}")]
        with self._lock:
            if any(s.topic == topic and s.uri == uri for s in self._subscriptions.values()):
                return None, [
                    SubscriptionError(["webhookSubscription", "uri"], "Address for this topic has already been taken")
                ]
            now = self._clock()
            subscription = Subscription(next(self._ids), topic, uri, normal, self._api_version(), now, now)
            self._subscriptions[subscription.id] = subscription
        return subscription, []

    def update(self, subscription_id: int | None, uri: Any, fmt: Any) -> tuple[Subscription | None, list[Any]]:
        error = _check_uri(uri)
        if error is not None:
            return None, [error]
        normal = _normal_format(fmt)
        if normal is None:
            return None, [SubscriptionError(["webhookSubscription", "format"], f"Format must be one of {FORMATS}")]
        with self._lock:
            current = self._subscriptions.get(subscription_id) if subscription_id is not None else None
            if current is None:
                return None, [SubscriptionError(["id"], "Webhook subscription does not exist")]
            if any(
                s.topic == current.topic and s.uri == uri and s.id != current.id for s in self._subscriptions.values()
            ):
                return None, [
                    SubscriptionError(["webhookSubscription", "uri"], "Address for this topic has already been taken")
                ]
            # A new address starts with a clean record of deliveries.
            updated = replace(current, uri=uri, format=normal, updated_at=self._clock(), consecutive_failures=0)
            self._subscriptions[current.id] = updated
        return updated, []

    def delete(self, subscription_id: int) -> bool:
        with self._lock:
            return self._subscriptions.pop(subscription_id, None) is not None

    def record_deliveries(self, subscription_id: int, failures: int) -> dict[str, Any] | None:
        """`failures` more failed deliveries in a row (0: one success, which resets the run); None if unknown.
        At MAX_CONSECUTIVE_FAILURES the subscription is deleted, as Shopify does."""
        with self._lock:
            current = self._subscriptions.get(subscription_id)
            if current is None:
                return None
            count = current.consecutive_failures + failures if failures > 0 else 0
            deleted = count >= MAX_CONSECUTIVE_FAILURES
            if deleted:
                del self._subscriptions[subscription_id]
            else:
                self._subscriptions[subscription_id] = replace(current, consecutive_failures=count)
        return {"id": subscription_id, "consecutive_failures": count, "deleted": deleted}

    def count(self) -> int:
        with self._lock:
            return len(self._subscriptions)
