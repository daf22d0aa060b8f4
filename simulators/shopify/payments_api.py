"""The GraphQL views of Shopify Payments (`payments.py`): `shopifyPaymentsAccount { payouts balanceTransactions
disputes balance }`, `dispute(id)`, and the order transaction view `Order.transactions` uses.

Connections page by cursor over a sort key and the id (ties broken by id), forward (`first`/`after`) or backward
(`last`/`before`), `reverse` flipping the order. `query:` takes the search terms Shopify documents for each
connection (`field:value`, the comparators `:>`, `:>=`, `:<`, `:<=`, terms joined by spaces or AND): payouts
`status`, `issued_at`, `id`; balance transactions `payments_transfer_id` (the payout's legacy id: how Shopify links
a payout to its transactions), `payout_status`, `transaction_type`, `processed_at`, `id`; disputes `status`,
`initiated_at`, `id`. Any other term is ignored with a warning under `extensions.search`, as Shopify does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from simulators.shopify.graphql_api import _bounds, _connection, bad_request, decode_cursor, encode_cursor
from simulators.shopify.payments import SUMMARY_CATEGORIES, BalanceRow, PaymentsLedger, Payout
from simulators.shopify.store import gid, graphql_time, money_text, parse_gid, parse_time

ACCOUNT_ID = gid("ShopifyPaymentsAccount", 1)
SUMMARY_FIELDS = ("adjustments", "advance", "charges", "refunds", "reservedFunds", "retriedPayouts")
_TRANSFER_TERM = re.compile(r"(?:^|\s)payments_transfer_id:['\"]?(?P<id>\d+)['\"]?(?:\s|$)")
_TERM = re.compile(r"""^(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>"[^"]*"|'[^']*'|\S+)$""")


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": money_text(amount), "currencyCode": currency}


