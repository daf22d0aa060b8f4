import json
import pickle
import uuid

import pytest

from netsuite_client import (
    AsyncJob,
    AsyncJobTimeoutError,
    NetSuiteClient,
    NetSuiteError,
    NotFoundError,
    ServerError,
    ValidationError,
    is_retryable,
)
from tests.integration.test_netsuite_client import FakeNetSuite, Reply, local_session, ns_error
from tests.integration.test_netsuite_client import make_auth as make_tba_auth


@pytest.fixture
def fake():
    server = FakeNetSuite()
    yield server
    server.close()


@pytest.fixture
def records():
    return []


@pytest.fixture
def make_client(fake, records):
    made = []

    def factory(**overrides):
        options = {
            "base_url": fake.url,
            "auth": make_tba_auth(),
            "session_factory": local_session,
            "timeout": (1.0, 2.0),
            "backoff_base": 0.001,
            "backoff_max": 0.005,
            "on_call": records.append,
        }
        options.update(overrides)
        made.append(NetSuiteClient(**options))
        return made[-1]

    yield factory
    for client in made:
        client.close()


ORDER = {"externalId": "shopify-order-1", "item": {"items": [{"item": {"id": "12"}, "quantity": 1}]}}


def accepted(fake, job_id="JOB-1"):
    return Reply(202, headers={"Location": f"{fake.url}/async/v1/job/{job_id}"})


def job(job_id, progress, **extra):
    return Reply(200, {"id": job_id, "progress": progress, "links": [], **extra})


def tasks(job_id, task_id="T-1"):
    href = f"/services/rest/async/v1/job/{job_id}/task/{task_id}"
    return Reply(200, {"links": [], "count": 1, "items": [{"id": task_id, "links": [{"rel": "self", "href": href}]}]})


def envelope(status, headers=None, body=None):
    return Reply(200, {"status": status, "headers": headers or {}, "body": body})


def paths(fake):
    return [(r["method"], r["path"]) for r in fake.requests]


def test_upsert_async_is_submitted_polled_and_read_back(fake, make_client, records):
    fake.script(
        accepted(fake),
        job("JOB-1", "pending"),
        job("JOB-1", "processing"),
        job("JOB-1", "succeeded"),
        tasks("JOB-1"),
        envelope(204, {"Location": f"{fake.url}/record/v1/salesOrder/1504"}),
    )
    client = make_client()

    submitted = client.upsert_async("salesOrder", "shopify-order-1", ORDER, replace=("item",))
    result = client.wait_for_job(submitted, poll_interval=0.01, timeout=5)

    assert submitted.id == "JOB-1" and not submitted.replayed
    assert result.status == 204
    assert result.internal_id == "1504"
    assert result.job_id == "JOB-1"
    assert result.body is None
    sent = fake.requests[0]
    assert (sent["method"], sent["path"], sent["query"]) == (
        "PUT",
        "/services/rest/record/v1/salesOrder/eid:shopify-order-1",
        {"replace": "item"},
    )
    assert sent["headers"]["Prefer"] == "respond-async"
    key = sent["headers"]["X-NetSuite-Idempotency-Key"]
    assert uuid.UUID(key).version == 4 and submitted.idempotency_key == key
    assert json.loads(sent["body"]) == ORDER
    base = "/services/rest/async/v1/job/JOB-1"
    assert paths(fake)[1:] == [("GET", base)] * 3 + [("GET", base + "/task"), ("GET", base + "/task/T-1/result")]
    assert {r.operation for r in records} == {"upsert_async", "job_status", "job_tasks", "job_result"}
    assert all(r.external_id == "shopify-order-1" for r in records)


