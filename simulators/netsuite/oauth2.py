"""NetSuite's OAuth 2.0 machine-to-machine flow: client credentials with a JWT client assertion.

Token request (form-encoded, no other authentication):

    POST /services/rest/auth/oauth2/v1/token
    Content-Type: application/x-www-form-urlencoded

    grant_type=client_credentials
    &client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
    &client_assertion=<JWT>

The JWT: header `alg` PS256 or ES256 (RS256, HS*, none are refused), `kid` = a certificate id registered for
the client; claims `iss` = the client id, `scope` containing `rest_webservices` (a string separated by spaces
or commas, or a list), `aud` = the token URL exactly as the client called it (scheme, host and port, path; a
string or a list holding it), numeric `iat` and `exp`, `exp` in the future and at most 3600 s after `iat`
(`nbf`, if present, must have passed). The signature is checked against the registered public key.

    200 {"access_token": "<opaque>", "token_type": "bearer", "expires_in": <ttl, 3600 by default>}
    400 {"error": "<code>"}

Error codes (RFC 6749 section 5.2; API_FACTS does not give NetSuite's, so these are the standards' choices):
`invalid_request` for a request that is not a well-formed client-credentials request with a JWT assertion
(wrong content type, missing parameter, an assertion that does not parse as a JWT); `unsupported_grant_type`
for any grant but client_credentials; `invalid_client` for an assertion that fails verification (algorithm,
unknown client or certificate, signature, audience, times), as RFC 7523 section 3.2 requires for JWT client
authentication; `invalid_scope` when `rest_webservices` is not in the scope. The reason is kept for the
simulator's log, not told to the client, as NetSuite tells it nothing either. Assertions are not checked for
replay (`jti`): API_FACTS says nothing of it.

The token is then sent as `Authorization: Bearer <token>` on any /services/rest call.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path, not a secret
TOKEN_OPERATION = "POST oauth2/token"  # noqa: S105 - an operation name, not a secret
GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REQUIRED_SCOPE = "rest_webservices"
MAX_ASSERTION_LIFETIME_S = 3600

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
# The algorithm each accepted `alg` needs, by key type: a PS256 header over an EC key is refused outright.
_KEY_TYPES: dict[str, type] = {"PS256": rsa.RSAPublicKey, "ES256": ec.EllipticCurvePublicKey}
_SCOPE_SEPARATORS = re.compile(r"[\s,]+")


class OAuth2Error(Exception):
    """A refused token request: `error` goes to the client, `reason` only to the simulator's log."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


