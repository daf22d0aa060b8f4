"""Shopify webhook HMAC: sign (simulators, demo, tests) and verify (intake)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sign(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(secret, raw body)) as Shopify sends it in X-Shopify-Hmac-Sha256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, header_value: str | None, secrets: Iterable[str]) -> bool:
    """True if the header matches the body under any of the secrets (a rotation keeps old ones valid).

    Every secret is compared, with compare_digest, whatever the outcome of the previous one, so the time taken
    says nothing about which secret (if any) matched.
    """
    if not header_value:
        return False
    try:
        given = base64.b64decode(header_value.strip(), validate=True)
    except (ValueError, TypeError):
        return False
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, given)
    return matched
