import logging
import pickle
import socket
import threading
import urllib.parse

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from netsuite_client import (
    AuthError,
    NetSuiteClient,
    NetSuiteError,
    OAuth2ClientCredentials,
    ServerError,
    TransportError,
    default_token_url,
)
from tests.integration.test_netsuite_client import FakeNetSuite, Reply, local_session, ns_error

CLIENT_ID = "client-id-5e1f0c2a"
CERT_ID = "cert-kid-0042"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_PEM = _pem(RSA_KEY)
EC_PEM = _pem(EC_KEY)


class TokenEndpoint:
    """The token route of the fake: hands out tok-1, tok-2... unless a reply is scripted."""

    def __init__(self, delay=0.0):
        self.forms: list[dict] = []
        self.scripted: list[Reply] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, request):
        form = dict(urllib.parse.parse_qsl(request["body"].decode()))
        with self.lock:
            self.forms.append({**form, "_content_type": request["headers"].get("Content-Type")})
            if self.scripted:
                return self.scripted.pop(0)
            number = len(self.forms)
        return Reply(
            200,
            {"access_token": f"tok-{number}-s3cr3t", "token_type": "Bearer", "expires_in": 3600},
            delay=self.delay,
        )

    @property
    def issued(self):
        return [f"tok-{n}-s3cr3t" for n in range(1, len(self.forms) + 1)]


class Clock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def fake():
    server = FakeNetSuite()
    server.token = TokenEndpoint()
    server.routes[TOKEN_PATH] = server.token
    yield server
    server.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def made():
    objects = []
    yield objects
    for obj in objects:
        obj.close()


def make_auth(fake, clock=None, **overrides) -> OAuth2ClientCredentials:
    options = {
        "token_url": default_token_url(fake.url),
        "client_id": CLIENT_ID,
        "certificate_id": CERT_ID,
        "private_key_pem": RSA_PEM.decode(),
        "session": local_session(),
        "timeout": (1.0, 2.0),
    }
    if clock is not None:
        options["clock"] = clock
    options.update(overrides)
    return OAuth2ClientCredentials(**options)


def make_client(fake, auth, made, records=None, **overrides) -> NetSuiteClient:
    options = {
        "base_url": fake.url,
        "auth": auth,
        "session_factory": local_session,
        "timeout": (1.0, 2.0),
        "backoff_base": 0.001,
        "backoff_max": 0.005,
        "on_call": records.append if records is not None else None,
    }
    options.update(overrides)
    client = NetSuiteClient(**options)
    made.append(client)
    return client


def bearer(request) -> str:
    value = request["headers"]["Authorization"]
    assert value.startswith("Bearer ")
    return value[len("Bearer ") :]