def test_result_replayed_as_the_original_response_and_progress_spellings(fake, make_client):
    fake.script(
        accepted(fake, "7"),
        job("7", "Processing"),
        job("7", "COMPLETED"),
        Reply(200, {"items": [{"links": [{"rel": "self", "href": "/services/rest/async/v1/job/7/task/71"}]}]}),
        Reply(200, {"id": "647", "companyName": "Acme"}, headers={"Location": f"{fake.url}/record/v1/customer/647"}),
    )
    client = make_client()

    submitted = client.async_request("POST", "record/v1/customer", body={"companyName": "Acme"})
    result = client.wait_for_job(submitted.id, poll_interval=0.01, timeout=5)

    assert (result.status, result.internal_id, result.body) == (200, "647", {"id": "647", "companyName": "Acme"})
    assert result.headers["location"].endswith("/customer/647")
    assert fake.requests[-1]["path"] == "/services/rest/async/v1/job/7/task/71/result"


def test_failed_job_raises_the_typed_error_of_the_original_request(fake, make_client):
    fake.script(
        accepted(fake),
        job("JOB-1", "failed"),
        tasks("JOB-1"),
        envelope(
            400,
            {"Content-Type": "application/json"},
            {
                "type": "x",
                "title": "Bad Request",
                "status": 400,
                "o:errorDetails": [{"detail": "Invalid item reference key 99.", "o:errorCode": "INVALID_KEY_OR_REF"}],
            },
        ),
    )
    client = make_client()
    submitted = client.upsert_async("salesOrder", "shopify-order-1", ORDER, replace=["item"])

    with pytest.raises(ValidationError) as caught:
        client.wait_for_job(submitted, poll_interval=0.01, timeout=5)

    assert caught.value.code == "INVALID_KEY_OR_REF"
    assert caught.value.status == 400
    assert not is_retryable(caught.value)


def test_failed_job_whose_result_is_replayed_as_an_error_response(fake, make_client, records):
    fake.script(
        accepted(fake),
        job("JOB-1", "FAILED"),
        tasks("JOB-1"),
        ns_error(404, "NONEXISTENT_ID", "Record does not exist."),
    )
    client = make_client()

    with pytest.raises(NotFoundError) as caught:
        client.wait_for_job(client.async_request("PATCH", "record/v1/customer/5", body={"x": 1}), poll_interval=0)

    assert caught.value.code == "NONEXISTENT_ID"
    assert len(fake.requests) == 4


def test_a_replayed_idempotency_key_returns_the_earlier_job(fake, make_client, records):
    fake.script(
        ns_error(
            400,
            "IDEMPOTENCY_ERROR",
            "The idempotency key has already been used.",
            headers={"Location": f"{fake.url}/async/v1/job/JOB-0"},
        ),
        job("JOB-0", "succeeded"),
        tasks("JOB-0", "T-0"),
        envelope(204, {"Location": f"{fake.url}/record/v1/salesOrder/1504"}),
    )
    client = make_client()
    key = uuid.uuid5(uuid.NAMESPACE_URL, "shopify-order-1/rev-3")

    submitted = client.upsert_async("salesOrder", "shopify-order-1", ORDER, replace=("item",), idempotency_key=key)

    assert submitted == AsyncJob(
        id="JOB-0",
        location=f"{fake.url}/async/v1/job/JOB-0",
        idempotency_key=str(key),
        replayed=True,
        record_type="salesOrder",
        external_id="shopify-order-1",
    )
    assert fake.requests[0]["headers"]["X-NetSuite-Idempotency-Key"] == str(key)
    assert [(r.outcome, r.http_status, r.error_code) for r in records] == [("ok", 400, "IDEMPOTENCY_ERROR")]
    assert client.wait_for_job(submitted, poll_interval=0).internal_id == "1504"
    assert pickle.loads(pickle.dumps(submitted)) == submitted  # noqa: S301 - our own object


def test_idempotency_error_without_a_job_location_is_raised(fake, make_client):
    fake.script(ns_error(400, "IDEMPOTENCY_ERROR", "The idempotency key has already been used."))
    with pytest.raises(ValidationError) as caught:
        make_client().async_request("POST", "record/v1/customer", body={})
    assert caught.value.code == "IDEMPOTENCY_ERROR"


