"""A Shopify Payments payout as a NetSuite bank deposit: which lines, which accounts, and whether it can post now.

The rule (../shared/FLOWS.md §1 d): B = the payout's balance transactions without its own TRANSFER row; each CHARGE
is one NetSuite receipt and each REFUND one refund record, both deposited as payment lines at the amount NetSuite
holds for them; everything else is an `other` line (money in) or a `cashback` line (money out) on a configured
account; and Σ payment + Σ other − Σ cashback equals the payout's net to the cent. What does not fit is never
absorbed: a receipt NetSuite does not hold yet makes the payout wait, and after the lag its amount and any other gap
go on an explicit variance line the caller alerts on. A transaction type nobody mapped (there are 100+, and new ones
appear) goes to the suspense account, also alerted. Pure: plain values in, a decision out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.keys import payout_external_id
from app.domain.money import ZERO, cents

PAID = "PAID"
REVERSED_STATUSES = frozenset({"FAILED", "CANCELED"})
TRANSFER = "TRANSFER"  # the payout itself, listed among its own balance transactions
RECEIPT_TYPES = frozenset({"CHARGE", "REFUND"})  # deposited as the NetSuite record the order's transaction became

# Balance transaction types → the account role their net posts to (an unlisted type goes to suspense).
DEFAULT_TYPE_ROLES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "DISPUTE_WITHDRAWAL",
            "DISPUTE_REVERSAL",
            "CHARGEBACK_FEE",
            "CHARGEBACK_FEE_REFUND",
            "CHARGEBACK_HOLD",
            "CHARGEBACK_HOLD_RELEASE",
        ),
        "disputes",
    ),
    **dict.fromkeys(("RESERVED_FUNDS", "RESERVED_FUNDS_REVERSAL", "RESERVED_FUNDS_WITHDRAWAL"), "reserves"),
    **dict.fromkeys(("ADJUSTMENT", "CHARGE_ADJUSTMENT", "REFUND_ADJUSTMENT", "REFUND_FAILURE"), "adjustments"),
}


@dataclass(frozen=True)
class Payout:
    id: str  # Shopify's legacyResourceId (the number in the admin and on the bank statement)
    status: str  # SCHEDULED | IN_TRANSIT | PAID | FAILED | CANCELED
    currency: str
    net: Decimal
    issued_at: str  # ISO date-time, as Shopify gives it


@dataclass(frozen=True)
class BalanceTransaction:
    id: str
    type: str
    amount: Decimal
    fee: Decimal
    net: Decimal
    order_transaction_id: str | None = None  # sourceOrderTransactionId: the order's SALE/CAPTURE/REFUND
    order_id: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What NetSuite holds for one Shopify order transaction (read from NetSuite, never from our own rows)."""

    netsuite_id: str
    amount: Decimal  # NetSuite's own amount, signed: a refund record is negative on a deposit
    deposited: bool = False


@dataclass(frozen=True)
class PayoutAccounts:
    """NetSuite account internal ids per role (docs/CONFIGURATION.md "Payouts")."""

    banks: Mapping[str, str]  # payout currency -> bank account
    fees: str
    disputes: str
    reserves: str
    adjustments: str
    suspense: str
    variance: str
    type_accounts: Mapping[str, str] = field(default_factory=dict)  # a balance transaction type -> account
    fees_per_transaction: bool = False  # one cash-back line per charge's fee instead of one summed line


@dataclass(frozen=True)
class DepositLine:
    sublist: str  # "payment" | "other" | "cashback"
    amount: Decimal  # payment: NetSuite's signed amount; other / cashback: positive
    role: str  # charge | refund | fees | disputes | reserves | adjustments | suspense | variance | <type account>
    receipt_id: str | None = None  # payment lines: the NetSuite receipt or refund
    account: str | None = None  # other / cashback lines
    memo: str = ""


