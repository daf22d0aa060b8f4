"""NetSuite Token-Based Authentication (OAuth 1.0a, HMAC-SHA256) for `requests`."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import requests
from requests_oauthlib import OAuth1

__all__ = ["TokenAuth", "default_base_url", "realm_for"]

_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class _DropCredentialDebug(logging.Filter):
    """Drops the DEBUG records in which oauthlib and requests-oauthlib print signatures and signed headers.

    Both libraries log `oauth_signature` (and the whole Authorization header) at DEBUG; a service that turns
    on DEBUG to chase a bug must not leak a replayable signature into its log pipeline.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_CREDENTIAL_LOGGERS = ("requests_oauthlib.oauth1_auth", "oauthlib.oauth1.rfc5849")


def _guard_library_loggers() -> None:
    for name in _CREDENTIAL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropCredentialDebug) for f in logger.filters):
            logger.addFilter(_DropCredentialDebug())


_guard_library_loggers()


def _check_account_id(account_id: str) -> str:
    if not isinstance(account_id, str) or not _ACCOUNT_ID.match(account_id):
        raise ValueError("NetSuite account id must be letters, digits, '_' or '-' (e.g. '1234567_SB1')")
    return account_id


def realm_for(account_id: str) -> str:
    """The OAuth realm NetSuite expects: uppercase, '-' as '_' ("1234567-sb1" -> "1234567_SB1")."""
    return _check_account_id(account_id).upper().replace("-", "_")


def default_base_url(account_id: str) -> str:
    """REST base URL of a production or sandbox account; the host is lowercase with '_' as '-'."""
    host = _check_account_id(account_id).lower().replace("_", "-")
    return f"https://{host}.suitetalk.api.netsuite.com/services/rest"


def _mask(value: str) -> str:
    return value[:6] + "…" if len(value) > 6 else "…"


class TokenAuth(requests.auth.AuthBase):
    """Signs each request with NetSuite TBA: OAuth 1.0a, HMAC-SHA256, realm = the account id.

    Every call to the auth (every attempt, retries included) gets a fresh nonce and timestamp: NetSuite
    rejects a replayed nonce. `nonce_factory` and `clock` exist to reproduce published test vectors; leave
    them unset in production.
    """

    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        nonce_factory: Callable[[], str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        for name, value in (
            ("consumer_key", consumer_key),
            ("consumer_secret", consumer_secret),
            ("token_id", token_id),
            ("token_secret", token_secret),
        ):
            if not isinstance(value, str) or not value:
                raise ValueError(f"TokenAuth: {name} must be a non-empty string")
        self.account_id = account_id
        self.realm = realm_for(account_id)
        self.consumer_key = consumer_key
        self.token_id = token_id
        self._consumer_secret = consumer_secret
        self._token_secret = token_secret
        self._nonce_factory = nonce_factory
        self._clock = clock

    def _signer(self) -> OAuth1:
        # oauthlib's Client takes a fixed nonce/timestamp at construction only, so a signer is built per
        # request; None lets oauthlib draw a fresh one, which is what production wants.
        nonce = self._nonce_factory() if self._nonce_factory else None
        timestamp = str(int(self._clock())) if self._clock else None
        return OAuth1(
            self.consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self.token_id,
            resource_owner_secret=self._token_secret,
            signature_method="HMAC-SHA256",
            realm=self.realm,
            nonce=nonce,
            timestamp=timestamp,
        )

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return self._signer()(r)

    def __repr__(self) -> str:
        return (
            f"TokenAuth(account_id={self.account_id!r}, consumer_key={_mask(self.consumer_key)!r}, "
            f"token_id={_mask(self.token_id)!r}, consumer_secret='***', token_secret='***')"
        )

    def __getstate__(self) -> None:
        # Pickling would write both secrets wherever the pickle goes (a broker, a cache); build a new
        # TokenAuth from configuration in the receiving process instead.
        raise TypeError("TokenAuth holds secrets and cannot be pickled")
