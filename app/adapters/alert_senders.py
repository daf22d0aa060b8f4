"""The receivers of alerts: a Slack-compatible incoming webhook and PagerDuty's Events API v2, over HTTP.

Wiring only: the words come from app/domain/alerts.py, the decision to send from app/services/alerts.py. A send
is retried within itself (backoff: exponential with full jitter, bounded by ALERT_SEND_MAX_TRIES and
ALERT_SEND_MAX_SECONDS) on a connection error, a timeout, a 429 or a 5xx; a 4xx is not retried here (the
configuration is wrong, or the body is). A send that still failed raises `SendFailed`, whose text names the
channel and the status or the error's class, never the URL (a Slack webhook URL is its secret) nor the routing key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import backoff
import requests

from app.adapters import counters
from app.config import Settings

log = logging.getLogger(__name__)

MESSAGE = "message"  # an action of its own for a plain message (the digest, a test): no episode behind it


@dataclass(frozen=True)
class Notification:
    key: str  # PagerDuty's dedup key (prefixed with "shopsync:"); names the condition in Slack
    action: str  # trigger | resolve | message
    text: str  # the line a person reads (app.domain.alerts.headline, or the digest)
    severity: str = "info"
    summary: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


class SendFailed(Exception):
    def __init__(self, channel: str, reason: str) -> None:
        self.channel, self.reason = channel, reason
        super().__init__(f"{channel}: {reason}")


class _Retryable(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Sender(Protocol):
    channel: str

    def send(self, notification: Notification) -> None: ...


class _HideSecret(logging.Filter):
    """urllib3 logs each request's path at DEBUG, and a Slack webhook's path is its secret: replaced there."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "/<redacted>"), None
        return True


def _hide_from_urllib3(url: str) -> None:
    parts = urlsplit(url)
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    pool_log = logging.getLogger("urllib3.connectionpool")
    if len(secret) > 1 and not any(isinstance(f, _HideSecret) and f.secret == secret for f in pool_log.filters):
        pool_log.addFilter(_HideSecret(secret))


class _HttpSender:
    channel = "http"

    def __init__(self, url: str, *, timeout: float, max_tries: int, max_seconds: float) -> None:
        _hide_from_urllib3(url)
        self._url = url
        self._timeout = timeout
        self._max_tries = max_tries
        self._max_seconds = max_seconds
        self._session = requests.Session()

    def body(self, notification: Notification) -> dict[str, Any]:
        raise NotImplementedError

    def send(self, notification: Notification) -> None:
        attempt = backoff.on_exception(
            backoff.expo,
            _Retryable,
            max_tries=self._max_tries,
            max_time=self._max_seconds,
            factor=0.5,
            max_value=8,
            logger=None,  # backoff's own log line carries the exception, and with it the URL
            on_backoff=lambda details: self._retrying(notification, details),
        )(self._post)
        try:
            attempt(self.body(notification))
        except (_Retryable, SendFailed) as exc:
            counters.alert_send(self.channel, notification.action, "failed")
            raise SendFailed(self.channel, exc.reason) from None
        counters.alert_send(self.channel, notification.action, "sent")

    def _post(self, body: dict[str, Any]) -> None:
        try:
            response = self._session.post(self._url, json=body, timeout=self._timeout)
        except requests.RequestException as exc:
            raise _Retryable(exc.__class__.__name__) from None  # str(exc) would carry the URL
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 300:
            raise SendFailed(self.channel, f"HTTP {response.status_code} (not retried: check the configuration)")

    def _retrying(self, notification: Notification, details: Mapping[str, Any]) -> None:
        counters.alert_send(self.channel, notification.action, "retry")
        log.warning(
            "alert send to %s (%s %s) failed, attempt %d, again in %.1fs",
            self.channel,
            notification.action,
            notification.key,
            details["tries"],
            details["wait"],
        )


class SlackSender(_HttpSender):
    """A Slack incoming webhook (or a compatible one: Mattermost, Rocket.Chat, a chat relay): `{"text": ...}`."""

    channel = "slack"

    def body(self, notification: Notification) -> dict[str, Any]:
        return {"text": notification.text}


class PagerDutySender(_HttpSender):
    """PagerDuty Events API v2: a trigger and its resolve share the dedup key, so PagerDuty keeps one incident."""

    channel = "pagerduty"

    def __init__(self, url: str, routing_key: str, source: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._routing_key = routing_key
        self._source = source

    def body(self, notification: Notification) -> dict[str, Any]:
        event: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": notification.action,
            "dedup_key": f"shopsync:{notification.key}",
        }
        if notification.action == "trigger":
            event["payload"] = {
                "summary": notification.text[:1024],
                "source": self._source,
                "severity": notification.severity,
                "component": "shopsync",
                "class": notification.key.split(":", 1)[0],
                "custom_details": dict(notification.details),
            }
        return event


def build_senders(settings: Settings) -> list[Sender]:
    """One sender per configured receiver (either, both or none), in the order of AlertSettings.channels()."""
    alerts = settings.alerts
    http = {
        "timeout": alerts.send_timeout_seconds,
        "max_tries": alerts.send_max_tries,
        "max_seconds": alerts.send_max_seconds,
    }
    senders: list[Sender] = []
    if alerts.slack_webhook_url:
        senders.append(SlackSender(alerts.slack_webhook_url, **http))
    if alerts.pagerduty_routing_key:
        senders.append(
            PagerDutySender(alerts.pagerduty_url, alerts.pagerduty_routing_key, settings.shopify_shop, **http)
        )
    return senders
