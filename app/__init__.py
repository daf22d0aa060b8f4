"""Flask app factory: webhook intake, health. The Celery app lives in app.celery."""

from __future__ import annotations

import redis
from flask import Flask, g, jsonify
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from app.config import Settings, get_settings
from app.logging_setup import configure_logging, correlation_id


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    flask_app = Flask(__name__)
    flask_app.config["SETTINGS"] = settings
    # Werkzeug enforces this while streaming too, so a chunked body without Content-Length is capped as well.
    flask_app.config["MAX_CONTENT_LENGTH"] = settings.webhook_max_body_bytes

    from app.console import bp as console_bp
    from app.metrics import bp as metrics_bp
    from app.ops import bp as ops_bp
    from app.webhooks import bp as webhooks_bp

    flask_app.register_blueprint(webhooks_bp)
    flask_app.register_blueprint(metrics_bp)
    flask_app.register_blueprint(ops_bp)
    flask_app.register_blueprint(console_bp)  # the page only; its data comes from /ops with the token

    @flask_app.before_request
    def _fresh_correlation() -> None:
        # gthread reuses threads: a request must not log under the previous request's delivery id ...
        g.correlation_token = correlation_id.set(None)

    @flask_app.teardown_request
    def _end_correlation(_exc: BaseException | None) -> None:
        # ... nor leave its own behind for whatever runs next on the thread (a test client runs in the caller's).
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)

    @flask_app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):  # noqa: ANN001
        return jsonify(
            {"error": "body_too_large", "message": f"body exceeds {settings.webhook_max_body_bytes} bytes"}
        ), 413

    @flask_app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @flask_app.get("/readyz")
    def readyz():
        """Ready to take webhooks: PostgreSQL answers and is migrated to the code's head; Redis answers."""
        from app.adapters.redis_client import redis_for
        from app.db.migrate import head_revision
        from app.db.session import engine_for

        checks: dict[str, str] = {}
        try:
            with engine_for(settings.sqlalchemy_url).connect() as conn:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            head = head_revision()
            checks["database"] = "ok"
            checks["migrations"] = "ok" if current == head else f"database at {current}, code at {head}"
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            checks["database"] = exc.__class__.__name__
        try:
            redis_for(settings, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            checks["redis"] = exc.__class__.__name__
        ready = all(value == "ok" for value in checks.values()) and "migrations" in checks
        return jsonify({"status": "ok" if ready else "unavailable", **checks}), 200 if ready else 503

    return flask_app