def load_public_key(pem: str) -> PublicKey:
    """An RSA or P-256 public key from a PEM public key or certificate (NetSuite registers certificates)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    if b"BEGIN CERTIFICATE" in data:
        key: Any = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = load_pem_public_key(data)
    if isinstance(key, ec.EllipticCurvePublicKey) and not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("EC keys must be on P-256 (ES256)")
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise ValueError("the key must be an RSA (PS256) or EC P-256 (ES256) public key")
    return key


def _scopes(value: Any) -> set[str]:
    if isinstance(value, str):
        return {part for part in _SCOPE_SEPARATORS.split(value) if part}
    if isinstance(value, list):
        return {part for part in value if isinstance(part, str)}
    return set()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class OAuth2Registry:
    """Registered clients and their certificates, and the access tokens issued to them."""

    def __init__(self, clients: dict[str, dict[str, str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, PublicKey]] = {}
        # token -> (client id, expiry in epoch seconds)
        self._tokens: dict[str, tuple[str, float]] = {}
        for client_id, certificates in (clients or {}).items():
            for certificate_id, pem in certificates.items():
                self.register(client_id, certificate_id, pem)

    def register(self, client_id: str, certificate_id: str, public_key_pem: str) -> None:
        for name, value in (("client_id", client_id), ("certificate_id", certificate_id)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
        if not isinstance(public_key_pem, str):
            raise ValueError("public_key_pem must be a PEM string")
        key = load_public_key(public_key_pem)
        with self._lock:
            self._keys.setdefault(client_id, {})[certificate_id] = key

    def clients(self) -> dict[str, list[str]]:
        with self._lock:
            return {client: sorted(certificates) for client, certificates in self._keys.items()}

    def token_request(self, form: dict[str, str], *, audience: str, now: float, ttl_s: int) -> dict[str, Any]:
        """Answer a token request's form; raises OAuth2Error when it is refused."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuth2Error("invalid_request", "grant_type missing")
        if grant_type != GRANT_TYPE:
            raise OAuth2Error("unsupported_grant_type", f"grant_type {grant_type!r} is not {GRANT_TYPE}")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuth2Error("invalid_request", "client_assertion_type is not the JWT bearer type")
        assertion = form.get("client_assertion")
        if not assertion:
            raise OAuth2Error("invalid_request", "client_assertion missing")
        client_id = self.verify_assertion(assertion, audience=audience, now=now)
        token = secrets.token_urlsafe(32)
        with self._lock:
            # Forget expired tokens as new ones come, so a long run does not grow without bound.
            self._tokens = {t: entry for t, entry in self._tokens.items() if entry[1] > now}
            self._tokens[token] = (client_id, now + ttl_s)
        return {"access_token": token, "token_type": "bearer", "expires_in": ttl_s}

    def verify_assertion(self, assertion: str, *, audience: str, now: float) -> str:
        """The client id of a valid assertion; raises OAuth2Error otherwise."""
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuth2Error("invalid_request", f"client_assertion is not a JWT: {exc}") from None
        algorithm = header.get("alg")
        if algorithm not in _KEY_TYPES:
            raise OAuth2Error("invalid_client", f"alg {algorithm!r} is not PS256 or ES256")
        kid = header.get("kid")
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or not client_id:
            raise OAuth2Error("invalid_client", "iss (the client id) missing")
        with self._lock:
            certificates = self._keys.get(client_id)
            key = certificates.get(kid) if certificates is not None and isinstance(kid, str) else None
        if certificates is None:
            raise OAuth2Error("invalid_client", f"unknown client {client_id!r}")
        if key is None:
            raise OAuth2Error("invalid_client", f"kid {kid!r} is not a certificate of client {client_id!r}")
        if not isinstance(key, _KEY_TYPES[algorithm]):
            raise OAuth2Error("invalid_client", f"certificate {kid!r} cannot verify {algorithm}")
        try:
            # Claims are checked below against the simulator's clock, the signature here.
            jwt.decode(
                assertion,
                key,
                algorithms=[algorithm],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise OAuth2Error("invalid_client", f"signature: {exc}") from None
        self._check_claims(claims, audience=audience, now=now)
        return client_id

    @staticmethod
    def _check_claims(claims: dict[str, Any], *, audience: str, now: float) -> None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise OAuth2Error("invalid_client", f"aud {aud!r} is not the token URL {audience!r}")
        issued_at = _number(claims.get("iat"))
        expires = _number(claims.get("exp"))
        if issued_at is None or expires is None:
            raise OAuth2Error("invalid_client", "iat and exp must both be numbers")
        if expires <= now:
            raise OAuth2Error("invalid_client", "the assertion has expired")
        if expires - issued_at > MAX_ASSERTION_LIFETIME_S:
            raise OAuth2Error("invalid_client", "exp is more than 60 minutes after iat")
        if issued_at > now + 60:
            # A minute of grace for the client's clock; an assertion from further in the future is refused.
            raise OAuth2Error("invalid_client", "iat is in the future")
        not_before = _number(claims.get("nbf"))
        if claims.get("nbf") is not None and (not_before is None or not_before > now):
            raise OAuth2Error("invalid_client", "nbf has not passed")
        if REQUIRED_SCOPE not in _scopes(claims.get("scope")):
            raise OAuth2Error("invalid_scope", f"scope {claims.get('scope')!r} lacks {REQUIRED_SCOPE}")

    def check_bearer(self, token: str, now: float) -> str | None:
        """None if the bearer token is live, otherwise the reason (for the log only)."""
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return "unknown bearer token"
        client_id, expires = entry
        if expires <= now:
            return f"bearer token of {client_id!r} expired"
        return None
