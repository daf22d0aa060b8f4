"""The ops console: one static page and its script, a browser front end over the /ops JSON API.

The page holds no data and loads without a token; the operator types the OPS token into it, the script keeps it in
sessionStorage and sends it as `Authorization: Bearer` on every /ops call. The /ops blueprint stays locked as a
whole: nothing under /ops is exempt from the token. Everything here is served with a strict Content-Security-Policy
(own origin only, no inline script or style, no framing).
"""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("console", __name__, url_prefix="/console", static_folder="static", static_url_path="/static")

# img-src blob: is the drift plot, fetched with the bearer header by the script and shown from an object URL.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


@bp.get("/")
def page() -> Response:
    return bp.send_static_file("index.html")


@bp.after_request
def security_headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
