"""The one beat schedule. UTC; every entry has `expires` so a backlog never replays stale runs."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab, schedule

from app.config import Settings
from app.routing import (
    TASK_CHECK_CREDENTIALS,
    TASK_CHECK_SUBSCRIPTIONS,
    TASK_DAILY_DIGEST,
    TASK_EVALUATE_ALERTS,
    TASK_INVENTORY_PUSH,
    TASK_OUTBOX_RELAY,
    TASK_RECONCILE,
    TASK_SCHEDULED_CHECKS,
    TASK_SYNC_PAYOUTS,
)


def build_schedule(settings: Settings) -> dict:
    relay_every = settings.outbox_relay_interval_seconds
    push_every = settings.inventory_push_every_minutes
    alerts_every = settings.alerts.evaluate_every_minutes
    payouts_every = settings.payments.payouts_every_minutes
    return {
        "scheduled-checks": {
            "task": TASK_SCHEDULED_CHECKS,
            "schedule": crontab(minute=41),
            "options": {"queue": "reconcile", "expires": 3000},
        },
        "credentials-check": {
            "task": TASK_CHECK_CREDENTIALS,
            "schedule": crontab(minute="*/15"),
            "options": {"queue": "reconcile", "expires": 600},
        },
        "nightly-reconciliation": {
            "task": TASK_RECONCILE,
            "schedule": crontab(hour=settings.reconcile_hour_utc, minute=0),
            # A night's run that could not start within 6 hours is skipped: the next night covers it.
            "options": {"queue": "reconcile", "expires": 6 * 3600},
        },
        "inventory-push": {
            "task": TASK_INVENTORY_PUSH,
            "schedule": crontab(minute=f"*/{push_every}"),
            # A run that could not start within its own period is superseded by the next one.
            "options": {"queue": "inventory", "expires": push_every * 60},
        },
        # A 30-second cadence is finer than crontab's minute, hence a plain interval schedule.
        "outbox-relay": {
            "task": TASK_OUTBOX_RELAY,
            "schedule": schedule(timedelta(seconds=relay_every)),
            "options": {"queue": "reconcile", "expires": max(relay_every, 1.0)},
        },
        # Hourly, off the hour: a deleted subscription loses at most about an hour of deliveries (then backfilled).
        "check-subscriptions": {
            "task": TASK_CHECK_SUBSCRIPTIONS,
            "schedule": crontab(minute=17),
            "options": {"queue": "reconcile", "expires": 3000},
        },
        # On the alerts queue (worker_bulk), never an order worker's: a receiver that is down delays alerts only.
        # An evaluation that could not start within its period is superseded by the next one.
        "alerts-evaluate": {
            "task": TASK_EVALUATE_ALERTS,
            "schedule": crontab(minute=f"*/{alerts_every}"),
            "options": {"queue": "alerts", "expires": alerts_every * 60},
        },
        # Yesterday's figures, shortly after the UTC day closed; a digest that could not go within 6 hours is late
        # enough to skip (the log of the next one still has the DLQ as it stands).
        # Payouts (docs/CONFIGURATION.md "Payments and payouts"): a run that could not start within its period is
        # superseded by the next one, which reads from the same cursor.
        "payouts-sync": {
            "task": TASK_SYNC_PAYOUTS,
            "schedule": crontab(minute=f"*/{payouts_every}" if payouts_every < 60 else 23),
            "options": {"queue": "reconcile", "expires": payouts_every * 60},
        },
        "daily-digest": {
            "task": TASK_DAILY_DIGEST,
            "schedule": crontab(hour=settings.alerts.digest_hour_utc, minute=5),
            "options": {"queue": "alerts", "expires": 6 * 3600},
        },
    }
