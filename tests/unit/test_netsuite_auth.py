import base64
import hashlib
import hmac
import logging
import pickle
import re
import urllib.parse

import pytest
import requests

from netsuite_client import TokenAuth, default_base_url, realm_for

# Oracle's published TBA example (see /work/shared/API_FACTS.md, NetSuite section).
ORACLE = {
    "account_id": "123456",
    "consumer_key": "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
    "consumer_secret": "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
    "token_id": "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
    "token_secret": "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
}
ORACLE_URL = "https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40"
ORACLE_NONCE = "fjaLirsIcCGVZWzBX0pg"
ORACLE_TIMESTAMP = 1508242306
ORACLE_SIGNATURE = "B5OIWznZ2YP0OB7VrJrGkYsTh+8H+5T9Hag+o92q0zY="


def header_params(prepared: requests.PreparedRequest) -> dict[str, str]:
    value = prepared.headers["Authorization"]
    if isinstance(value, bytes):
        value = value.decode()
    assert value.startswith("OAuth ")
    return {k: urllib.parse.unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', value)}


def sign(auth: TokenAuth, method: str, url: str, **kwargs) -> requests.PreparedRequest:
    return requests.Request(method, url, auth=auth, **kwargs).prepare()


def fixed_auth(**overrides) -> TokenAuth:
    creds = {**ORACLE, **overrides}
    return TokenAuth(**creds, nonce_factory=lambda: ORACLE_NONCE, clock=lambda: ORACLE_TIMESTAMP)


def test_reproduces_oracle_published_signature():
    prepared = sign(fixed_auth(), "GET", ORACLE_URL)
    params = header_params(prepared)

    assert params["oauth_signature"] == ORACLE_SIGNATURE
    header = prepared.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    assert 'realm="123456"' in header
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    assert 'oauth_version="1.0"' in header
    assert params["oauth_nonce"] == ORACLE_NONCE
    assert params["oauth_timestamp"] == str(ORACLE_TIMESTAMP)
    assert params["oauth_consumer_key"] == ORACLE["consumer_key"]
    assert params["oauth_token"] == ORACLE["token_id"]


def _reference_signature(method: str, url: str, params: dict[str, str], secrets: tuple[str, str]) -> str:
    """RFC 5849 base string + HMAC-SHA256, written out independently of oauthlib to cross-check it."""

    def enc(s: str) -> str:
        return urllib.parse.quote(s, safe="-._~")

    parts = urllib.parse.urlsplit(url)
    pairs = [(k, v) for k, v in params.items() if k not in ("realm", "oauth_signature")]
    pairs += urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    normalized = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
    base_uri = f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"
    base = "&".join([method, enc(base_uri), enc(normalized)])
    key = f"{enc(secrets[0])}&{enc(secrets[1])}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


def test_query_parameters_are_signed_and_json_body_is_not_hashed():
    url = "http://127.0.0.1:8080/services/rest/record/v1/salesOrder/eid:shopify-order-1?replace=item"
    prepared = sign(
        fixed_auth(account_id="1234567-sb1"),
        "PUT",
        url,
        data=b'{"a":1}',
        headers={"Content-Type": "application/json"},
    )
    params = header_params(prepared)

    assert params["realm"] == "1234567_SB1"
    # oauthlib >= 3.2 adds oauth_body_hash when it is handed a non-form body; requests-oauthlib keeps JSON
    # bodies out of signing, which is what NetSuite expects.
    assert "oauth_body_hash" not in params
    expected = _reference_signature("PUT", url, params, (ORACLE["consumer_secret"], ORACLE["token_secret"]))
    assert params["oauth_signature"] == expected


def test_every_request_gets_a_fresh_nonce():
    auth = TokenAuth(**ORACLE)
    first = header_params(sign(auth, "GET", ORACLE_URL))
    second = header_params(sign(auth, "GET", ORACLE_URL))

    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert first["oauth_signature"] != second["oauth_signature"]


@pytest.mark.parametrize(
    ("account_id", "realm", "base_url"),
    [
        ("123456", "123456", "https://123456.suitetalk.api.netsuite.com/services/rest"),
        ("1234567-sb1", "1234567_SB1", "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"),
        ("1234567_SB1", "1234567_SB1", "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"),
        ("tstdrv42", "TSTDRV42", "https://tstdrv42.suitetalk.api.netsuite.com/services/rest"),
    ],
)
def test_realm_and_host_forms(account_id, realm, base_url):
    assert realm_for(account_id) == realm
    assert default_base_url(account_id) == base_url


@pytest.mark.parametrize("account_id", ["", "evil.com/x", "123 456", "acct@host"])
def test_account_id_that_could_steer_the_host_is_refused(account_id):
    with pytest.raises(ValueError):
        default_base_url(account_id)
    with pytest.raises(ValueError):
        TokenAuth(**{**ORACLE, "account_id": account_id})


def test_repr_and_pickle_do_not_expose_secrets():
    auth = TokenAuth(**ORACLE)
    text = repr(auth)

    assert ORACLE["consumer_secret"] not in text
    assert ORACLE["token_secret"] not in text
    assert ORACLE["consumer_key"] not in text
    assert "123456" in text
    with pytest.raises(TypeError):
        pickle.dumps(auth)


def test_library_debug_logging_does_not_leak_signature(caplog):
    caplog.set_level(logging.DEBUG)
    params = header_params(sign(fixed_auth(), "GET", ORACLE_URL))

    logged = caplog.text
    assert params["oauth_signature"] not in logged
    assert urllib.parse.quote(params["oauth_signature"], safe="") not in logged
    assert ORACLE["consumer_secret"] not in logged
    assert ORACLE["token_secret"] not in logged


def test_missing_credentials_are_refused():
    with pytest.raises(ValueError):
        TokenAuth(**{**ORACLE, "token_secret": ""})