# --- the assertion --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "key", "pem"), [("PS256", RSA_KEY, RSA_PEM), ("ES256", EC_KEY, EC_PEM)])
def test_token_request_carries_a_correctly_signed_jwt_assertion(fake, clock, made, algorithm, key, pem):
    fake.script(Reply(200, {"id": "1"}))
    auth = make_auth(fake, clock, private_key_pem=pem, algorithm=algorithm)

    make_client(fake, auth, made).get("customer", 1)

    (form,) = fake.token.forms
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert form["_content_type"] == "application/x-www-form-urlencoded"
    assertion = form["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == algorithm
    assert header["kid"] == CERT_ID
    assert header["typ"] == "JWT"
    token_url = fake.url + "/auth/oauth2/v1/token"
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=[algorithm],
        audience=token_url,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == CLIENT_ID
    assert claims["aud"] == token_url
    assert claims["scope"] == "rest_webservices"
    assert claims["iat"] == int(clock.now)
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert claims["jti"]
    assert bearer(fake.requests[0]) == "tok-1-s3cr3t"


def test_each_assertion_has_its_own_jti(fake):
    auth = make_auth(fake)
    first = jwt.decode(auth.client_assertion(), options={"verify_signature": False})
    second = jwt.decode(auth.client_assertion(), options={"verify_signature": False})
    assert first["jti"] != second["jti"]


def test_default_token_url():
    assert default_token_url("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/") == (
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
    )


def test_key_that_does_not_fit_the_algorithm_is_refused_without_quoting_it(fake):
    with pytest.raises(ValueError) as caught:
        make_auth(fake, private_key_pem=RSA_PEM, algorithm="ES256")
    assert "BEGIN" not in str(caught.value)
    with pytest.raises(ValueError):
        make_auth(fake, private_key_pem=EC_PEM, algorithm="PS256")
    with pytest.raises(ValueError):
        make_auth(fake, algorithm="HS256")
    with pytest.raises(ValueError) as caught:
        make_auth(fake, private_key_pem=RSA_PEM[:200] + b"garbage" + RSA_PEM[200:])
    assert RSA_PEM.decode().splitlines()[1] not in str(caught.value)


# --- caching and refresh --------------------------------------------------------------------------------


def test_token_is_cached_across_calls_and_refreshed_before_expiry(fake, clock, made):
    fake.script(*[Reply(200, {"id": "1"}) for _ in range(4)])
    client = make_client(fake, make_auth(fake, clock, refresh_margin_s=300), made)

    client.get("customer", 1)
    clock.now += 3600 - 300 - 1
    client.get("customer", 1)
    assert len(fake.token.forms) == 1

    clock.now += 2
    client.get("customer", 1)
    client.get("customer", 1)

    assert len(fake.token.forms) == 2
    assert [bearer(r) for r in fake.requests] == ["tok-1-s3cr3t"] * 2 + ["tok-2-s3cr3t"] * 2
    refreshed = jwt.decode(fake.token.forms[1]["client_assertion"], options={"verify_signature": False})
    assert refreshed["iat"] == int(clock.now)


def test_concurrent_callers_share_a_single_token_request(fake, made):
    fake.token.delay = 0.2
    fake.script(*[Reply(200, {"id": "1"}) for _ in range(8)])
    client = make_client(fake, make_auth(fake), made)
    barrier = threading.Barrier(8)
    errors = []

    def call():
        barrier.wait()
        try:
            client.get("customer", 1)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == []
    assert len(fake.token.forms) == 1
    assert {bearer(r) for r in fake.requests} == {"tok-1-s3cr3t"}
    assert len(fake.requests) == 8


def invalid_login():
    return Reply(
        401,
        {
            "title": "Unauthorized",
            "status": 401,
            "o:errorDetails": [{"detail": "Invalid login attempt.", "o:errorCode": "INVALID_LOGIN"}],
        },
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def test_401_invalidates_the_token_and_retries_once_with_a_fresh_one(fake, made):
    records = []
    fake.script(invalid_login(), Reply(204, headers={"Location": f"{fake.url}/record/v1/customer/647"}))

    # A create is never repeated after an ambiguous failure, but a 401 is a refusal: it did not run.
    assert make_client(fake, make_auth(fake), made, records).create("customer", {"companyName": "Acme"}) == "647"

    assert [bearer(r) for r in fake.requests] == ["tok-1-s3cr3t", "tok-2-s3cr3t"]
    assert [(r.attempt, r.outcome, r.http_status, r.error_code) for r in records] == [
        (1, "retry", 401, "INVALID_LOGIN"),
        (2, "ok", 204, None),
    ]


def test_a_second_401_is_raised_after_exactly_one_retry(fake, made):
    fake.script(invalid_login(), invalid_login(), Reply(200, {"id": "1"}))

    with pytest.raises(AuthError) as caught:
        make_client(fake, make_auth(fake), made).get("customer", 1)

    assert caught.value.code == "INVALID_LOGIN"
    assert not caught.value.retryable
    assert len(fake.requests) == 2
    assert len(fake.token.forms) == 2


def test_token_endpoint_invalid_grant_is_an_auth_error_and_not_retried(fake, made):
    records = []
    fake.token.scripted.append(
        Reply(400, {"error": "invalid_grant", "error_description": "The certificate is not valid."})
    )

    with pytest.raises(AuthError) as caught:
        make_client(fake, make_auth(fake), made, records).get("customer", 1)

    err = caught.value
    assert err.code == "invalid_grant"
    assert err.status == 400
    assert not err.retryable and not err.ambiguous
    assert "certificate is not valid" in err.detail
    assert len(fake.token.forms) == 1
    assert fake.requests == []
    assert [(r.outcome, r.error_code, r.http_status) for r in records] == [("failed", "invalid_grant", None)]


def test_token_endpoint_5xx_is_retried_even_for_a_create(fake, made):
    fake.token.scripted.append(Reply(503, {"error": "server_error"}))
    fake.script(Reply(204, headers={"Location": f"{fake.url}/record/v1/customer/9"}))

    assert make_client(fake, make_auth(fake), made).create("customer", {"companyName": "Acme"}) == "9"
    assert len(fake.token.forms) == 2
    assert len(fake.requests) == 1


def test_token_endpoint_failures_map_to_retryable_errors_when_used_directly(fake):
    fake.token.scripted.append(Reply(502, b"<html>bad gateway</html>"))
    auth = make_auth(fake)
    with pytest.raises(ServerError) as caught:
        auth.ensure_fresh()
    assert caught.value.retryable and not caught.value.ambiguous

    fake.token.scripted.append(Reply(200, {"token_type": "Bearer"}))
    with pytest.raises(NetSuiteError) as missing:
        auth.ensure_fresh()
    assert missing.value.code == "INVALID_TOKEN_RESPONSE"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = make_auth(fake, token_url=f"http://127.0.0.1:{port}/services/rest/auth/oauth2/v1/token")
    with pytest.raises(TransportError) as refused:
        unreachable.ensure_fresh()
    assert refused.value.retryable and not refused.value.ambiguous


def test_governance_from_the_rest_call_is_still_retried_with_a_bearer(fake, made):
    fake.script(ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "blocked"), Reply(200, {"id": "1"}))
    assert make_client(fake, make_auth(fake), made).get("customer", 1) == {"id": "1"}
    assert len(fake.token.forms) == 1


# --- secrets --------------------------------------------------------------------------------------------


def test_keys_tokens_and_assertions_stay_out_of_reprs_logs_and_errors(fake, made, caplog):
    caplog.set_level(logging.DEBUG)
    fake.script(invalid_login(), Reply(200, {"id": "1"}), ns_error(400, "USER_ERROR", "bad"))
    auth = make_auth(fake)
    client = make_client(fake, auth, made)
    client.get("customer", 1)
    with pytest.raises(NetSuiteError) as rest_error:
        client.get("customer", 2)
    fake.token.scripted.append(Reply(400, {"error": "invalid_client", "error_description": "unknown client"}))
    auth.invalidate()
    with pytest.raises(AuthError) as token_error:
        auth.ensure_fresh()

    assertions = [form["client_assertion"] for form in fake.token.forms]
    secrets = [*fake.token.issued, *assertions, RSA_PEM.decode()]
    key_lines = RSA_PEM.decode().splitlines()[1:-1]
    exposed = "\n".join(
        [
            caplog.text,
            repr(auth),
            repr(client),
            str(rest_error.value),
            repr(rest_error.value),
            str(token_error.value),
            repr(token_error.value),
        ]
    )
    for secret in [*secrets, *key_lines]:
        assert secret not in exposed
    assert "token" in caplog.text  # the refresh itself is logged, just not its value
    assert CLIENT_ID not in repr(auth)
    assert CERT_ID in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
