"""Names, street addresses, emails and phones never reach a log line: message, exception, traceback, extras.

Records go through the logging `configure_logging` installs (the one web, workers and beat run), in both formats,
and through Celery's own task failure path.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from celery import Celery

from app.domain.customers import CustomerConfig, customer_body
from app.logging_setup import (
    PERSONAL_KEYS,
    MaskingJsonFormatter,
    MaskingTextFormatter,
    PiiMaskingFilter,
    configure_logging,
    mask_pii,
    mask_value,
)
from netsuite_client.errors import ValidationError

PERSON = {
    "first_name": "Bobbie",
    "last_name": "Normanton",
    "name": "Bobbie Normanton",
    "company": "Normanton Widgets",
    "address1": "Chestnut Street 92",
    "address2": "Apartment 7b",
    "city": "Louisville",
    "zip": "40202",
    "province_code": "KY",
    "country_code": "US",
    "phone": "+1 (555) 625-1199",
    "latitude": 38.2526,
    "longitude": -85.7585,
}
EMAIL = "bobbie.normanton@hostmail.com"
# Every personal value above as it could appear in a line (the numbers as Python writes them).
SECRETS = [
    "Bobbie",
    "Normanton",
    "Chestnut",
    "Apartment 7b",
    "40202",
    "625-1199",
    "38.2526",
    "85.7585",
    "bobbie.normanton",
    "hostmail",
]


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def order() -> dict:
    return {
        "id": 820982911946154508,
        "email": EMAIL,
        "customer": {"id": 207119551, "first_name": PERSON["first_name"], "last_name": PERSON["last_name"]},
        "billing_address": PERSON,
        "shipping_address": PERSON,
        "line_items": [{"id": 466157049, "sku": "MUG-BLUE", "quantity": 1}],
    }


def test_keyed_values_are_masked_in_json_reprs_escaped_json_and_keywords():
    body = json.dumps(order())
    texts = [
        body,  # JSON
        repr(order()),  # a dict's repr
        json.dumps({"detail": body}),  # JSON inside a JSON string: escaped quotes
        repr(ValueError(body)),  # an exception's repr of a JSON body
        "Address(first_name='Bobbie', last_name=\"Normanton\", address1='Chestnut Street 92')",
        "GET /customers?email=bobbie.normanton%40hostmail.com&name=Bobbie%20Normanton&limit=1",
        # SuiteQL answers in lower case
        '{"items": [{"id": "1", "firstname": "Bobbie", "lastname": "Normanton", "email": "' + EMAIL + '"}]}',
        # a transaction's card holder; a name outside ASCII, JSON-escaped
        '{"payment_details": {"credit_card_name": "Bobbie Normanton", "credit_card_company": "Visa"}}',
        json.dumps({"billing_address": {"name": "Zoë Normanton", "address1": "Chestnut Street 92"}}),
    ]
    for text in texts:
        masked = mask_pii(text)
        assert not leaked(masked), (text, masked)
    # What an operator needs stays: ids, SKU, city, province, country, nulls and validation messages.
    masked = mask_pii(body)
    assert all(s in masked for s in ("820982911946154508", "MUG-BLUE", "Louisville", '"KY"', '"US"', "207119551"))
    assert mask_pii('{"company": null, "phone": None}') == '{"company": null, "phone": None}'
    assert mask_pii("{'zip': ['Not a valid string.']}") == "{'zip': ['Not a valid string.']}"
    assert mask_pii("display_name=x filename=y.py") == "display_name=x filename=y.py"


def test_a_netsuite_customer_body_in_an_error_is_masked():
    body = customer_body(order(), CustomerConfig())
    text = str(ValidationError(f"Invalid Field Value for addressBook: {json.dumps(body)}", status=400))
    assert all(key in text for key in ("addressee", "addr1", "firstName", "lastName", "companyName", "addrPhone"))
    assert leaked(text) and not leaked(mask_pii(text))


def test_structured_values_are_masked_by_key_and_content():
    masked = mask_value({"order": order(), "note": f"call {PERSON['phone']}", "attempts": 2, "ok": True})
    assert not leaked(json.dumps(masked))
    assert masked["attempts"] == 2 and masked["ok"] is True
    assert masked["order"]["line_items"][0]["sku"] == "MUG-BLUE"


@pytest.fixture(params=["json", "text"])
def configured(request) -> Iterator[tuple[str, io.StringIO]]:
    """The root logger as configure_logging leaves it (any earlier handler of ours set aside), writing to a buffer."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    ours = (MaskingJsonFormatter, MaskingTextFormatter)
    root.handlers = [h for h in root.handlers if not isinstance(h.formatter, ours)]
    configure_logging("INFO", request.param)
    handler = next(h for h in root.handlers if isinstance(h.formatter, ours))
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        yield request.param, stream
    finally:
        root.handlers, root.level = saved_handlers, saved_level


