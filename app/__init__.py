"""Flask app factory: webhook intake, health. The Celery app lives in app.celery."""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from app.config import Settings, get_settings
from app.logging_setup import configure_logging


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    flask_app = Flask(__name__)
    flask_app.config["SETTINGS"] = settings
    # Werkzeug enforces this while streaming too, so a chunked body without Content-Length is capped as well.
    flask_app.config["MAX_CONTENT_LENGTH"] = settings.webhook_max_body_bytes

    from app.metrics import bp as metrics_bp
    from app.ops import bp as ops_bp
    from app.webhooks import bp as webhooks_bp

    flask_app.register_blueprint(webhooks_bp)
    flask_app.register_blueprint(metrics_bp)
    flask_app.register_blueprint(ops_bp)

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
        from app.db.session import get_engine

        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            return jsonify({"status": "unavailable", "database": exc.__class__.__name__}), 503
        return jsonify({"status": "ok"})

    return flask_app
