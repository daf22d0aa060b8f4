"""NetSuite OAuth 2.0 machine-to-machine auth (client credentials with a signed JWT assertion) for `requests`.

The integration record's certificate (uploaded to NetSuite) has an id; the matching private key signs a
short-lived JWT, which the token endpoint exchanges for an access token of about an hour. The token is
cached and sent as `Authorization: Bearer`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .errors import AuthError, ConcurrencyLimitError, NetSuiteError, ServerError, TransportError

__all__ = ["ASSERTION_LIFETIME_S", "OAuth2ClientCredentials", "default_token_url"]

logger = logging.getLogger("netsuite_client.oauth2")

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# NetSuite refuses an assertion whose exp is more than an hour after iat; half that leaves room for clock
# skew between this host and NetSuite.
ASSERTION_LIFETIME_S = 1800
# What NetSuite issues when the response leaves expires_in out.
_DEFAULT_TOKEN_LIFETIME_S = 3600.0

_CURVES: dict[str, type[ec.EllipticCurve]] = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
_RSA_PSS = frozenset({"PS256", "PS384", "PS512"})
_OAUTH_ERROR = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MAX_DETAIL = 300


def default_token_url(base_url: str) -> str:
    """The token endpoint beside a REST base URL: `<base>/auth/oauth2/v1/token`.

    On NetSuite the base is `https://<acct-host>.suitetalk.api.netsuite.com/services/rest`.
    """
    return base_url.rstrip("/") + "/auth/oauth2/v1/token"


def _mask(value: str) -> str:
    return value[:6] + "…" if len(value) > 6 else "…"


def _load_key(private_key_pem: str | bytes, algorithm: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    data = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        # cryptography's message can quote parts of the input; the key must not reach a log.
        raise ValueError("OAuth2ClientCredentials: private_key_pem is not an unencrypted PEM private key") from None
    if algorithm in _RSA_PSS:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"OAuth2ClientCredentials: {algorithm} needs an RSA private key")
        return key
    curve = _CURVES.get(algorithm)
    if curve is None:
        raise ValueError(f"OAuth2ClientCredentials: unsupported algorithm {algorithm!r} (PS256 or ES256...)")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, curve):
        raise ValueError(f"OAuth2ClientCredentials: {algorithm} needs an EC private key on {curve.name}")
    return key


class OAuth2ClientCredentials(requests.auth.AuthBase):
    """Bearer auth with a cached access token from NetSuite's client-credentials (M2M) flow.

    Thread-safe: one refresh runs at a time and concurrent callers wait for it instead of asking for tokens
    of their own. `NetSuiteClient` calls `ensure_fresh()` before taking a concurrency slot (so a token
    round trip never holds one) and `invalidate()` when NetSuite answers 401, then retries once.

    Token endpoint failures raise `AuthError` (refused: invalid_grant, unknown client...; not retryable),
    `ServerError` / `TransportError` / `ConcurrencyLimitError` (retryable). None of them is ambiguous: the REST
    request they were fetching a token for was never sent.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        certificate_id: str,
        private_key_pem: str | bytes,
        algorithm: str = "PS256",
        scope: str | Sequence[str] = "rest_webservices",
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (3.05, 30.0),
        refresh_margin_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urllib.parse.urlsplit(token_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ValueError(f"token_url must be an http(s) URL: {token_url!r}")
        for name, value in (("client_id", client_id), ("certificate_id", certificate_id)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"OAuth2ClientCredentials: {name} must be a non-empty string")
        if isinstance(scope, str):
            if not scope:
                raise ValueError("OAuth2ClientCredentials: scope must not be empty")
            scope_claim: str | list[str] = scope
        else:
            scope_claim = list(scope)
            if not scope_claim or not all(isinstance(s, str) and s for s in scope_claim):
                raise ValueError("OAuth2ClientCredentials: scope must be a string or non-empty strings")
        if refresh_margin_s < 0:
            raise ValueError("refresh_margin_s must not be negative")
        self.token_url = token_url
        self.client_id = client_id
        self.certificate_id = certificate_id
        self.algorithm = algorithm
        self.scope = scope_claim
        self._private_key = _load_key(private_key_pem, algorithm)
        self._session = session
        self._timeout = timeout
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_at = 0.0

    # -- the assertion --

    def client_assertion(self) -> str:
        """A freshly signed JWT assertion (kid = certificate id, iss = client id, aud = token URL)."""
        issued_at = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "scope": self.scope,
            "aud": self.token_url,
            "iat": issued_at,
            "exp": issued_at + ASSERTION_LIFETIME_S,
            # A unique jti lets NetSuite refuse a replayed assertion.
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims,
            self._private_key,
            algorithm=self.algorithm,
            headers={"kid": self.certificate_id, "typ": "JWT"},
        )

    # -- the token cache --

    def ensure_fresh(self) -> None:
        """Fetch a token now unless a usable one is cached (raises what a token request raises)."""
        self._token()

    def invalidate(self) -> None:
        """Forget the cached token, so the next request fetches a new one (after NetSuite refused it)."""
        with self._lock:
            self._access_token = None
            self._refresh_at = 0.0

    def _token(self) -> str:
        # The lock is held across the token request on purpose: callers that find the cache stale wait for
        # the one refresh in flight rather than each asking the endpoint for a token of their own.
        with self._lock:
            if self._access_token is not None and self._clock() < self._refresh_at:
                return self._access_token
            token, refresh_at = self._fetch()
            self._access_token = token
            self._refresh_at = refresh_at
            return token

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def _fetch(self) -> tuple[str, float]:
        assertion = self.client_assertion()
        requested_at = self._clock()
        try:
            response = self._http().post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": CLIENT_ASSERTION_TYPE,
                    "client_assertion": assertion,
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            code = "TIMEOUT" if isinstance(exc, requests.Timeout) else "CONNECTION_ERROR"
            logger.warning("netsuite oauth2 token request failed: %s", type(exc).__name__)
            # The exception text names only the URL; the form body (the assertion) is not in it.
            raise TransportError(f"token endpoint: {type(exc).__name__}", code=code) from None
        if response.status_code != 200:
            err = self._endpoint_error(response, assertion)
            logger.warning(
                "netsuite oauth2 token request refused: status=%s code=%s", response.status_code, err.code or "-"
            )
            raise err
        try:
            doc = response.json()
        except ValueError:
            doc = None
        token = doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise NetSuiteError(
                "token endpoint answered 200 without an access_token", status=200, code="INVALID_TOKEN_RESPONSE"
            )
        lifetime = _lifetime(doc.get("expires_in"))
        # Well before expiry, so that a request signed just before the refresh point still lands in time;
        # a token shorter-lived than twice the margin is kept for half its life instead.
        usable = lifetime - self._refresh_margin_s if lifetime > 2 * self._refresh_margin_s else lifetime / 2
        logger.info(
            "netsuite oauth2 access token obtained for client %s (expires_in=%ds)", _mask(self.client_id), lifetime
        )
        return token, requested_at + usable

    @staticmethod
    def _endpoint_error(response: requests.Response, assertion: str) -> NetSuiteError:
        status = response.status_code
        try:
            doc = json.loads(response.text) if response.text.strip() else None
        except ValueError:
            doc = None
        code: str | None = None
        detail = response.reason or "token request refused"
        if isinstance(doc, dict):
            raw_code = doc.get("error")
            if isinstance(raw_code, str) and _OAUTH_ERROR.match(raw_code):
                code = raw_code
            description = doc.get("error_description") or doc.get("title") or doc.get("detail")
            if isinstance(description, str) and description:
                detail = description
        # Defensive: an endpoint that echoes the request must not carry the assertion into an error message.
        detail = " ".join(detail.replace(assertion, "***").split())[:_MAX_DETAIL]
        detail = f"token endpoint: {detail}"
        if status == 429:
            return ConcurrencyLimitError(detail, status=status, code=code)
        if 500 <= status < 600:
            return ServerError(detail, status=status, code=code)
        # 400 invalid_grant / invalid_client, 401, 403, a wrong URL's 404, a redirect: configuration that a
        # retry cannot fix.
        return AuthError(detail, status=status, code=code)

    # -- requests.auth.AuthBase --

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = "Bearer " + self._token()
        return r

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(token_url={self.token_url!r}, client_id={_mask(self.client_id)!r}, "
            f"certificate_id={self.certificate_id!r}, algorithm={self.algorithm!r}, scope={self.scope!r}, "
            "private_key='***')"
        )

    def __getstate__(self) -> None:
        # A pickle would carry the private key and the live token wherever it goes; build a new instance from
        # configuration in the receiving process instead.
        raise TypeError("OAuth2ClientCredentials holds a private key and cannot be pickled")


def _lifetime(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return _DEFAULT_TOKEN_LIFETIME_S
    if seconds != seconds or seconds <= 0 or seconds == float("inf"):
        return _DEFAULT_TOKEN_LIFETIME_S
    return seconds
