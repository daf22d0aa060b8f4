"""The payout → deposit decision: lines, accounts, waiting, variance, reversal (app/domain/payouts.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.payouts import (
    BalanceTransaction,
    Payout,
    PayoutAccounts,
    PayoutMismatch,
    Receipt,
    decide,
)

ACCOUNTS = PayoutAccounts(
    banks={"USD": "101", "CAD": "102"},
    fees="601",
    disputes="602",
    reserves="603",
    adjustments="604",
    suspense="699",
    variance="698",
)
D = Decimal


def charge(n: int, amount: str, fee: str) -> BalanceTransaction:
    return BalanceTransaction(f"bt{n}", "CHARGE", D(amount), D(fee), D(amount) - D(fee), order_transaction_id=f"t{n}")


def refund(n: int, amount: str) -> BalanceTransaction:
    return BalanceTransaction(f"bt{n}", "REFUND", D(amount), D("0"), D(amount), order_transaction_id=f"t{n}")


def other(n: int, kind: str, net: str, fee: str = "0") -> BalanceTransaction:
    return BalanceTransaction(f"bt{n}", kind, D(net) + D(fee), D(fee), D(net))


def payout(rows: list[BalanceTransaction], status: str = "PAID", currency: str = "USD") -> Payout:
    net = sum((r.net for r in rows if r.type != "TRANSFER"), D("0"))
    return Payout("9001", status, currency, net, "2026-11-30T00:00:00Z")


def receipts_of(rows: list[BalanceTransaction]) -> dict[str, Receipt]:
    return {r.order_transaction_id: Receipt(f"ns-{r.id}", r.amount) for r in rows if r.order_transaction_id}


def by_role(plan, role):
    return [line for line in plan.lines if line.role == role]


def test_a_matched_payout_posts_receipts_fees_disputes_and_reserve_to_their_accounts():
    rows = [
        charge(1, "100.00", "3.20"),
        charge(2, "50.00", "1.75"),
        refund(3, "-20.00"),
        other(4, "DISPUTE_WITHDRAWAL", "-50.00"),
        other(5, "CHARGEBACK_FEE", "-15.00"),
        other(6, "RESERVED_FUNDS", "-10.00"),
        BalanceTransaction("bt7", "TRANSFER", D("-50.05"), D("0"), D("-50.05")),
    ]
    p = payout(rows)
    decision = decide(p, rows, receipts_of(rows), ACCOUNTS, past_lag=False, deposited=False)
    assert decision.action == "post"
    plan = decision.plan
    assert plan.external_id == "shopify-payout-9001" and plan.bank_account == "101"
    assert plan.total() == p.net == D("50.05")
    assert plan.variance == 0 and not plan.missing and not plan.suspense_types
    assert [(x.sublist, x.amount, x.receipt_id) for x in by_role(plan, "charge")] == [
        ("payment", D("100.00"), "ns-bt1"),
        ("payment", D("50.00"), "ns-bt2"),
    ]
    assert [(x.sublist, x.amount) for x in by_role(plan, "refund")] == [("payment", D("-20.00"))]
    assert [(x.sublist, x.amount, x.account) for x in by_role(plan, "fees")] == [("cashback", D("4.95"), "601")]
    assert sorted((x.sublist, x.amount) for x in by_role(plan, "disputes")) == [
        ("cashback", D("15.00")),
        ("cashback", D("50.00")),
    ]
    assert [(x.account, x.amount) for x in by_role(plan, "reserves")] == [("603", D("10.00"))]
    assert not any(line.role == "variance" for line in plan.lines)


def test_fees_can_be_one_cash_back_line_per_charge():
    rows = [charge(1, "10.00", "0.59"), charge(2, "20.00", "0.88")]
    accounts = PayoutAccounts(**{**ACCOUNTS.__dict__, "fees_per_transaction": True})
    plan = decide(payout(rows), rows, receipts_of(rows), accounts, past_lag=False, deposited=False).plan
    assert [x.amount for x in by_role(plan, "fees")] == [D("0.59"), D("0.88")]
    assert plan.total() == D("28.53")


def test_a_receipt_not_in_netsuite_makes_the_payout_wait_then_posts_with_a_variance_after_the_lag():
    rows = [charge(1, "100.00", "3.20"), charge(2, "40.00", "1.46")]
    receipts = receipts_of(rows[:1])
    waiting = decide(payout(rows), rows, receipts, ACCOUNTS, past_lag=False, deposited=False)
    assert waiting.action == "wait" and waiting.missing == ("t2",) and waiting.plan is None
    late = decide(payout(rows), rows, receipts, ACCOUNTS, past_lag=True, deposited=False)
    assert late.action == "post" and late.plan.missing == ("t2",)
    assert late.plan.variance == D("40.00")
    assert [(x.sublist, x.account, x.amount) for x in by_role(late.plan, "variance")] == [("other", "698", D("40.00"))]
    assert late.plan.total() == payout(rows).net


def test_netsuite_holding_a_different_amount_shows_as_variance_never_absorbed():
    rows = [charge(1, "100.00", "3.20")]
    receipts = {"t1": Receipt("ns-1", D("99.00"))}
    plan = decide(payout(rows), rows, receipts, ACCOUNTS, past_lag=False, deposited=False).plan
    assert plan.variance == D("1.00") and plan.total() == D("96.80")


def test_an_unknown_transaction_type_goes_to_suspense_and_is_reported():
    rows = [charge(1, "10.00", "0.59"), other(2, "SHOP_CASH_CREDIT", "5.00"), other(3, "BRAND_NEW_TYPE", "-1.00")]
    plan = decide(payout(rows), rows, receipts_of(rows), ACCOUNTS, past_lag=False, deposited=False).plan
    assert plan.suspense_types == ("SHOP_CASH_CREDIT", "BRAND_NEW_TYPE")
    assert {(x.sublist, x.account, x.amount) for x in by_role(plan, "suspense")} == {
        ("other", "699", D("5.00")),
        ("cashback", "699", D("1.00")),
    }
    assert plan.total() == D("13.41")


def test_a_configured_type_account_wins_over_suspense():
    rows = [other(1, "SHOP_CASH_CREDIT", "5.00")]
    accounts = PayoutAccounts(**{**ACCOUNTS.__dict__, "type_accounts": {"SHOP_CASH_CREDIT": "777"}})
    plan = decide(payout(rows), rows, {}, accounts, past_lag=False, deposited=False).plan
    assert [(x.account, x.role) for x in plan.lines] == [("777", "shop_cash_credit")] and not plan.suspense_types


@pytest.mark.parametrize("status", ["FAILED", "CANCELED"])
def test_a_payout_failing_after_its_deposit_is_reversed_and_one_never_deposited_is_skipped(status):
    rows = [charge(1, "10.00", "0.59")]
    assert decide(payout(rows, status), rows, {}, ACCOUNTS, past_lag=True, deposited=True).action == "reverse"
    assert decide(payout(rows, status), rows, {}, ACCOUNTS, past_lag=True, deposited=False).action == "skip"


def test_a_deposited_payout_is_never_posted_again_and_a_scheduled_one_not_yet():
    rows = [charge(1, "10.00", "0.59")]
    assert decide(payout(rows), rows, receipts_of(rows), ACCOUNTS, past_lag=True, deposited=True).action == "skip"
    scheduled = decide(payout(rows, "SCHEDULED"), rows, receipts_of(rows), ACCOUNTS, past_lag=True, deposited=False)
    assert scheduled.action == "skip"


def test_shopify_figures_that_disagree_are_refused_and_an_unconfigured_currency_named():
    rows = [charge(1, "10.00", "0.59")]
    wrong = Payout("9001", "PAID", "USD", D("9.00"), "2026-11-30T00:00:00Z")
    with pytest.raises(PayoutMismatch, match="9001"):
        decide(wrong, rows, receipts_of(rows), ACCOUNTS, past_lag=True, deposited=False)
    with pytest.raises(ValueError, match="EUR"):
        decide(payout(rows, currency="EUR"), rows, receipts_of(rows), ACCOUNTS, past_lag=True, deposited=False)


cents_st = st.decimals(min_value=D("-500"), max_value=D("500"), places=2, allow_nan=False, allow_infinity=False)
KINDS = ["CHARGE", "REFUND", "DISPUTE_WITHDRAWAL", "RESERVED_FUNDS", "ADJUSTMENT", "ODD_NEW_TYPE"]


@given(
    st.lists(st.tuples(st.sampled_from(KINDS), cents_st, cents_st, st.booleans(), cents_st), max_size=30),
    st.booleans(),
)
def test_after_the_lag_the_deposit_always_equals_the_payout_net(specs, per_txn_fees):
    rows, receipts = [BalanceTransaction("big", "ADJUSTMENT", D("20000"), D("0"), D("20000"))], {}
    for n, (kind, amount, fee, known, ns_amount) in enumerate(specs):
        txn = f"t{n}" if kind in ("CHARGE", "REFUND") else None
        rows.append(BalanceTransaction(f"bt{n}", kind, amount, fee, amount - fee, order_transaction_id=txn))
        if txn and known:
            receipts[txn] = Receipt(f"ns{n}", ns_amount)
    accounts = PayoutAccounts(**{**ACCOUNTS.__dict__, "fees_per_transaction": per_txn_fees})
    plan = decide(payout(rows), rows, receipts, accounts, past_lag=True, deposited=False).plan
    assert plan.total() == payout(rows).net
    assert all(line.amount > 0 for line in plan.lines if line.sublist != "payment")


def test_a_withdrawal_payout_is_left_to_a_person_never_posted_as_a_negative_deposit():
    rows = [refund(1, "-40.00"), other(2, "RESERVED_FUNDS", "-10.00")]
    decision = decide(payout(rows), rows, receipts_of(rows), ACCOUNTS, past_lag=True, deposited=False)
    assert decision.action == "manual" and "withdrawal" in decision.reason and decision.plan is None
