"""Domain errors survive pickling (Celery's events and results, copies) with their message and attributes."""

from __future__ import annotations

import copy
import pickle

import pytest

from app.domain.errors import PermanentError, SchemaError, UnknownSku
from app.domain.state_machine import InvalidTransition
from app.services.events import EventNotFound


@pytest.mark.parametrize(
    "exc",
    [
        UnknownSku(["SKU-1", "SKU-2"]),
        InvalidTransition("cancelled", "fulfillments/create", "order is cancelled"),
        PermanentError("no discount item", code="NO_DISCOUNT_ITEM", category="data"),
        SchemaError("line_items.0.price: not a number"),
        EventNotFound("event 7 not found"),
    ],
)
def test_domain_errors_round_trip_through_pickle(exc: PermanentError):
    for clone in (pickle.loads(pickle.dumps(exc)), copy.deepcopy(exc)):
        assert type(clone) is type(exc)
        assert str(clone) == str(exc) and repr(clone) == repr(exc)
        assert (clone.code, clone.category) == (exc.code, exc.category)
        assert vars(clone) == vars(exc)


def test_unknown_sku_keeps_its_skus_and_message():
    clone = pickle.loads(pickle.dumps(UnknownSku(["DEPTH-UNKNOWN-1"])))
    assert clone.skus == ["DEPTH-UNKNOWN-1"] and str(clone) == "unknown SKU DEPTH-UNKNOWN-1"
