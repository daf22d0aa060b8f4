"""Issue 13's payout benchmark, small: the same run as `python -m bench.payouts` (bench/payouts/run.py), 3 days x
50 orders. Both simulators as their own processes (NetSuite at 150 +/- 50 ms a call), the month seeded (card sales,
authorize-then-capture, gift cards, refunds, a dispute, a reserve hold and release, an adjustment and a type no
account maps), then `shopsync payouts sync --json` run twice as its own process. Every payout must become one
deposit whose total, read back from NetSuite, equals the payout's net; every receipt deposited once; the unmapped
type on the suspense account; the second run must write nothing to NetSuite."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.payouts.run import BUDGET, Options, bench, verdicts
from tests.conftest import TEST_DB, TEST_REDIS_DB

DAYS, PER_DAY = 3, 50


@pytest.mark.timeout(120)
def test_a_small_month_of_payouts_reconciles_to_the_cent_and_a_rerun_writes_nothing(tmp_path):
    opts = Options(
        days=DAYS, orders_per_day=PER_DAY, db_name=f"{TEST_DB}_paybench", redis_db=int(TEST_REDIS_DB), progress=False
    )
    result = bench(opts, tmp_path)
    seeded, first, second, deposits = result["seeded"], result["first"], result["second"], result["deposits"]

    # The month happened as planned: a payout a day, card and gift-card tenders, refunds, a dispute, odd rows.
    assert seeded["orders"] == DAYS * PER_DAY and seeded["payouts"] == DAYS == len(deposits)
    assert seeded["refunds"] >= 1 and seeded["disputes"] >= 1 and seeded["tenders"].get("gift_card", 0) >= 1
    receipts = seeded["netsuite_customer_deposits"] + seeded["netsuite_customer_refunds"]
    assert seeded["netsuite_customer_deposits"] == seeded["orders"] - seeded["tenders"]["gift_card"]

    # Every payout posted once, NetSuite's own total equal to the payout's net.
    assert (first["report"]["posted"], first["report"]["waiting"], first["report"]["errors"]) == (DAYS, 0, 0)
    for deposit in deposits:
        assert deposit["deposit_id"] is not None, deposit
        assert Decimal(deposit["deposit_total"]) == Decimal(deposit["net"]), deposit
        assert deposit["variance_lines"] == 0
    paid_in = [p for d in deposits for p in d["payment_ids"]]
    assert len(paid_in) == len(set(paid_in)) == receipts
    assert sum(d["suspense_lines"] for d in deposits) == 1
    # The job went through the real clients: NetSuite and Shopify calls were made and logged.
    assert first["netsuite_writes"] == DAYS and first["call_log"]["rows"] == first["netsuite_calls"] > 0
    assert first["shopify_requests"] > 0 and first["shopify_points"] > 0
    assert result["netsuite_peak_concurrency"] <= BUDGET

    # Running it again compares and writes nothing.
    assert second["report"]["posted"] == 0 and second["report"]["unchanged"] == DAYS
    assert second["netsuite_writes"] == 0
    assert all(ok for _, ok, _ in verdicts(result)), verdicts(result)
