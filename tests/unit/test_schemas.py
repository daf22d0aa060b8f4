from decimal import Decimal

import pytest
from marshmallow import ValidationError

from schemas.shopify import OrderSchema, envelope_resource_id
from tests.conftest import load_fixture


def test_every_fixture_yields_its_resource_id():
    assert envelope_resource_id("orders/create", load_fixture("orders_create.json")) == 450789469
    assert envelope_resource_id("fulfillments/create", load_fixture("fulfillments_create.json")) == 450789469
    assert envelope_resource_id("refunds/create", load_fixture("refunds_create.json")) == 450789469
    assert envelope_resource_id("inventory_levels/update", load_fixture("inventory_levels_update.json")) == 808950810


def test_order_fixture_loads_money_as_decimal():
    order = OrderSchema().load(load_fixture("orders_create.json"))
    assert order["total_price"] == Decimal("409.94")
    assert [li["sku"] for li in order["line_items"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order["created_at"].utcoffset() is not None


def test_missing_required_field_and_float_id_are_rejected():
    payload = load_fixture("orders_create.json")
    del payload["line_items"]
    with pytest.raises(ValidationError) as err:
        OrderSchema().load(payload)
    assert "line_items" in err.value.messages
    payload = load_fixture("orders_create.json")
    payload["id"] = 450789469.0
    with pytest.raises(ValidationError):
        OrderSchema().load(payload)