class CustomerPushFailed(RuntimeError):
    pass


def _push(payload: dict) -> None:
    try:
        payload["customer"]["default_address"]  # KeyError: the first exception of the chain
    except KeyError as exc:
        body = customer_body(payload, CustomerConfig())
        raise CustomerPushFailed("NetSuite refused", body, payload["billing_address"]) from exc


def test_exceptions_and_tracebacks_are_masked_through_the_configured_logging(configured):
    fmt, stream = configured
    logger = logging.getLogger("test.masking")
    try:
        _push(order())
    except CustomerPushFailed:
        logger.exception("customer of order %s: %s", 820982911946154508, order()["shipping_address"])
    logger.warning("queued", extra={"payload": order(), "customer_email": EMAIL})
    out = stream.getvalue()
    assert "CustomerPushFailed" in out and "KeyError" in out and "Traceback" in out  # the traceback is there
    assert "820982911946154508" in out and "Louisville" in out
    assert not leaked(out), leaked(out)
    if fmt == "json":
        first, second = (json.loads(line) for line in out.splitlines())
        assert "exc_info" in first and "Traceback" in first["exc_info"]
        assert (
            second["payload"]["line_items"][0]["sku"] == "MUG-BLUE"
            and second["payload"]["billing_address"]["zip"] == "***"
        )


def test_celery_task_failure_lines_are_masked(configured):
    fmt, stream = configured
    app = Celery("masking", set_as_current=False)

    @app.task(name="masking.push")
    def push(event_id: int) -> None:
        _push(order())

    push.apply(args=[7])
    out = stream.getvalue()
    # Celery's trace logger wrote its "raised unexpected" line, with the traceback, through our handler.
    assert "masking.push" in out and "CustomerPushFailed" in out and "Traceback" in out
    assert not leaked(out), leaked(out)


def test_the_filter_masks_the_exception_of_a_record_for_a_foreign_formatter():
    try:
        _push(order())
    except CustomerPushFailed:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "push %s", (EMAIL,), sys.exc_info())
    PiiMaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "CustomerPushFailed" in text and not leaked(text)


@pytest.mark.parametrize("fmt", [MaskingTextFormatter(), MaskingJsonFormatter()])
def test_a_traceback_another_handler_cached_unmasked_is_masked_again(fmt):
    try:
        _push(order())
    except CustomerPushFailed:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "push failed", (), sys.exc_info())
    plain = logging.Formatter().format(record)  # pytest's or a third party's handler, first in line
    assert leaked(record.exc_text or "") and leaked(plain)
    cached = record.exc_text
    out = fmt.format(record)
    assert "CustomerPushFailed" in out and not leaked(out)
    assert record.exc_text == cached  # the handlers after ours see the record as it was
    record.exc_info = None  # only the cached text left (a record from a queue, a pickled one)
    out = fmt.format(record)
    assert "CustomerPushFailed" in out and not leaked(out)


def test_every_personal_key_is_masked_in_each_spelling():
    # Also holds the shortcut honest: a key added without a matching hint would be skipped, and fail here.
    for key in PERSONAL_KEYS:
        for text in (f'{{"{key}": "Bobbie"}}', f"{{'{key.lower()}': 'Bobbie'}}", f"{key.upper()}=Bobbie"):
            assert "Bobbie" not in mask_pii(text), text


@pytest.mark.parametrize(
    ("text", "kept", "masked"),
    [
        ("refund 6300000000034 of 99999.00 exceeds the 661.51 still paid", ["99999.00", "661.51"], []),
        ("total 1234567.89 USD", ["1234567.89"], []),
        ("call 555.123.4567 or +1 (415) 555-0100", [], ["555.123.4567", "(415) 555-0100"]),
    ],
)
def test_money_amounts_stay_readable_phones_do_not(text, kept, masked):
    out = mask_pii(text)
    assert all(amount in out for amount in kept), out
    assert not any(phone in out for phone in masked), out
