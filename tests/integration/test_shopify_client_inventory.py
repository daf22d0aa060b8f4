"""Inventory reads, keyed quantity pushes and webhook subscriptions, against a small scripted GraphQL server.

The server below is not the simulator (that is written elsewhere): it knows only the documents of
shopify_client.inventory / .subscriptions, dispatches on the operation name, and keeps just enough state
(levels, stored results per idempotency key) to show what the client does with Shopify's answers.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shopify_client import (
    QuantityChange,
    ShopifyAdminClient,
    ShopifyServerError,
    ShopifyUserError,
    Subscription,
    batched,
    create_subscription,
    idempotency_key,
    iter_inventory_items,
    iter_levels,
    iter_locations,
    list_subscriptions,
    read_levels,
    set_available,
    topic_from_enum,
    topic_to_enum,
    update_subscription,
)
from shopify_client import inventory as inventory_module
from shopify_client import subscriptions as subscriptions_module

TOKEN = "shpat_inventory_test_secret"
SERVER_NOW = dt.datetime(2026, 11, 23, 8, 0, 0, tzinfo=dt.UTC)
BIG = 2**53 + 1  # an id a float cannot hold


def item_gid(n: int) -> str:
    return f"gid://shopify/InventoryItem/{n}"


def location_gid(n: int) -> str:
    return f"gid://shopify/Location/{n}"


def parse_gid(value: str) -> int:
    return int(value.rsplit("/", 1)[1])


# --- the scripted server --------------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def cost_block() -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": 10,
            "actualQueryCost": 10,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0},
        }
    }


def ok(data: Any) -> Reply:
    return Reply(200, {"data": data, "extensions": cost_block()})


class FakeShop:
    """Items with levels, webhook subscriptions, and inventorySetQuantities with @idempotent semantics.

    `before` holds answers given before (instead of) handling a request, in order; a callable there sees the
    request and may return None to let it through. `after` does the same once a request was handled (the
    answer it returns replaces the real one: a lost response).
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        # item id -> (sku, {location id: [available, on_hand]})
        self.items: dict[int, tuple[str | None, dict[int, list[int]]]] = {}
        self.subscriptions: list[dict[str, Any]] = []
        self.keys: dict[str, tuple[str, dict[str, Any]]] = {}
        self.before: list[Reply | Callable[[dict[str, Any]], Reply | None]] = []
        self.after: list[Reply] = []
        self.subscriptions_page = 2
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"headers": dict(self.headers.items()), "json": json.loads(raw), "raw": raw}
                with fake._lock:
                    fake.requests.append(request)
                    reply = fake._answer(request)
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/admin/api/2026-04/graphql.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ops(self, name: str | None = None) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if name is None or r["json"].get("operationName") == name]

    # dispatch

    def _answer(self, request: dict[str, Any]) -> Reply:
        while self.before:
            step = self.before.pop(0)
            reply = step(request) if callable(step) else step
            if reply is not None:
                return reply
            break
        body = request["json"]
        handler = getattr(self, "_op_" + str(body.get("operationName")), None)
        reply = handler(body.get("variables") or {}, body["query"]) if handler else Reply(400, {"errors": "?"})
        if self.after:
            return self.after.pop(0)
        return reply

    @staticmethod
    def _page(entries: list[Any], first: int, after: str | None) -> tuple[list[Any], dict[str, Any]]:
        start = int(after.split(":")[1]) + 1 if after else 0
        chunk = entries[start : start + first]
        end = start + len(chunk) - 1
        return chunk, {"hasNextPage": start + first < len(entries), "endCursor": f"c:{end}" if chunk else after}

    def _level(self, item: int, location: int) -> dict[str, Any]:
        available, on_hand = self.items[item][1][location]
        return {
            "updatedAt": "2026-11-22T10:00:00Z",
            "location": {"id": location_gid(location)},
            "quantities": [{"name": "available", "quantity": available}, {"name": "on_hand", "quantity": on_hand}],
        }

    def _levels(self, item: int, first: int, after: str | None) -> dict[str, Any]:
        nodes, info = self._page(sorted(self.items[item][1]), first, after)
        return {"nodes": [self._level(item, loc) for loc in nodes], "pageInfo": info}

    def _op_InventoryLevels(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        ids, info = self._page(sorted(self.items), v["first"], v.get("after"))
        nodes = [
            {"id": item_gid(i), "sku": self.items[i][0], "inventoryLevels": self._levels(i, v["levelsFirst"], None)}
            for i in ids
        ]
        return ok({"inventoryItems": {"nodes": nodes, "pageInfo": info}})

    def _op_InventoryItemLevels(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        item = parse_gid(v["id"])
        if item not in self.items:
            return ok({"inventoryItem": None})
        return ok({"inventoryItem": {"inventoryLevels": self._levels(item, v["first"], v.get("after"))}})

    def _op_InventoryItems(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        ids, info = self._page(sorted(self.items), v["first"], v.get("after"))
        return ok(
            {"inventoryItems": {"nodes": [{"id": item_gid(i), "sku": self.items[i][0]} for i in ids], "pageInfo": info}}
        )

    def _op_Locations(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        locations = [(1, "Main", True), (2, "Closed", False), (BIG, "Warehouse", True)]
        shown = [loc for loc in locations if v["includeInactive"] or loc[2]]
        nodes, info = self._page(shown, v["first"], v.get("after"))
        return ok(
            {
                "locations": {
                    "nodes": [{"id": location_gid(i), "name": n, "isActive": a} for i, n, a in nodes],
                    "pageInfo": info,
                }
            }
        )

    def _op_InventoryLevelsAt(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        data: dict[str, Any] = {}
        for name, value in v.items():
            if "l" in name:
                continue
            item = parse_gid(value)
            if item not in self.items:
                data[name] = None
                continue
            levels: dict[str, Any] = {}
            j = 0
            while f"{name}l{j}" in v:
                location = parse_gid(v[f"{name}l{j}"])
                stocked = location in self.items[item][1]
                levels[f"l{j}"] = (
                    {"quantities": [{"name": "available", "quantity": self.items[item][1][location][0]}]}
                    if stocked
                    else None
                )
                j += 1
            data[name] = levels
        return ok(data)

    def _op_InventorySetAvailable(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        key = v["key"]
        fingerprint = json.dumps(v["input"], sort_keys=True)
        stored = self.keys.get(key)
        if stored is not None:
            if stored[0] != fingerprint:
                return ok({"inventorySetQuantities": user_errors(("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", None))})
            return ok({"inventorySetQuantities": stored[1]})
        errors = []
        for index, row in enumerate(v["input"]["quantities"]):
            assert "changeFromQuantity" in row  # 2026-04: explicit, null included
            level = self.items[parse_gid(row["inventoryItemId"])][1][parse_gid(row["locationId"])]
            if row["changeFromQuantity"] is not None and row["changeFromQuantity"] != level[0]:
                errors.append(("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", str(index), "changeFromQuantity"]))
        if errors:
            payload = user_errors(*errors)
        else:
            changes = []
            for row in v["input"]["quantities"]:
                level = self.items[parse_gid(row["inventoryItemId"])][1][parse_gid(row["locationId"])]
                delta = row["quantity"] - level[0]
                level[0] += delta
                level[1] += delta
                for name, after in (("available", level[0]), ("on_hand", level[1])):
                    changes.append(
                        {
                            "name": name,
                            "delta": delta,
                            "quantityAfterChange": after,
                            "item": {"id": row["inventoryItemId"]},
                            "location": {"id": row["locationId"]},
                        }
                    )
            payload = {
                "inventoryAdjustmentGroup": {
                    "id": f"gid://shopify/InventoryAdjustmentGroup/{len(self.keys) + 1}",
                    "createdAt": SERVER_NOW.isoformat().replace("+00:00", "Z"),
                    "reason": v["input"]["reason"],
                    "referenceDocumentUri": v["input"]["referenceDocumentUri"],
                    "changes": changes,
                },
                "userErrors": [],
            }
        self.keys[key] = (fingerprint, payload)
        return ok({"inventorySetQuantities": payload})

    def _subscription(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "apiVersion": {"handle": "2026-04"}}

    def _op_WebhookSubscriptions(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        shown = [s for s in self.subscriptions if not v.get("topics") or s["topic"] in v["topics"]]
        # A server may return fewer than `first`: this one pages in twos.
        nodes, info = self._page(shown, min(v["first"], self.subscriptions_page), v.get("after"))
        return ok({"webhookSubscriptions": {"nodes": [self._subscription(s) for s in nodes], "pageInfo": info}})

    def _op_WebhookSubscriptionCreate(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        if any(s["topic"] == v["topic"] and s["uri"] == v["subscription"]["uri"] for s in self.subscriptions):
            errors = [
                {"field": ["webhookSubscription", "uri"], "message": "Address for this topic has already been taken"}
            ]
            return ok({"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": errors}})
        entry = {
            "id": f"gid://shopify/WebhookSubscription/{900 + len(self.subscriptions)}",
            "topic": v["topic"],
            "uri": v["subscription"]["uri"],
            "format": v["subscription"].get("format") or "JSON",
        }
        self.subscriptions.append(entry)
        return ok({"webhookSubscriptionCreate": {"webhookSubscription": self._subscription(entry), "userErrors": []}})

    def _op_WebhookSubscriptionUpdate(self, v: dict[str, Any], query: str) -> Reply:  # noqa: N802
        entry = next((s for s in self.subscriptions if s["id"] == v["id"]), None)
        if entry is None:
            errors = [{"field": ["id"], "message": "Webhook subscription does not exist"}]
            return ok({"webhookSubscriptionUpdate": {"webhookSubscription": None, "userErrors": errors}})
        entry["uri"] = v["subscription"]["uri"]
        return ok({"webhookSubscriptionUpdate": {"webhookSubscription": self._subscription(entry), "userErrors": []}})


def user_errors(*errors: tuple[str, list[str] | None]) -> dict[str, Any]:
    return {
        "inventoryAdjustmentGroup": None,
        "userErrors": [{"code": code, "field": field, "message": code.lower()} for code, field in errors],
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def shop():
    fake = FakeShop()
    yield fake
    fake.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def client(shop, clock):
    with ShopifyAdminClient(
        url=shop.url,
        access_token=TOKEN,
        timeout=(1.0, 5.0),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(3),
    ) as c:
        yield c


def push(client, changes, key, clock, **kwargs):
    kwargs.setdefault("now", lambda: SERVER_NOW)
    return set_available(client, changes, idempotency_key=key, sleep=clock.sleep, **kwargs)


# --- reads ----------------------------------------------------------------------------------------------


def stock(shop: FakeShop) -> set[tuple[int, int]]:
    """Five items; item 3 at 13 locations (more than one read nests), item 4 at none, item BIG at one."""
    shop.items = {
        1: ("SKU-1", {1: [5, 6], 2: [0, 0]}),
        2: ("SKU-2", {1: [-2, 0]}),
        3: ("SKU-3", {loc: [loc, loc + 1] for loc in range(100, 113)}),
        4: (None, {}),
        BIG: ("SKU-BIG", {BIG: [7, 7]}),
    }
    return {(i, loc) for i, (_, levels) in shop.items.items() for loc in levels}


def test_iter_levels_pages_items_and_nested_levels_exactly_once(shop, client, monkeypatch):
    expected = stock(shop)
    monkeypatch.setattr(inventory_module, "NESTED_LEVELS_PAGE", 2)

    levels = list(iter_levels(client, page_size=2, levels_per_item=inventory_module.LEVELS_PER_ITEM))

    assert sorted((lv.inventory_item_id, lv.location_id) for lv in levels) == sorted(expected)
    assert len(levels) == len(expected)  # nothing twice
    by_pair = {(lv.inventory_item_id, lv.location_id): lv for lv in levels}
    assert by_pair[(1, 1)].available == 5 and by_pair[(1, 1)].on_hand == 6 and by_pair[(1, 1)].sku == "SKU-1"
    assert by_pair[(2, 1)].available == -2 and by_pair[(BIG, BIG)].sku == "SKU-BIG"
    assert by_pair[(3, 112)].updated_at == "2026-11-22T10:00:00Z"
    # Items in three pages (2 + 2 + 1), each after the previous page's cursor.
    pages = shop.ops("InventoryLevels")
    assert [p["variables"]["after"] for p in pages] == [None, "c:1", "c:3"]
    assert {p["variables"]["first"] for p in pages} == {2}
    assert {p["variables"]["levelsFirst"] for p in pages} == {inventory_module.LEVELS_PER_ITEM}
    # Item 3's last three levels (10 nested, 13 in all) in two pages of its own, from the nested cursor.
    nested = shop.ops("InventoryItemLevels")
    assert [(n["variables"]["id"], n["variables"]["after"]) for n in nested] == [
        (item_gid(3), "c:9"),
        (item_gid(3), "c:11"),
    ]
    # An item's levels come together, before the next item's.
    order = [lv.inventory_item_id for lv in levels]
    assert order == sorted(order)


def test_iter_levels_streams_and_filters_locations(shop, client):
    stock(shop)
    stream = iter_levels(client, page_size=2, location_ids=[1, BIG])
    assert shop.requests == []  # nothing is read before the first level is asked for
    first = next(stream)
    assert (first.inventory_item_id, first.location_id) == (1, 1)
    # The shop's location count (inactive ones included) sizes the nested levels, then the first page.
    assert [r["operationName"] for r in shop.ops()] == ["Locations", "InventoryLevels"]
    assert shop.ops("Locations")[0]["variables"]["includeInactive"] is True
    assert shop.ops("InventoryLevels")[0]["variables"]["levelsFirst"] == 3
    rest = list(stream)
    assert [(lv.inventory_item_id, lv.location_id) for lv in [first, *rest]] == [(1, 1), (2, 1), (BIG, BIG)]


def test_iter_levels_keeps_pages_under_the_cost_budget(shop, client):
    stock(shop)
    m = inventory_module
    list(iter_levels(client))  # page_size 250 asked: far too expensive with nested levels
    page = shop.ops("InventoryLevels")[0]["variables"]
    assert (page["first"], page["levelsFirst"]) == (66, 3)
    assert m.levels_page_cost(66, 3) <= m.LIST_PAGE_BUDGET < m.levels_page_cost(67, 3)
    # Capped: a shop with hundreds of locations does not pay for hundreds of level slots per item.
    assert m.levels_page_size(250, 1) == 133 and m.levels_page_size(250, m.LEVELS_PER_ITEM) == 24
    assert m.levels_page_size(5, 1) == 5
    with pytest.raises(ValueError):
        iter_levels(client, page_size=251)
    with pytest.raises(ValueError):
        iter_levels(client, levels_per_item=0)


def test_inventory_items_and_locations(shop, client):
    stock(shop)
    assert list(iter_inventory_items(client, page_size=2)) == [
        (1, "SKU-1"),
        (2, "SKU-2"),
        (3, "SKU-3"),
        (4, None),
        (BIG, "SKU-BIG"),
    ]
    assert [r["variables"]["after"] for r in shop.ops("InventoryItems")] == [None, "c:1", "c:3"]
    active = list(iter_locations(client))
    assert [(loc.id, loc.name, loc.is_active) for loc in active] == [(1, "Main", True), (BIG, "Warehouse", True)]
    assert [loc.id for loc in iter_locations(client, include_inactive=True)] == [1, 2, BIG]


def test_read_levels_batches_dedupes_and_omits_what_is_not_stocked(shop, client, monkeypatch):
    stock(shop)
    monkeypatch.setattr(inventory_module, "READ_LEVELS_BATCH", 3)
    pairs = [(1, 1), (1, 2), (1, 1), (2, 1), (3, 105), (4, 1), (999, 1), (BIG, BIG)]

    result = read_levels(client, pairs)

    assert result == {(1, 1): 5, (1, 2): 0, (2, 1): -2, (3, 105): 105, (BIG, BIG): 7}
    sent = shop.ops("InventoryLevelsAt")
    assert len(sent) == 3  # 7 distinct pairs, 3 a request
    assert sent[0]["variables"] == {
        "i0": item_gid(1),
        "i0l0": location_gid(1),
        "i0l1": location_gid(2),
        "i1": item_gid(2),
        "i1l0": location_gid(1),
    }
    assert read_levels(client, []) == {}
    with pytest.raises(ValueError):
        read_levels(client, [(1, 0)])


# --- writes ---------------------------------------------------------------------------------------------


def test_set_available_sends_the_directive_and_an_explicit_null_change_from(shop, client, clock):
    stock(shop)
    key = idempotency_key("reconcile", "2026-11-23", "SKU-1")
    changes = [QuantityChange(1, 1, 9, None), QuantityChange(1, 2, 4, 0)]

    result = push(client, changes, key, clock, reference_document_uri="shopsync://reconcile/2026-11-23")

    [sent] = shop.ops("InventorySetAvailable")
    assert "inventorySetQuantities(input: $input) @idempotent(key: $key)" in sent["query"]
    assert sent["variables"]["key"] == key
    assert sent["variables"]["input"] == {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "shopsync://reconcile/2026-11-23",
        "quantities": [
            {"inventoryItemId": item_gid(1), "locationId": location_gid(1), "quantity": 9, "changeFromQuantity": None},
            {"inventoryItemId": item_gid(1), "locationId": location_gid(2), "quantity": 4, "changeFromQuantity": 0},
        ],
    }
    # On the wire, not only after decoding: the key is there with a JSON null.
    assert b'"changeFromQuantity":null' in shop.requests[0]["raw"]
    assert result.applied and not result.replayed and result.stale == [] and result.user_errors == ()
    assert result.adjustment_group_id == "gid://shopify/InventoryAdjustmentGroup/1"
    available = [
        (c.inventory_item_id, c.location_id, c.delta, c.quantity_after_change)
        for c in result.changes
        if c.name == "available"
    ]
    assert available == [(1, 1, 4, 9), (1, 2, 4, 4)]
    assert shop.items[1][1] == {1: [9, 10], 2: [4, 4]}
    assert TOKEN not in repr(result)


def test_the_same_key_gets_the_original_result_as_the_server_says(shop, client, clock):
    stock(shop)
    changes = [QuantityChange(1, 1, 9, 5)]
    key = idempotency_key("push", "cycle-1", 1, 1, 9)

    first = push(client, changes, key, clock)
    shop.items[1][1][1] = [7, 8]  # a sale since: a real second compare-and-swap from 5 would now be stale
    again = push(client, changes, key, clock)

    assert first.applied and again.applied and again.changes == first.changes
    assert again.adjustment_group_id == first.adjustment_group_id
    assert not again.replayed  # answered within seconds: indistinguishable from a fresh answer
    assert shop.items[1][1][1] == [7, 8]  # not applied twice

    # The same answer read a day later is known to be a replay (its group predates the call).
    later = push(client, changes, key, clock, now=lambda: SERVER_NOW + dt.timedelta(days=1))
    assert later.applied and later.replayed

    # A key whose first answer was "stale" keeps answering "stale": the retry must take a new key.
    stale_key = idempotency_key("push", "cycle-1", 1, 1, 3)
    assert push(client, [QuantityChange(1, 1, 3, 5)], stale_key, clock).stale
    shop.items[1][1][1] = [5, 6]
    replayed_stale = push(client, [QuantityChange(1, 1, 3, 5)], stale_key, clock)
    assert not replayed_stale.applied and replayed_stale.stale == [QuantityChange(1, 1, 3, 5)]
    assert shop.items[1][1][1] == [5, 6]


def test_stale_quantities_are_returned_then_reread_and_sent_under_a_new_key(shop, client, clock):
    stock(shop)
    changes = [QuantityChange(1, 1, 9, 5), QuantityChange(1, 2, 3, 1), QuantityChange(2, 1, 0, None)]

    result = push(client, changes, idempotency_key("c1", "batch-1"), clock)

    assert not result.applied and result.changes == []
    assert result.stale == [QuantityChange(1, 2, 3, 1)]
    assert [e.code for e in result.user_errors] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert result.remaining == changes  # nothing of the batch landed
    assert shop.items[1][1][1] == [5, 6]

    fresh = read_levels(client, [(c.inventory_item_id, c.location_id) for c in result.stale])
    retry = [
        QuantityChange(c.inventory_item_id, c.location_id, c.quantity, fresh[(c.inventory_item_id, c.location_id)])
        if c in result.stale
        else c
        for c in changes
    ]
    done = push(client, retry, idempotency_key("c1", "batch-1", "after-stale", fresh[(1, 2)]), clock)
    assert done.applied and done.stale == []
    assert {loc: lv[0] for loc, lv in shop.items[1][1].items()} == {1: 9, 2: 3}


def test_the_same_key_with_other_quantities_is_a_caller_bug(shop, client, clock):
    stock(shop)
    key = idempotency_key("c1", "batch-1")
    push(client, [QuantityChange(1, 1, 9, None)], key, clock)

    with pytest.raises(ShopifyUserError) as caught:
        push(client, [QuantityChange(1, 1, 10, None)], key, clock)

    assert caught.value.code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert not caught.value.retryable
    assert len(shop.ops("InventorySetAvailable")) == 2  # not retried


def test_a_concurrent_request_is_waited_out_and_sent_again_with_the_same_key(shop, client, clock):
    stock(shop)
    busy_user_error = ok({"inventorySetQuantities": user_errors(("IDEMPOTENCY_CONCURRENT_REQUEST", None))})
    busy_top_level = Reply(
        200,
        {
            "errors": [{"message": "in progress", "extensions": {"code": "IDEMPOTENCY_CONCURRENT_REQUEST"}}],
            "extensions": cost_block(),
        },
    )
    shop.before = [busy_user_error, busy_top_level]
    key = idempotency_key("c1", "batch-1")

    result = push(client, [QuantityChange(1, 1, 9, 5)], key, clock)

    assert result.applied
    sent = shop.ops("InventorySetAvailable")
    assert len(sent) == 3 and {s["variables"]["key"] for s in sent} == {key}
    assert len({json.dumps(s["variables"], sort_keys=True) for s in sent}) == 1
    assert clock.sleeps == [1.0, 2.0]


def test_a_request_still_in_progress_after_the_waits_is_a_retryable_error(shop, client, clock):
    stock(shop)
    busy = ok({"inventorySetQuantities": user_errors(("IDEMPOTENCY_CONCURRENT_REQUEST", None))})
    shop.before = [busy, busy, busy]

    with pytest.raises(ShopifyUserError) as caught:
        push(client, [QuantityChange(1, 1, 9, 5)], idempotency_key("k"), clock, concurrent_retries=2)

    assert caught.value.code == "IDEMPOTENCY_CONCURRENT_REQUEST" and caught.value.retryable
    assert len(shop.ops("InventorySetAvailable")) == 3


def test_a_5xx_on_the_keyed_mutation_is_retried_with_the_same_key(shop, client, clock):
    stock(shop)
    # First attempt: refused by a 503 before anything ran. Second: applied, but the answer is lost (502).
    # Third: Shopify answers from the key, so the compare-and-swap from 5 is not judged stale against 9.
    shop.before = [Reply(503, {"errors": "Service Unavailable"}), lambda request: None]
    shop.after = [Reply(502, {"errors": "Bad Gateway"})]
    key = idempotency_key("c1", "batch-1")

    result = push(client, [QuantityChange(1, 1, 9, 5)], key, clock)

    assert result.applied and result.stale == []
    sent = shop.ops("InventorySetAvailable")
    assert len(sent) == 3 and {s["variables"]["key"] for s in sent} == {key}
    assert shop.items[1][1][1] == [9, 10]
    assert len(clock.sleeps) == 2  # the client's backoff between attempts


def test_other_user_errors_are_not_retryable(shop, client, clock):
    stock(shop)
    shop.before = [ok({"inventorySetQuantities": user_errors(("INVALID_LOCATION", ["input", "quantities", "0"]))})]
    with pytest.raises(ShopifyUserError) as caught:
        push(client, [QuantityChange(1, 1, 9, 5)], idempotency_key("k"), clock)
    assert caught.value.code == "INVALID_LOCATION" and not caught.value.retryable


def test_set_available_refuses_what_is_not_one_batch(client, clock):
    def change(n: int) -> QuantityChange:
        return QuantityChange(n + 1, 1, 1, None)

    with pytest.raises(ValueError, match="at most 250"):
        push(client, [change(n) for n in range(251)], "k", clock)
    with pytest.raises(ValueError):
        push(client, [], "k", clock)
    with pytest.raises(ValueError, match="twice"):
        push(client, [change(1), change(1)], "k", clock)
    with pytest.raises(ValueError):
        push(client, [change(1)], "", clock)
    with pytest.raises(ValueError):
        push(client, [QuantityChange(1, 1, True, None)], "k", clock)

    batches = list(batched((change(n) for n in range(501)), 250))
    assert [len(b) for b in batches] == [250, 250, 1]
    assert [c for b in batches for c in b] == [change(n) for n in range(501)]


def test_idempotency_key_is_derived_from_the_operation_only():
    day = dt.date(2026, 11, 23)
    key = idempotency_key("reconcile", day, "SKU-1", 101, 7)
    assert key == idempotency_key("reconcile", day, "SKU-1", 101, 7)
    assert uuid.UUID(key).version == 5
    assert key != idempotency_key("reconcile", day, "SKU-1", 101, 8)  # another target
    assert key != idempotency_key("reconcile", day, "SKU-1", 102, 7)  # another location
    assert key != idempotency_key("reconcile", dt.date(2026, 11, 24), "SKU-1", 101, 7)
    assert idempotency_key("a|b") != idempotency_key("a", "b")
    assert idempotency_key(1) != idempotency_key("1")
    assert idempotency_key(decimal.Decimal("1.50")) == idempotency_key(decimal.Decimal("1.5"))
    # Pinned: a change to the derivation would make every push retried across it look new to Shopify.
    assert idempotency_key("reconcile", "2026-11-23", "SKU-1", 101, 7) == "06cab707-8182-5dbb-a6f0-134e60cf0bef"
    with pytest.raises(TypeError):
        idempotency_key("x", 1.5)
    with pytest.raises(ValueError):
        idempotency_key()


# --- webhook subscriptions ------------------------------------------------------------------------------


def test_topic_names_convert_both_ways():
    assert topic_to_enum("orders/create") == "ORDERS_CREATE"
    assert topic_to_enum("inventory_levels/update") == "INVENTORY_LEVELS_UPDATE"
    for topic in subscriptions_module.KNOWN_TOPICS:
        assert topic_from_enum(topic_to_enum(topic)) == topic
    assert topic_from_enum("INVENTORY_LEVELS_UPDATE") == "inventory_levels/update"
    assert topic_from_enum("ORDERS_PARTIALLY_FULFILLED") == "orders/partially_fulfilled"
    assert topic_from_enum("SELLING_PLAN_GROUPS_CREATE") == "selling/plan_groups_create"  # unknown: a guess
    for bad in ("ORDERS_CREATE", "orders", "orders/create/x", ""):
        with pytest.raises(ValueError):
            topic_to_enum(bad)
    with pytest.raises(ValueError):
        topic_from_enum("orders/create")


def test_subscriptions_list_create_update(shop, client):
    created = create_subscription(client, "orders/create", "https://sync.example/webhooks/shopify")
    assert created == Subscription(900, "orders/create", "https://sync.example/webhooks/shopify", "json", "2026-04")
    [sent] = shop.ops("WebhookSubscriptionCreate")
    assert sent["variables"] == {
        "topic": "ORDERS_CREATE",
        "subscription": {"uri": "https://sync.example/webhooks/shopify", "format": "JSON"},
    }
    for topic in ("orders/updated", "inventory_levels/update", "refunds/create"):
        create_subscription(client, topic, "https://sync.example/webhooks/shopify")

    listed = list_subscriptions(client)
    assert [s.topic for s in listed] == ["orders/create", "orders/updated", "inventory_levels/update", "refunds/create"]
    assert [r["variables"]["after"] for r in shop.ops("WebhookSubscriptions")] == [None, "c:1"]
    only = list_subscriptions(client, topics=["inventory_levels/update"])
    assert [s.id for s in only] == [902]
    assert shop.ops("WebhookSubscriptions")[-1]["variables"]["topics"] == ["INVENTORY_LEVELS_UPDATE"]

    moved = update_subscription(client, 902, "https://new.example/hooks")
    assert moved.uri == "https://new.example/hooks" and moved.topic == "inventory_levels/update"
    assert shop.ops("WebhookSubscriptionUpdate")[0]["variables"]["id"] == "gid://shopify/WebhookSubscription/902"
    assert update_subscription(client, "gid://shopify/WebhookSubscription/902", "https://x.example/h").id == 902

    with pytest.raises(ShopifyUserError, match="already been taken"):
        create_subscription(client, "orders/create", "https://sync.example/webhooks/shopify")
    with pytest.raises(ShopifyUserError, match="does not exist"):
        update_subscription(client, 12345, "https://x.example/h")


def test_subscription_create_is_not_resent_after_an_ambiguous_failure(shop, client):
    # No @idempotent on it: a 5xx may hide a subscription that was created, so the client must not resend.
    shop.before = [Reply(502, {"errors": "Bad Gateway"})]
    with pytest.raises(ShopifyServerError):
        create_subscription(client, "orders/create", "https://sync.example/webhooks/shopify")
    assert len(shop.ops("WebhookSubscriptionCreate")) == 1


# --- the documents against the contract -----------------------------------------------------------------


def test_documents_validate_against_the_schema_and_cost_what_the_client_expects():
    graphql = pytest.importorskip("graphql")
    cost = pytest.importorskip("simulators.shopify.cost")
    sdl = Path(__file__).resolve().parents[2] / "simulators" / "shopify" / "schema.graphql"
    schema = graphql.build_schema(sdl.read_text())

    def requested(document: str, variables: dict[str, Any]) -> int:
        parsed = graphql.parse(document)
        assert graphql.validate(schema, parsed) == []
        [operation] = [d for d in parsed.definitions if isinstance(d, graphql.OperationDefinitionNode)]
        result = cost.requested_cost(schema, parsed, operation, variables)
        assert result.errors == []
        return result.requested

    m, s = inventory_module, subscriptions_module
    page = m.levels_page_size(250, m.LEVELS_PER_ITEM)
    cases = [
        (m.INVENTORY_LEVELS_QUERY, {"first": page, "levelsFirst": m.LEVELS_PER_ITEM}, m.levels_page_cost(page, 10)),
        (m.INVENTORY_ITEM_LEVELS_QUERY, {"id": "x", "first": m.NESTED_LEVELS_PAGE}, m.item_levels_page_cost(250)),
        (m.INVENTORY_ITEMS_QUERY, {"first": 250}, m.items_page_cost(250)),
        (m.LOCATIONS_QUERY, {"first": 250, "includeInactive": True}, m.locations_page_cost(250)),
        (m.read_levels_document([1] * 250), {}, m.read_levels_cost(250, 250)),
        (m.read_levels_document([3, 1, 2]), {}, m.read_levels_cost(3, 6)),
        (m.SET_AVAILABLE_MUTATION, {}, m.SET_AVAILABLE_COST),
        (s.SUBSCRIPTIONS_QUERY, {"first": s.SUBSCRIPTIONS_PAGE}, s.subscriptions_page_cost(s.SUBSCRIPTIONS_PAGE)),
        (s.SUBSCRIPTION_CREATE_MUTATION, {}, s.MUTATION_COST),
        (s.SUBSCRIPTION_UPDATE_MUTATION, {}, s.MUTATION_COST),
    ]
    for document, variables, expected in cases:
        assert requested(document, variables) == expected
        assert expected <= m.MAX_QUERY_COST
    assert m.levels_page_cost(page, m.LEVELS_PER_ITEM) <= m.LIST_PAGE_BUDGET
