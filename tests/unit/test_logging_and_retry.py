import logging
import pickle

from app.adapters.failures import classify
from app.domain.errors import RunLater, UnknownSku
from app.logging_setup import PiiMaskingFilter, mask_pii
from netsuite_client.errors import AuthError, ConcurrencyLimitError, ServerError, ValidationError
from netsuite_client.limiter import SlotUnavailable
from tasks.base import retry_countdown


def test_personal_data_is_masked():
    text = mask_pii("customer bob.norman@hostmail.com phone 555-625-1199 order 450789469")
    assert "bob.norman" not in text and "hostmail" not in text
    assert "555-625-1199" not in text
    assert "450789469" in text  # ids stay readable


def test_filter_masks_arguments_of_any_record():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail %s", ("a.person@example.com",), None)
    PiiMaskingFilter().filter(record)
    assert "a.person@example.com" not in record.getMessage()


def test_retry_countdown_is_capped_and_jittered():
    values = [retry_countdown(r, cap=30) for r in range(12) for _ in range(20)]
    assert all(1.0 <= v <= 30 for v in values)
    assert len({round(v, 3) for v in values}) > 50


def test_failures_are_classified_for_the_dlq():
    assert classify(UnknownSku(["X"])).retryable is False
    assert classify(UnknownSku(["X"])).category == "data"
    assert (
        classify(ConcurrencyLimitError("busy", status=429, code="CONCURRENCY_LIMIT_EXCEEDED")).category == "governance"
    )
    assert classify(ServerError("boom", status=503)).retryable is True
    assert classify(AuthError("no", status=401, code="INVALID_LOGIN")).category == "auth"
    assert classify(ValidationError("bad", status=400, code="INVALID_KEY_OR_REF")).retryable is False
    assert classify(KeyError("x")).category == "bug"


def test_a_busy_netsuite_budget_reschedules_and_failures_do_not():
    verdict = classify(SlotUnavailable("live", 5.0, "no slot within 5s"))
    assert verdict.reschedule and verdict.retryable and verdict.code == "SLOT_UNAVAILABLE"
    # A 429 means a call was sent and refused: a real retry (counted), not a free reschedule.
    assert not classify(ConcurrencyLimitError("busy", status=429, code="CONCURRENCY_LIMIT_EXCEEDED")).reschedule
    assert not classify(ServerError("boom", status=503)).reschedule
    assert not classify(UnknownSku(["X"])).reschedule
    assert verdict.countdown is None  # the task picks its own short wait


def test_work_that_asks_to_run_later_is_rescheduled_after_its_countdown_without_a_retry():
    asked = RunLater("edit 1 of order 2: waiting for the orders/updated", 7.5)
    verdict = classify(asked)
    assert verdict.reschedule and verdict.countdown == 7.5 and verdict.code == "DEFERRED"
    assert classify(RunLater("clock skew", -3.0)).countdown == 0.0
    # Celery pickles exceptions: the countdown survives it.
    again = pickle.loads(pickle.dumps(asked))
    assert (type(again), again.seconds, str(again)) == (RunLater, 7.5, str(asked))


def test_masking_keeps_dates_and_ids_but_not_international_phones():
    text = mask_pii("at 2008-01-10 id 450789469 call +44 20 7946 0958 or (555) 625-1199")
    assert "2008-01-10" in text and "450789469" in text
    assert "7946" not in text and "625-1199" not in text