@dataclass(frozen=True)
class DepositPlan:
    external_id: str
    bank_account: str
    currency: str
    lines: tuple[DepositLine, ...]
    variance: Decimal  # the gap put on the variance line (0 when everything matched)
    missing: tuple[str, ...]  # order transaction ids NetSuite holds no receipt for
    suspense_types: tuple[str, ...]  # balance transaction types nobody mapped

    def total(self) -> Decimal:
        """The deposit's total as NetSuite computes it: Σ payment + Σ other − Σ cashback."""
        signs = {"payment": 1, "other": 1, "cashback": -1}
        return sum((signs[line.sublist] * line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class Decision:
    action: str  # "post" | "wait" | "skip" | "reverse" | "manual" (a person books it)
    reason: str
    plan: DepositPlan | None = None
    missing: tuple[str, ...] = ()


class PayoutMismatch(ValueError):
    """Shopify's own figures disagree: the payout's net is not the sum of its transactions' nets."""


def without_transfers(transactions: Iterable[BalanceTransaction]) -> list[BalanceTransaction]:
    return [t for t in transactions if t.type != TRANSFER]


def decide(
    payout: Payout,
    transactions: Sequence[BalanceTransaction],
    receipts: Mapping[str, Receipt],
    accounts: PayoutAccounts,
    *,
    past_lag: bool,
    deposited: bool,
) -> Decision:
    """What to do with a payout now. `receipts`: order transaction id -> what NetSuite holds; `past_lag`: the payout
    is older than the configured lag; `deposited`: NetSuite already holds this payout's deposit."""
    if payout.status in REVERSED_STATUSES:
        if deposited:
            return Decision("reverse", f"payout {payout.status} after it was deposited")
        return Decision("skip", f"payout {payout.status}: no money reached the bank")
    if payout.status != PAID:
        return Decision("skip", f"payout {payout.status}: not paid yet")
    if deposited:
        return Decision("skip", "deposit already in NetSuite (compared by the check, never posted twice)")
    if payout.net <= 0:
        return Decision(
            "manual",
            f"a withdrawal (net {payout.net} {payout.currency}): Shopify debited the bank, and a NetSuite deposit "
            "must be positive; book it by hand (docs/RUNBOOK.md, 'Payout is a withdrawal')",
        )
    rows = without_transfers(transactions)
    check_net(payout, rows)
    missing = tuple(
        t.order_transaction_id or t.id
        for t in rows
        if t.type in RECEIPT_TYPES and (t.order_transaction_id is None or t.order_transaction_id not in receipts)
    )
    if missing and not past_lag:
        return Decision("wait", f"{len(missing)} receipt(s) not in NetSuite yet", missing=missing)
    plan = plan_deposit(payout, rows, receipts, accounts)
    reason = "every transaction matched" if not plan.variance else f"variance {plan.variance} after the lag"
    return Decision("post", reason, plan=plan, missing=plan.missing)


def check_net(payout: Payout, rows: Sequence[BalanceTransaction]) -> None:
    total = sum((t.net for t in rows), ZERO)
    if cents(total) != cents(payout.net):
        raise PayoutMismatch(f"payout {payout.id}: net {payout.net} but its transactions sum to {total}")


def plan_deposit(
    payout: Payout,
    rows: Sequence[BalanceTransaction],
    receipts: Mapping[str, Receipt],
    accounts: PayoutAccounts,
) -> DepositPlan:
    """The deposit's lines; the variance line closes any gap so the deposit equals the payout's net."""
    bank = accounts.banks.get(payout.currency)
    if bank is None:
        raise ValueError(f"no bank account configured for payout currency {payout.currency}")
    lines: list[DepositLine] = []
    missing: list[str] = []
    suspense: list[str] = []
    fees = ZERO
    for row in rows:
        if row.type in RECEIPT_TYPES:
            receipt = receipts.get(row.order_transaction_id or "")
            if receipt is None:
                missing.append(row.order_transaction_id or row.id)
            else:
                role = "charge" if row.type == "CHARGE" else "refund"
                lines.append(DepositLine("payment", receipt.amount, role, receipt_id=receipt.netsuite_id))
            if accounts.fees_per_transaction:
                lines.extend(_signed_lines(row.fee * -1, "fees", accounts.fees, f"fee {row.id}"))
            else:
                fees += row.fee
            continue
        role, account = _role(row.type, accounts)
        if role == "suspense":
            suspense.append(row.type)
        lines.extend(_signed_lines(row.net, role, account, f"{row.type} {row.id}"))
    lines.extend(_signed_lines(-fees, "fees", accounts.fees, "Shopify Payments fees"))
    variance = cents(payout.net) - cents(sum((_signed(line) for line in lines), ZERO))
    lines.extend(_signed_lines(variance, "variance", accounts.variance, f"variance, payout {payout.id}"))
    return DepositPlan(
        external_id=payout_external_id(payout.id),
        bank_account=bank,
        currency=payout.currency,
        lines=tuple(lines),
        variance=variance,
        missing=tuple(missing),
        suspense_types=tuple(dict.fromkeys(suspense)),
    )


def _role(kind: str, accounts: PayoutAccounts) -> tuple[str, str]:
    if kind in accounts.type_accounts:
        return kind.lower(), accounts.type_accounts[kind]
    role = DEFAULT_TYPE_ROLES.get(kind, "suspense")
    return role, getattr(accounts, role)


def _signed(line: DepositLine) -> Decimal:
    return -line.amount if line.sublist == "cashback" else line.amount


def _signed_lines(net: Decimal, role: str, account: str, memo: str) -> list[DepositLine]:
    """Money in → an `other` line, money out → a `cashback` line (NetSuite's cash back is a positive deduction)."""
    net = cents(net)
    if not net:
        return []
    sublist = "other" if net > 0 else "cashback"
    return [DepositLine(sublist, abs(net), role, account=account, memo=memo)]