def test_a_submission_is_retried_with_the_same_idempotency_key(fake, make_client):
    fake.script(ns_error(503, "UNEXPECTED_ERROR", "boom"), accepted(fake))

    # A create: only the idempotency key makes repeating it after a 5xx safe.
    submitted = make_client().async_request("POST", "record/v1/customer", body={"companyName": "Acme"})

    assert submitted.id == "JOB-1"
    keys = [r["headers"]["X-NetSuite-Idempotency-Key"] for r in fake.requests]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_wait_gives_up_with_a_retryable_ambiguous_timeout(fake, make_client):
    fake.script(*[job("JOB-1", "processing") for _ in range(50)])

    with pytest.raises(AsyncJobTimeoutError) as caught:
        make_client().wait_for_job("JOB-1", poll_interval=0.02, timeout=0.1)

    err = caught.value
    assert err.job_id == "JOB-1" and err.code == "ASYNC_JOB_TIMEOUT"
    assert is_retryable(err) and err.ambiguous
    assert 2 <= len(fake.requests) <= 10


def test_poll_job_does_not_block(fake, make_client):
    fake.script(job("JOB-1", "pending"))
    assert make_client().poll_job("JOB-1") is None
    assert len(fake.requests) == 1


def test_a_server_that_answers_at_once_gives_a_finished_job(fake, make_client):
    fake.script(Reply(204, headers={"Location": f"{fake.url}/record/v1/customer/12"}))
    client = make_client()

    submitted = client.upsert_async("customer", "shopify-customer-1", {"companyName": "Acme"})

    assert submitted.id is None and submitted.result is not None
    assert client.wait_for_job(submitted).internal_id == "12"
    assert len(fake.requests) == 1


def test_accepted_without_a_job_location_is_an_error(fake, make_client):
    fake.script(Reply(202, headers={"Location": f"{fake.url}/record/v1/customer/12"}))
    with pytest.raises(NetSuiteError) as caught:
        make_client().async_request("POST", "record/v1/customer", body={})
    assert caught.value.code == "MISSING_LOCATION"


def test_job_failing_without_a_task(fake, make_client):
    fake.script(job("JOB-1", "failed"), Reply(200, {"items": []}))
    with pytest.raises(NetSuiteError) as caught:
        make_client().wait_for_job("JOB-1", poll_interval=0)
    assert caught.value.code == "ASYNC_JOB_FAILED"


def test_polls_retry_server_errors_like_any_read(fake, make_client):
    fake.script(
        ns_error(503, "UNEXPECTED_ERROR", "busy"),
        job("JOB-1", "done"),
        tasks("JOB-1"),
        envelope(204, {"Location": "/services/rest/record/v1/customer/3"}),
    )
    assert make_client().wait_for_job("JOB-1", poll_interval=0).internal_id == "3"


def test_result_status_5xx_in_envelope_is_a_retryable_error(fake, make_client):
    fake.script(job("JOB-1", "failed"), tasks("JOB-1"), envelope(500, {}, {"title": "Internal error"}))
    with pytest.raises(ServerError):
        make_client().wait_for_job("JOB-1", poll_interval=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.async_request("POST", "https://evil.example/x"), "relative_path"),
        (lambda c: c.async_request("POST", "record/v1/../../x"), "relative_path"),
        (lambda c: c.async_request("POST", "record/v1/customer?x=1"), "relative_path"),
        (lambda c: c.async_request("TRACE", "record/v1/customer"), "method"),
        (lambda c: c.async_request("POST", "record/v1/customer", idempotency_key="a b"), "idempotency key"),
        (lambda c: c.async_request("POST", "record/v1/customer", idempotency_key="order-1"), "idempotency key"),
        (lambda c: c.upsert_async("customer", "bad id", {}), "external id"),
        (lambda c: c.wait_for_job("../secret"), "job id"),
    ],
)
def test_inputs_that_could_steer_the_request_are_refused(fake, make_client, call, message):
    with pytest.raises(ValueError, match=message):
        call(make_client())
    assert fake.requests == []
