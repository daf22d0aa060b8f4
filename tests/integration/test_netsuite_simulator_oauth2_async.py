"""The NetSuite simulator's OAuth 2.0 M2M flow, async jobs and on-demand faults, over real HTTP on loopback,
checked against the NetSuite section of API_FACTS.md."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from requests_oauthlib import OAuth1

from simulators.clock import ManualClock
from simulators.netsuite.server import SimulatorConfig, start_in_thread
from simulators.netsuite.state import Settings, State

pytestmark = pytest.mark.timeout(15)

ACCOUNT = "1234567_SB1"
CONFIG = SimulatorConfig()
CLIENT_ID = "sim-client-id"
RSA_KID = "cert-rsa-1"
EC_KID = "cert-ec-1"
OTHER_CLIENT = "other-client"
OTHER_KID = "cert-other"
UNAUTHORIZED_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}
CONCURRENCY_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
    "title": "Too Many Requests",
    "status": 429,
    "o:errorDetails": [
        {
            "detail": "Concurrent request limit exceeded. Request blocked.",
            "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
        }
    ],
}
DEFAULT_SETTINGS = {
    "latency_ms": 0,
    "latency_jitter_ms": 0,
    "latency_distribution": "uniform",
    "concurrency_limit": 15,
    "held_slots": 0,
    "suiteql_lag_ms": 0,
    "error_rate": 0.0,
    "seed": None,
    "oauth2_token_ttl_s": 3600,
    "async_job_delay_ms": 0,
}

# The module's simulator reads simulated time (token expiry, 429 bursts, async job delays, SuiteQL lag) from this
# clock: tests step it forward instead of sleeping. Request latency and slow faults stay real waits.
CLOCK = ManualClock()

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def oauth() -> OAuth1:
    return OAuth1(
        client_key=CONFIG.consumer_key,
        client_secret=CONFIG.consumer_secret,
        resource_owner_key=CONFIG.token_id,
        resource_owner_secret=CONFIG.token_secret,
        signature_method="HMAC-SHA256",
        realm=ACCOUNT,
    )


class Sim:
    def __init__(self, base: str) -> None:
        self.base = base
        self.root = base.removesuffix("/services/rest")
        self.token_url = f"{base}/auth/oauth2/v1/token"
        self.http = requests.Session()
        self.http.auth = oauth()

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.root}/_sim/{path}", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def assertion(self, key: Any = RSA_KEY, alg: str = "PS256", kid: str = RSA_KID, **claims: Any) -> str:
        now = int(CLOCK.time())
        payload: dict[str, Any] = {
            "iss": CLIENT_ID,
            "scope": ["rest_webservices"],
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})

    def request_token(self, assertion: str, **form: str) -> requests.Response:
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            **form,
        }
        return requests.post(self.token_url, data=data, timeout=5)

    def token(self) -> str:
        response = self.request_token(self.assertion())
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def suiteql(self, query: str) -> requests.Response:
        return self.http.post(self.url("query/v1/suiteql"), json={"q": query}, headers={"Prefer": "transient"})

    def customer_emails(self) -> dict[str, str]:
        rows = self.suiteql("SELECT externalid, email FROM customer ORDER BY id").json()["items"]
        return {row["externalid"]: row.get("email") for row in rows}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def async_headers(key: str | None = None, *prefer: str) -> dict[str, str]:
    return {
        "Prefer": ", ".join(("respond-async", *prefer)),
        "X-NetSuite-Idempotency-Key": key or str(uuid.uuid4()),
    }


def error_code(response: requests.Response) -> str:
    return response.json()["o:errorDetails"][0]["o:errorCode"]


def wait_for(condition: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    config = SimulatorConfig(oauth2_clients={CLIENT_ID: {RSA_KID: public_pem(RSA_KEY)}}, clock=CLOCK)
    httpd, base = start_in_thread(config)
    yield base
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sim(server: str) -> Sim:
    # Back in step with the real clock, whose times TBA signatures carry.
    CLOCK.catch_up()
    sim = Sim(server)
    sim.control("POST", "reset", {"items": True})
    sim.control("POST", "config", DEFAULT_SETTINGS)
    # Registered at run time, the way a test of the client would add its own certificate.
    sim.control(
        "POST",
        "oauth2/clients",
        {"client_id": CLIENT_ID, "certificate_id": EC_KID, "public_key_pem": public_pem(EC_KEY)},
    )
    sim.control(
        "POST",
        "oauth2/clients",
        {"client_id": OTHER_CLIENT, "certificate_id": OTHER_KID, "public_key_pem": public_pem(OTHER_KEY)},
    )
    return sim


# OAuth 2.0 machine-to-machine


@pytest.mark.parametrize(("key", "alg", "kid"), [(RSA_KEY, "PS256", RSA_KID), (EC_KEY, "ES256", EC_KID)])
def test_token_is_issued_for_a_valid_assertion_and_works_as_bearer(sim: Sim, key: Any, alg: str, kid: str) -> None:
    response = sim.request_token(sim.assertion(key, alg, kid))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    assert len(body["access_token"]) >= 32

    headers = bearer(body["access_token"])
    created = requests.put(
        sim.url("record/v1/customer/eid:c-1"), json={"email": "a@example.com"}, headers=headers, timeout=5
    )
    assert created.status_code == 204
    assert requests.get(created.headers["Location"], headers=headers, timeout=5).json()["email"] == "a@example.com"
    # TBA keeps working alongside.
    assert sim.http.get(sim.url("record/v1/customer/eid:c-1")).status_code == 200

    stats = sim.stats()
    assert stats["oauth2_tokens_issued"] == 1
    assert stats["calls_by_operation"]["POST oauth2/token"] == 1
    assert stats["calls_by_operation"]["PUT customer"] == 1


@pytest.mark.parametrize(
    "scope", ["rest_webservices", "restlets rest_webservices", "restlets,rest_webservices", ["rest_webservices"]]
)
def test_scope_forms_are_accepted(sim: Sim, scope: Any) -> None:
    assert sim.request_token(sim.assertion(scope=scope)).status_code == 200


NOW = int(CLOCK.time())


@pytest.mark.parametrize(
    ("make", "error"),
    [
        pytest.param(
            lambda s: s.assertion(
                aud="https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
            ),
            "invalid_client",
            id="wrong-aud-host",
        ),
        pytest.param(
            lambda s: s.assertion(aud=s.base + "/auth/oauth2/v1/token/"), "invalid_client", id="wrong-aud-path"
        ),
        pytest.param(lambda s: s.assertion(iat=NOW - 600, exp=NOW - 60), "invalid_client", id="expired"),
        pytest.param(lambda s: s.assertion(iat=NOW, exp=NOW + 3601), "invalid_client", id="exp-over-60-min"),
        pytest.param(lambda s: s.assertion(exp=None), "invalid_client", id="no-exp"),
        pytest.param(lambda s: s.assertion(iat=None), "invalid_client", id="no-iat"),
        pytest.param(lambda s: s.assertion(kid="cert-unknown"), "invalid_client", id="unknown-kid"),
        pytest.param(lambda s: s.assertion(OTHER_KEY, "ES256", OTHER_KID), "invalid_client", id="other-clients-kid"),
        pytest.param(lambda s: s.assertion(iss="nobody"), "invalid_client", id="unknown-iss"),
        pytest.param(lambda s: s.assertion(OTHER_KEY, "ES256", EC_KID), "invalid_client", id="wrong-signing-key"),
        pytest.param(lambda s: s.assertion(EC_KEY, "ES256", RSA_KID), "invalid_client", id="alg-key-mismatch"),
        pytest.param(lambda s: s.assertion(RSA_KEY, "RS256", RSA_KID), "invalid_client", id="rs256"),
        pytest.param(
            lambda s: s.assertion("a-shared-secret-of-32-bytes-long!", "HS256", RSA_KID), "invalid_client", id="hs256"
        ),
        pytest.param(lambda s: s.assertion(scope=None), "invalid_scope", id="no-scope"),
        pytest.param(lambda s: s.assertion(scope="restlets"), "invalid_scope", id="scope-without-rest"),
        pytest.param(lambda s: "not-a-jwt", "invalid_request", id="garbage"),
    ],
)
def test_bad_assertions_are_refused(sim: Sim, make: Callable[[Sim], str], error: str) -> None:
    response = sim.request_token(make(sim))
    assert response.status_code == 400
    assert response.json() == {"error": error}
    stats = sim.stats()
    assert stats["oauth2_tokens_issued"] == 0
    assert stats["rejections"]["auth"] == 1
    assert stats["recent_auth_failures"][-1].startswith("oauth2 token: ")


def test_malformed_token_requests(sim: Sim) -> None:
    wrong_grant = sim.request_token(sim.assertion(), grant_type="password")
    assert (wrong_grant.status_code, wrong_grant.json()) == (400, {"error": "unsupported_grant_type"})
    wrong_type = sim.request_token(sim.assertion(), client_assertion_type="urn:other")
    assert wrong_type.json() == {"error": "invalid_request"}
    as_json = requests.post(sim.token_url, json={"grant_type": "client_credentials"}, timeout=5)
    assert (as_json.status_code, as_json.json()) == (400, {"error": "invalid_request"})


def test_expired_or_unknown_bearer_is_invalid_login(sim: Sim) -> None:
    sim.control("POST", "config", {"oauth2_token_ttl_s": 1})
    response = sim.request_token(sim.assertion())
    assert response.json()["expires_in"] == 1
    headers = bearer(response.json()["access_token"])
    url = sim.url("record/v1/customer/1")
    assert requests.get(url, headers=headers, timeout=5).status_code == 404
    CLOCK.advance(1.1)
    for attempt in (headers, bearer("made-up-token")):
        rejected = requests.get(url, headers=attempt, timeout=5)
        assert rejected.status_code == 401
        assert rejected.json() == UNAUTHORIZED_BODY
        assert rejected.headers["WWW-Authenticate"] == (
            f'OAuth realm="{ACCOUNT}", error="token_rejected", error_description="Invalid login attempt."'
        )


# Async requests


def job_thread(location: str) -> threading.Thread:
    """The simulator thread that runs the job at `location` (job ids are never reused)."""
    name = f"netsuite-async-{location.rsplit('/', 1)[1]}"
    (thread,) = [t for t in threading.enumerate() if t.name == name]
    return thread


def poll_job(sim: Sim, location: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        job = sim.http.get(location).json()
        return job if job["progress"] in ("succeeded", "failed") else None

    return wait_for(done)


def test_async_upsert_runs_as_a_job_with_the_synchronous_result(sim: Sim) -> None:
    sim.control("POST", "config", {"async_job_delay_ms": 300})
    url = sim.url("record/v1/customer/eid:c-async")
    submitted = sim.http.put(url, json={"email": "async@example.com"}, headers=async_headers())
    assert submitted.status_code == 202, submitted.text
    assert submitted.content == b""
    location = submitted.headers["Location"]
    assert location.startswith(sim.url("async/v1/job/"))
    job_id = location.rsplit("/", 1)[1]

    pending = sim.http.get(location).json()
    assert pending["progress"] == "pending"
    assert pending["completed"] is False
    assert "completedTime" not in pending
    early = sim.http.get(f"{location}/task/{job_id}/result")
    assert (early.status_code, error_code(early)) == (404, "NONEXISTENT_ID")
    assert sim.control("GET", "records/customer") == []

    CLOCK.advance(0.3)  # the job's delay in NetSuite's queue
    job = poll_job(sim, location)
    assert job["id"] == job_id
    assert job["progress"] == "succeeded"
    assert job["completed"] is True
    assert job["completedTime"].endswith("Z")
    assert job["links"] == [{"rel": "self", "href": location}]
    assert job["task"]["links"][0]["href"] == f"{location}/task"

    tasks = sim.http.get(f"{location}/task").json()
    assert tasks["count"] == 1
    task_url = tasks["items"][0]["links"][0]["href"]
    task = sim.http.get(task_url).json()
    assert task["progress"] == "succeeded"
    result_url = task["result"]["links"][0]["href"]
    assert result_url == f"{location}/task/{job_id}/result"

    result = sim.http.get(result_url)
    assert result.status_code == 204
    (customer,) = sim.control("GET", "records/customer")
    assert result.headers["Location"] == sim.url(f"record/v1/customer/{customer['id']}")
    assert customer["email"] == "async@example.com"
    stats = sim.stats()
    assert stats["calls_by_operation"]["PUT customer"] == 1
    assert stats["async_jobs"]["succeeded"] == 1


def test_replayed_idempotency_key_points_at_the_earlier_job(sim: Sim) -> None:
    key = str(uuid.uuid4())
    url = sim.url("record/v1/customer/eid:c-once")
    first = sim.http.put(url, json={"email": "one@example.com"}, headers=async_headers(key))
    assert first.status_code == 202
    replay = sim.http.put(url, json={"email": "two@example.com"}, headers=async_headers(key.upper()))
    assert replay.status_code == 400
    assert error_code(replay) == "IDEMPOTENCY_ERROR"
    assert replay.headers["Location"] == first.headers["Location"]
    poll_job(sim, first.headers["Location"])
    assert [c["email"] for c in sim.control("GET", "records/customer")] == ["one@example.com"]

    missing = sim.http.put(url, json={}, headers={"Prefer": "respond-async"})
    assert (missing.status_code, error_code(missing)) == (400, "USER_ERROR")
    assert "X-NetSuite-Idempotency-Key" in missing.json()["o:errorDetails"][0]["detail"]
    malformed = sim.http.put(url, json={}, headers=async_headers("not-a-uuid"))
    assert (malformed.status_code, error_code(malformed)) == (400, "USER_ERROR")


def test_a_key_is_not_spent_by_a_refused_request(sim: Sim) -> None:
    key = str(uuid.uuid4())
    sim.control("POST", "faults", {"status": 503, "match": "POST customer"})
    url = sim.url("record/v1/customer")
    assert sim.http.post(url, json={"externalId": "c-r"}, headers=async_headers(key)).status_code == 503
    retried = sim.http.post(url, json={"externalId": "c-r"}, headers=async_headers(key))
    assert retried.status_code == 202


def test_async_suiteql_and_a_failing_job(sim: Sim) -> None:
    sim.control("POST", "items", [{"itemid": "A"}, {"itemid": "B"}])
    submitted = sim.http.post(
        sim.url("query/v1/suiteql"),
        json={"q": "SELECT id, itemid FROM item ORDER BY id"},
        headers=async_headers(None, "transient"),
    )
    assert submitted.status_code == 202
    assert poll_job(sim, submitted.headers["Location"])["progress"] == "succeeded"
    job_id = submitted.headers["Location"].rsplit("/", 1)[1]
    page = sim.http.get(f"{submitted.headers['Location']}/task/{job_id}/result")
    assert page.status_code == 200
    assert [row["itemid"] for row in page.json()["items"]] == ["A", "B"]

    bad = sim.http.put(sim.url("record/v1/salesOrder/eid:o-bad"), json={"memo": "x"}, headers=async_headers())
    assert bad.status_code == 202
    assert poll_job(sim, bad.headers["Location"])["progress"] == "failed"
    bad_id = bad.headers["Location"].rsplit("/", 1)[1]
    result = sim.http.get(f"{bad.headers['Location']}/task/{bad_id}/result")
    assert (result.status_code, error_code(result)) == (400, "USER_ERROR")
    assert sim.http.get(sim.url("async/v1/job/999999")).status_code == 404


def test_reset_drops_jobs_that_have_not_started(sim: Sim) -> None:
    sim.control("POST", "config", {"async_job_delay_ms": 300})
    key = str(uuid.uuid4())
    submitted = sim.http.put(sim.url("record/v1/customer/eid:c-late"), json={}, headers=async_headers(key))
    assert submitted.status_code == 202
    runner = job_thread(submitted.headers["Location"])
    sim.control("POST", "reset")
    assert sim.http.get(submitted.headers["Location"]).status_code == 404
    CLOCK.advance(0.45)  # past the job's delay: it would run now
    runner.join(timeout=3)
    assert not runner.is_alive()
    assert sim.control("GET", "records/customer") == []
    again = sim.http.put(sim.url("record/v1/customer/eid:c-late"), json={}, headers=async_headers(key))
    assert again.status_code == 202
    assert again.headers["Location"] != submitted.headers["Location"]


# Faults on demand


def test_error_rate_with_a_seed_is_proportional_and_repeatable(sim: Sim) -> None:
    sim.control("POST", "faults", {"error_rate": 0.1, "status": 503, "match": "GET customer"})

    def run() -> list[int]:
        sim.control("POST", "config", {"seed": 1234})
        return [sim.http.get(sim.url("record/v1/customer/1")).status_code for _ in range(200)]

    first = run()
    failures = first.count(503)
    assert 8 <= failures <= 35, failures
    assert set(first) == {404, 503}
    assert run() == first
    # Other operations are not matched.
    assert sim.http.get(sim.url("record/v1/salesOrder/1")).status_code == 404
    assert sim.stats()["rejections"]["fault"] == 2 * failures


def test_background_error_rate_spares_the_token_endpoint(sim: Sim) -> None:
    sim.control("POST", "config", {"error_rate": 1.0, "error_status": 502})
    failed = sim.http.get(sim.url("record/v1/customer/1"))
    assert (failed.status_code, error_code(failed)) == (502, "UNEXPECTED_ERROR")
    assert sim.request_token(sim.assertion()).status_code == 200
    sim.control("POST", "config", {"error_rate": 0.0})
    assert sim.http.get(sim.url("record/v1/customer/1")).status_code == 404


def test_a_429_burst_lasts_its_window(sim: Sim) -> None:
    sim.control("POST", "faults", {"burst_429_s": 0.5, "match": "GET customer"})
    throttled = [sim.http.get(sim.url("record/v1/customer/1")) for _ in range(5)]
    assert all(r.status_code == 429 and r.json() == CONCURRENCY_BODY for r in throttled)
    assert sim.http.get(sim.url("record/v1/salesOrder/1")).status_code == 404
    CLOCK.advance(0.4)
    assert sim.http.get(sim.url("record/v1/customer/1")).status_code == 429
    CLOCK.advance(0.2)
    assert sim.http.get(sim.url("record/v1/customer/1")).status_code == 404
    assert sim.control("GET", "faults") == {"faults": []}


def test_held_slots_belong_to_another_integration(sim: Sim) -> None:
    sim.control("POST", "config", {"concurrency_limit": 5, "held_slots": 3, "latency_ms": 300})
    barrier = threading.Barrier(4)
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        request = requests.Request("GET", sim.url("record/v1/customer/1"), auth=oauth()).prepare()
        barrier.wait(timeout=5)
        with requests.Session() as session:
            status = session.send(request, timeout=5).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(statuses) == [404, 404, 429, 429]
    stats = sim.stats()
    assert (stats["peak_concurrency"], stats["peak_total"], stats["held_slots"]) == (2, 5, 3)
    assert stats["rejections"]["concurrency"] == 2


def test_suiteql_sees_writes_only_after_the_lag(sim: Sim) -> None:
    lag = 0.5
    sim.control("POST", "config", {"suiteql_lag_ms": int(lag * 1000)})
    url = sim.url("record/v1/customer/eid:c-lag")
    assert sim.http.put(url, json={"email": "old@example.com"}).status_code == 204
    assert sim.customer_emails() == {}
    assert sim.http.get(url).json()["email"] == "old@example.com"
    CLOCK.advance(lag - 0.1)
    assert sim.customer_emails() == {}  # the whole lag, not part of it
    CLOCK.advance(0.2)
    assert sim.customer_emails() == {"c-lag": "old@example.com"}

    assert sim.http.patch(url, json={"email": "new@example.com"}).status_code == 204
    assert sim.http.put(sim.url("record/v1/customer/eid:c-lag-2"), json={"email": "b@example.com"}).ok
    # The update shows its previous version, the new record is not there yet; REST reads are current.
    assert sim.customer_emails() == {"c-lag": "old@example.com"}
    assert sim.http.get(url).json()["email"] == "new@example.com"
    CLOCK.advance(lag + 0.1)
    assert sim.customer_emails() == {"c-lag": "new@example.com", "c-lag-2": "b@example.com"}

    assert sim.http.delete(url).status_code == 204
    assert "c-lag" in sim.customer_emails()
    CLOCK.advance(lag + 0.1)
    assert sim.customer_emails() == {"c-lag-2": "b@example.com"}


def test_a_slow_response_outlives_the_client_timeout_but_the_write_lands(sim: Sim) -> None:
    url = sim.url("record/v1/customer/eid:c-slow")
    assert sim.http.put(url, json={"email": "before@example.com"}).status_code == 204
    sim.control("POST", "faults", {"slow_ms": 800, "match": "PATCH customer", "count": 1})
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.patch(url, json={"email": "after@example.com"}, auth=oauth(), timeout=0.3)
    assert time.monotonic() - started < 0.7
    assert sim.stats()["in_flight"] == 1  # the slow request still holds its slot
    assert sim.http.get(url).json()["email"] == "after@example.com"
    wait_for(lambda: sim.stats()["in_flight"] == 0)
    stats = sim.stats()
    assert stats["slow_responses"] == 1
    assert stats["rejections"]["fault"] == 0
    assert sim.http.patch(url, json={"email": "fast@example.com"}).status_code == 204


def test_fault_and_config_validation(sim: Sim) -> None:
    for body in (
        {"error_rate": 1.5},
        {"burst_429_s": 1, "status": 503},
        {"slow_ms": 100, "error_rate": 0.5},
        {"stauts": 503},
    ):
        response = requests.post(f"{sim.root}/_sim/faults", json=body, timeout=5)
        assert response.status_code == 400, body
    for body in ({"latency_distribution": "pareto"}, {"held_slots": -1}, {"seed": "x"}, {"error_rate": 2}):
        response = requests.post(f"{sim.root}/_sim/config", json=body, timeout=5)
        assert response.status_code == 400, body
    config = sim.control("POST", "config", {"latency_distribution": "lognormal", "seed": 5})
    assert (config["latency_distribution"], config["seed"]) == ("lognormal", 5)


def test_stats_report_latency_percentiles_and_successes(sim: Sim) -> None:
    sim.control("POST", "config", {"latency_ms": 20})
    for _ in range(3):
        sim.http.put(sim.url("record/v1/customer/eid:c-s"), json={"email": "s@example.com"})
    sim.http.get(sim.url("record/v1/customer/1"))
    stats = sim.stats()
    assert stats["calls_total_ok"] == 3
    assert 20 <= stats["latency_ms_p50"] <= stats["latency_ms_p99"] < 1000


# Latency distributions, drawn without sleeping


@pytest.mark.parametrize("distribution", ["uniform", "normal", "lognormal"])
def test_latency_distributions_have_the_configured_mean_and_spread(distribution: str) -> None:
    state = State(settings=Settings(latency_ms=100, latency_jitter_ms=30, latency_distribution=distribution, seed=3))
    draws = [state.draw_latency_ms() for _ in range(5000)]
    assert min(draws) >= 0
    assert statistics.fmean(draws) == pytest.approx(100, abs=3)
    if distribution == "uniform":
        assert 70 <= min(draws) and max(draws) <= 130
    else:
        assert statistics.pstdev(draws) == pytest.approx(30, abs=3)
    if distribution == "lognormal":
        assert max(draws) - 100 > 100 - min(draws)  # the long right tail