# search


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None:
        return False
    return {"": left == right, ">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _term_value(field: str, raw: str, dates: frozenset[str]) -> Any:
    value = raw.strip("'\"")
    if field in dates:
        parsed = parse_time(value if "T" in value else f"{value}T00:00:00Z")
        if parsed is None:
            raise bad_request(f"Invalid search query: {field}:{raw} is not a date")
        return parsed.astimezone(UTC)
    if field.endswith("id"):
        if not value.isdigit():
            raise bad_request(f"Invalid search query: {field}:{raw} is not an id")
        return int(value)
    return value.upper()


def search_filter(
    info: GraphQLResolveInfo,
    query: str | None,
    getters: dict[str, Callable[[Any], Any]],
    dates: frozenset[str],
) -> Callable[[Any], bool]:
    """A predicate for the AND of the query's terms; unknown fields are reported and ignored."""
    terms: list[tuple[Callable[[Any], Any], str, Any]] = []
    warnings = []
    for word in (query or "").split():
        if word.upper() == "AND":
            continue
        match = _TERM.match(word)
        if match is None or match["field"] not in getters:
            warnings.append(
                {"field": match["field"] if match else word, "message": "Invalid search field for this query."}
            )
            continue
        value = _term_value(match["field"], match["value"], dates)
        terms.append((getters[match["field"]], match["op"] or "", value))
    if warnings:
        info.context.search.append({"path": list(info.path.as_list()), "query": query, "warnings": warnings})
    return lambda item: all(_compare(op, get(item), value) for get, op, value in terms)


def keyed_connection(
    items: list[Any],
    key: Callable[[Any], tuple[Any, int]],
    view: Callable[[Any], dict[str, Any]],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    reverse: bool,
) -> dict[str, Any]:
    """A connection over `items` sorted by `key` (a sort value and the id); cursors carry the key, so a cursor
    stays valid while items are added (a new payout after the last one read is found from its cursor)."""
    if last is not None and before is None:
        raise bad_request("using last without before is not supported")

    def encoded(item: Any) -> list[Any]:
        value, item_id = key(item)
        return [value.isoformat() if isinstance(value, datetime) else value, item_id]

    ordered = sorted(items, key=lambda i: tuple(encoded(i)), reverse=reverse)
    keys = [tuple(encoded(i)) for i in ordered]

    def position(cursor: str, inclusive: bool) -> int:
        payload = decode_cursor(cursor).get("k")
        if not isinstance(payload, list) or len(payload) != 2:
            raise bad_request(f"Invalid cursor: {cursor!r}")
        mark = tuple(payload)
        for index, k in enumerate(keys):
            beyond = k < mark if reverse else k > mark
            if beyond or (inclusive and k == mark):
                return index
        return len(keys)

    start = position(after, False) if after is not None else 0
    end = position(before, True) if before is not None else len(ordered)
    start, end = _bounds(start, max(start, end), first, last)
    page = ordered[start:end]
    cursors = [encode_cursor({"k": list(k)}) for k in keys[start:end]]
    return _connection([view(i) for i in page], cursors, start, end, len(ordered))


# views


def payout_view(payout: Payout, rows: list[BalanceRow]) -> dict[str, Any]:
    currency = payout.currency
    totals = {name: [Decimal(0), Decimal(0)] for name in SUMMARY_FIELDS}
    for row in rows:
        if row.type == "TRANSFER":
            continue
        gross_fee = totals[SUMMARY_CATEGORIES.get(row.type, "adjustments")]
        gross_fee[0] += row.amount
        gross_fee[1] += row.fee
    summary = {}
    for name, (gross, fee) in totals.items():
        summary[f"{name}Gross" if name != "refunds" else "refundsFeeGross"] = _money(gross, currency)
        summary[f"{name}Fee" if name != "advance" else "advanceFees"] = _money(fee, currency)
    summary["usdcRebateCreditAmount"] = _money(Decimal(0), currency)
    net = _money(payout.net, currency)
    return {
        "id": gid("ShopifyPaymentsPayout", payout.id),
        "legacyResourceId": str(payout.id),
        "status": payout.status,
        "issuedAt": graphql_time(payout.issued_at.isoformat()),
        "net": net,
        "gross": net,
        "transactionType": "DEPOSIT" if payout.net >= 0 else "WITHDRAWAL",
        "externalTraceId": None,
        "summary": summary,
    }


def balance_view(row: BalanceRow, payouts: dict[int, Payout]) -> dict[str, Any]:
    payout = payouts.get(row.payout_id) if row.payout_id is not None else None
    return {
        "id": gid("ShopifyPaymentsBalanceTransaction", row.id),
        "type": row.type,
        "amount": _money(row.amount, row.currency),
        "fee": _money(row.fee, row.currency),
        "net": _money(row.net, row.currency),
        "sourceId": str(row.source_id) if row.source_id is not None else None,
        "sourceOrderTransactionId": (
            str(row.source_order_transaction_id) if row.source_order_transaction_id is not None else None
        ),
        "sourceType": row.source_type,
        "test": False,
        "transactionDate": graphql_time(row.date.isoformat()),
        "adjustmentReason": row.adjustment_reason,
        "associatedOrder": (
            {"id": gid("Order", row.order_id), "name": row.order_name or f"#{row.order_id}"}
            if row.order_id is not None
            else None
        ),
        "associatedPayout": {
            "id": gid("ShopifyPaymentsPayout", payout.id) if payout else None,
            "status": payout.status if payout else "PENDING",
        },
    }


def dispute_view(dispute: dict[str, Any], order_node: Callable[[int], dict[str, Any] | None]) -> dict[str, Any]:
    return {
        "id": dispute["admin_graphql_api_id"],
        "legacyResourceId": str(dispute["id"]),
        "amount": {"amount": dispute["amount"], "currencyCode": dispute["currency"]},
        "evidenceDueBy": graphql_time(dispute["evidence_due_by"]),
        "evidenceSentOn": graphql_time(dispute["evidence_sent_on"]),
        "finalizedOn": graphql_time(dispute["finalized_on"]),
        "initiatedAt": graphql_time(dispute["initiated_at"]),
        "order": lambda _info: order_node(dispute["order_id"]),
        "reasonDetails": {"reason": dispute["reason"].upper(), "networkReasonCode": dispute["network_reason_code"]},
        "status": dispute["status"].upper(),
        "type": dispute["type"].upper(),
    }


def transaction_view(
    rest: dict[str, Any],
    by_id: dict[int, dict[str, Any]],
    money: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """An order transaction (REST shape) as GraphQL's OrderTransaction; its parent from `by_id`."""
    kind = str(rest.get("kind") or "sale").upper()
    status = str(rest.get("status") or "success").upper()
    expires = parse_time(rest.get("authorization_expires_at"))
    open_auth = kind == "AUTHORIZATION" and status == "SUCCESS" and (expires is None or expires > datetime.now(UTC))
    parent = by_id.get(rest.get("parent_id")) if rest.get("parent_id") is not None else None
    return {
        "id": gid("OrderTransaction", rest["id"]),
        "kind": kind,
        "status": status,
        "gateway": rest.get("gateway"),
        "amountSet": money(rest),
        "createdAt": graphql_time(rest.get("created_at")),
        "processedAt": graphql_time(rest.get("processed_at")),
        "authorizationExpiresAt": graphql_time(rest.get("authorization_expires_at")),
        "parentTransaction": (lambda _info: transaction_view(parent, by_id, money)) if parent else None,
        "test": bool(rest.get("test")),
        "manuallyCapturable": open_auth,
        "multiCapturable": open_auth,
        "paymentId": rest.get("payment_id"),
        "order": None,
    }


def order_transactions(
    ledger: PaymentsLedger, order: dict[str, Any], money: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[..., list[dict[str, Any]]]:
    """The resolver of `Order.transactions(first, capturable, manuallyResolvable)`."""

    def resolve(_info: Any, first: int | None = None, capturable: bool | None = None, **_: Any) -> list[dict]:
        rests = ledger.transactions(order)
        by_id = {t["id"]: t for t in rests}
        views = [transaction_view(t, by_id, money) for t in rests]
        if capturable is not None:
            views = [v for v in views if v["manuallyCapturable"] == capturable]
        return views if first is None else views[: max(first, 0)]

    return resolve


# root


def payments_root(
    ledger: PaymentsLedger, currency: str, order_node: Callable[[int], dict[str, Any] | None]
) -> dict[str, Any]:
    """`shopifyPaymentsAccount` and `dispute(id)` over the ledger as it is now."""

    def payouts(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        with ledger._lock:  # noqa: SLF001 - one consistent reading of the ledger
            rows = list(ledger.rows)
            items = list(ledger.payouts.values())
        getters = {
            "status": lambda p: p.status,
            "issued_at": lambda p: p.issued_at,
            "id": lambda p: p.id,
        }
        keep = search_filter(info, args.get("query"), getters, frozenset({"issued_at"}))
        kind = args.get("transactionType")
        items = [p for p in items if keep(p) and (kind is None or (p.net >= 0) == (kind == "DEPOSIT"))]
        sort_key = args.get("sortKey") or "ISSUED_AT"
        by_payout: dict[int, list[BalanceRow]] = {}
        for row in rows:
            if row.payout_id is not None:
                by_payout.setdefault(row.payout_id, []).append(row)
        return keyed_connection(
            items,
            lambda p: (p.id if sort_key == "ID" else p.issued_at, p.id),
            lambda p: payout_view(p, by_payout.get(p.id, [])),
            **_paging(args),
        )

    def balance_transactions(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        with ledger._lock:  # noqa: SLF001
            rows = list(ledger.rows)
            known = dict(ledger.payouts)
        payout = _TRANSFER_TERM.search(args.get("query") or "")
        if payout is not None:  # the common read: one payout's rows (narrowed first, the filter still applies)
            rows = [r for r in rows if r.payout_id == int(payout["id"])]
        getters = {
            "payments_transfer_id": lambda r: r.payout_id,
            "payout_status": lambda r: known[r.payout_id].status if r.payout_id in known else "PENDING",
            "transaction_type": lambda r: r.type,
            "processed_at": lambda r: r.date,
            "id": lambda r: r.id,
        }
        keep = search_filter(info, args.get("query"), getters, frozenset({"processed_at"}))
        hide = bool(args.get("hideTransfers"))
        items = [r for r in rows if keep(r) and not (hide and r.type == "TRANSFER")]
        sort_key = args.get("sortKey") or "PROCESSED_AT"
        return keyed_connection(
            items,
            lambda r: (r.id if sort_key == "ID" else r.date, r.id),
            lambda r: balance_view(r, known),
            **_paging(args),
        )

    def disputes(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        with ledger._lock:  # noqa: SLF001
            items = [dict(d) for d in ledger.disputes.values()]
        getters = {
            "status": lambda d: d["status"].upper(),
            "initiated_at": lambda d: parse_time(d["initiated_at"]),
            "id": lambda d: d["id"],
        }
        keep = search_filter(info, args.get("query"), getters, frozenset({"initiated_at"}))
        return keyed_connection(
            [d for d in items if keep(d)],
            lambda d: (parse_time(d["initiated_at"]), d["id"]),
            lambda d: dispute_view(d, order_node),
            **_paging(args),
        )

    def balance() -> list[dict[str, str]]:
        with ledger._lock:  # noqa: SLF001
            pending = sum((r.net for r in ledger.rows if r.payout_id is None), Decimal(0))
        return [_money(pending, currency)]

    account = {
        "id": ACCOUNT_ID,
        "activated": True,
        "country": "US",
        "defaultCurrency": currency,
        "balance": lambda _info: balance(),
        "payouts": payouts,
        "balanceTransactions": balance_transactions,
        "disputes": disputes,
    }

    def dispute(_info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002 - GraphQL's name
        try:
            dispute_id = parse_gid(id, "ShopifyPaymentsDispute")
        except ValueError:
            raise bad_request(f"Invalid global id '{id}'") from None
        found = ledger.disputes.get(dispute_id) if dispute_id is not None else None
        return dispute_view(dict(found), order_node) if found is not None else None

    return {"shopifyPaymentsAccount": account, "dispute": dispute}


def _paging(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "first": args.get("first"),
        "after": args.get("after"),
        "last": args.get("last"),
        "before": args.get("before"),
        "reverse": bool(args.get("reverse")),
    }
