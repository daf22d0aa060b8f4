"""Alerts that reach a person (docs/CONFIGURATION.md "Alerts"): where notifications go, when a condition fires,
how hard a send is retried, and when beat evaluates and posts the digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.config_env import ConfigError, EnvReader

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


@dataclass(frozen=True)
class AlertSettings:
    # Secrets: a Slack incoming webhook's URL is its credential, as the routing key is PagerDuty's. Never in repr.
    slack_webhook_url: str | None = field(default=None, repr=False)  # ALERT_SLACK_WEBHOOK_URL
    pagerduty_routing_key: str | None = field(default=None, repr=False)  # ALERT_PAGERDUTY_ROUTING_KEY
    pagerduty_url: str = PAGERDUTY_EVENTS_URL  # ALERT_PAGERDUTY_URL
    dlq_depth: int = 10  # ALERT_DLQ_DEPTH: open dead letters above this fire
    dlq_age_hours: float = 24.0  # ALERT_DLQ_AGE_HOURS: the oldest open dead letter older than this fires
    drift_window_hours: int = 24  # ALERT_DRIFT_WINDOW_HOURS: unknown fields seen this recently fire, per topic
    evaluate_every_minutes: int = 5  # ALERT_EVALUATE_EVERY_MINUTES
    digest_hour_utc: int = 7  # ALERT_DIGEST_HOUR_UTC
    send_timeout_seconds: float = 5.0  # ALERT_SEND_TIMEOUT_SECONDS: connect and read, per attempt
    send_max_tries: int = 4  # ALERT_SEND_MAX_TRIES: attempts of one send within one evaluation
    send_max_seconds: float = 30.0  # ALERT_SEND_MAX_SECONDS: the most one send may take with its retries

    def channels(self) -> tuple[str, ...]:
        """The configured receivers, in a fixed order: either, both or none."""
        return tuple(
            name
            for name, configured in (("slack", self.slack_webhook_url), ("pagerduty", self.pagerduty_routing_key))
            if configured
        )


def _url(env: EnvReader, name: str, default: str | None = None) -> str | None:
    value = env.text(name) or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # The value itself is not echoed: a Slack webhook URL is a secret.
        raise ConfigError(f"{name} must be an http(s):// URL")
    return value


def alert_settings(env: EnvReader) -> AlertSettings:
    every = env.integer("ALERT_EVALUATE_EVERY_MINUTES", 5, minimum=1)
    if 60 % every:
        raise ConfigError(f"ALERT_EVALUATE_EVERY_MINUTES must divide 60 (a crontab minute step), got {every}")
    hour = env.integer("ALERT_DIGEST_HOUR_UTC", 7)
    if hour > 23:
        raise ConfigError(f"ALERT_DIGEST_HOUR_UTC must be 0-23, got {hour}")
    return AlertSettings(
        slack_webhook_url=_url(env, "ALERT_SLACK_WEBHOOK_URL"),
        pagerduty_routing_key=env.optional("ALERT_PAGERDUTY_ROUTING_KEY"),
        pagerduty_url=_url(env, "ALERT_PAGERDUTY_URL", PAGERDUTY_EVENTS_URL),
        dlq_depth=env.integer("ALERT_DLQ_DEPTH", 10),
        dlq_age_hours=env.number("ALERT_DLQ_AGE_HOURS", 24.0),
        drift_window_hours=env.integer("ALERT_DRIFT_WINDOW_HOURS", 24, minimum=1),
        evaluate_every_minutes=every,
        digest_hour_utc=hour,
        send_timeout_seconds=env.number("ALERT_SEND_TIMEOUT_SECONDS", 5.0),
        send_max_tries=env.integer("ALERT_SEND_MAX_TRIES", 4, minimum=1),
        send_max_seconds=env.number("ALERT_SEND_MAX_SECONDS", 30.0),
    )
