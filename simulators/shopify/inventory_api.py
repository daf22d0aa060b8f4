"""The inventory and webhook-subscription part of the Admin GraphQL schema: views over `inventory.py` and
`subscriptions.py`, and the root fields (queries and mutations) the server merges with the orders' ones.

Choices a client must match (see also the module docs of inventory.py):

- `inventorySetQuantities` / `inventoryAdjustQuantities` without `@idempotent(key:)` on the field (or with a
  blank key): a GraphQL error on the field (`errors[].extensions.code` IDEMPOTENCY_KEY_REQUIRED, the field is
  null), nothing applied. Shopify documents only that this "results in an error at runtime"; the code is ours.
- Same key, same arguments of the mutation field (canonical JSON), after the first call finished: the first
  call's payload again, nothing applied. Same key, other arguments: user error
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH. Same key and arguments while the first call still runs: user error
  IDEMPOTENCY_CONCURRENT_REQUEST. Both have `field: null`. A call that ended in user errors (stale, unknown
  item...) is recorded like a success, so its key replays those errors: retry with a new key.
- Connections page by id (`first` required, at most 250), cursors are opaque.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from graphql.execution.values import get_directive_values

from simulators.shopify.graphql_api import bad_request, decode_cursor, encode_cursor
from simulators.shopify.inventory import (
    OTHER_QUANTITY_NAMES,
    QUANTITY_NAMES,
    AdjustmentGroup,
    Change,
    IdempotencyRegistry,
    InventoryStore,
    Item,
    Level,
    Location,
    MutationResult,
    Row,
    page_after,
)
from simulators.shopify.search import SearchSyntaxError, compare, date_term, parse_field_search
from simulators.shopify.store import gid, parse_gid
from simulators.shopify.subscriptions import Subscription, SubscriptionStore

IDEMPOTENT_MUTATIONS = frozenset({"inventorySetQuantities", "inventoryAdjustQuantities"})

_SKU_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s()"'*]+)"""
_SKU_ONLY = re.compile(rf"^\s*sku:{_SKU_VALUE}(?:\s+OR\s+sku:{_SKU_VALUE})*\s*$")
_SKU_TERMS = re.compile(rf"sku:({_SKU_VALUE})")


def time_text(at: float) -> str:
    """Shopify's DateTime from epoch seconds: UTC, whole seconds, `Z`."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    last_id = decode_cursor(cursor).get("last_id")
    if not isinstance(last_id, int):
        raise bad_request(f"Invalid cursor: {cursor!r}")
    return last_id


def id_connection(
    ids: list[int], first: int | None, after: str | None, accept: Callable[[int], Any | None]
) -> dict[str, Any]:
    """A page of an ascending id list: `accept` turns an id into its node, or None to skip it."""
    start = page_after(ids, _cursor_id(after))
    size = max(first or 0, 0)
    nodes: list[Any] = []
    cursors: list[str] = []
    position = start
    while position < len(ids) and len(nodes) < size:
        node = accept(ids[position])
        if node is not None:
            nodes.append(node)
            cursors.append(encode_cursor({"last_id": ids[position]}))
        position += 1
    # Look for one more match, so that a filtered last page does not promise another one.
    has_next = False
    while position < len(ids):
        if accept(ids[position]) is not None:
            has_next = True
            break
        position += 1
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def _gid_or_none(value: Any, kind: str) -> int | None:
    try:
        return parse_gid(value, kind)
    except ValueError:
        return None


def quantity_of(level: Level, name: str) -> int:
    if name == "available":
        return level.available
    if name == "on_hand":
        return level.on_hand
    if name == "committed":
        return level.on_hand - level.available
    return 0


class InventoryViews:
    """GraphQL views of locations, items and levels. A level's quantities are read once, when its view is
    built, so one response never mixes two states of a level."""

    def __init__(self, store: InventoryStore) -> None:
        self.store = store

    def location(self, location: Location) -> dict[str, Any]:
        lid = location.id
        return {
            "id": gid("Location", lid),
            "legacyResourceId": str(lid),
            "name": location.name,
            "isActive": location.active,
            "inventoryLevels": lambda _info, first=None, after=None: self.location_levels(lid, first, after),
            "inventoryLevel": lambda _info, inventoryItemId: self._location_level(lid, inventoryItemId),
        }

    def location_by_id(self, location_id: int) -> dict[str, Any] | None:
        location = self.store.locations.get(location_id)
        return self.location(location) if location is not None else None

    def item(self, item: Item) -> dict[str, Any]:
        return {
            "id": gid("InventoryItem", item.id),
            "legacyResourceId": str(item.id),
            "sku": item.sku,
            "tracked": item.tracked,
            "createdAt": time_text(item.created_at),
            "updatedAt": time_text(item.updated_at),
            "inventoryLevels": lambda _info, first=None, after=None: self.item_levels(item, first, after),
            "inventoryLevel": lambda _info, locationId: self._item_level(item, locationId),
        }

    def item_by_id(self, item_id: int) -> dict[str, Any] | None:
        item = self.store.items.get(item_id)
        return self.item(item) if item is not None else None

    def level(self, item: Item, location_id: int, level: Level) -> dict[str, Any]:
        def quantities(_info: GraphQLResolveInfo, names: list[str]) -> list[dict[str, Any]]:
            unknown = [n for n in names if n not in QUANTITY_NAMES and n not in OTHER_QUANTITY_NAMES]
            if unknown:
                raise bad_request(
                    f"Invalid quantity names {unknown}; valid: {sorted({*QUANTITY_NAMES, *OTHER_QUANTITY_NAMES})}"
                )
            stamp = time_text(level.updated_at)
            return [{"name": n, "quantity": quantity_of(level, n), "updatedAt": stamp} for n in names]

        return {
            "id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item.id}",
            "item": lambda _info: self.item(item),
            "location": lambda _info: self.location_by_id(location_id),
            "quantities": quantities,
            "updatedAt": time_text(level.updated_at),
        }

    def item_levels(self, item: Item, first: int | None, after: str | None) -> dict[str, Any]:
        levels = dict(item.levels)

        def accept(location_id: int) -> dict[str, Any] | None:
            level = levels.get(location_id)
            return self.level(item, location_id, level) if level is not None else None

        return id_connection(sorted(levels), first, after, accept)

    def location_levels(self, location_id: int, first: int | None, after: str | None) -> dict[str, Any]:
        items = self.store.items

        def accept(item_id: int) -> dict[str, Any] | None:
            item = items.get(item_id)
            level = item.levels.get(location_id) if item is not None else None
            return self.level(item, location_id, level) if item is not None and level is not None else None

        return id_connection(self.store.stocked_item_ids(location_id), first, after, accept)

    def _item_level(self, item: Item, location_gid: str) -> dict[str, Any] | None:
        location_id = _gid_or_none(location_gid, "Location")
        level = item.levels.get(location_id) if location_id is not None else None
        return self.level(item, location_id, level) if level is not None and location_id is not None else None

    def _location_level(self, location_id: int, item_gid: str) -> dict[str, Any] | None:
        item_id = _gid_or_none(item_gid, "InventoryItem")
        item = self.store.items.get(item_id) if item_id is not None else None
        level = item.levels.get(location_id) if item is not None else None
        return self.level(item, location_id, level) if item is not None and level is not None else None

    def change(self, change: Change) -> dict[str, Any]:
        return {
            "name": change.name,
            "delta": change.delta,
            "quantityAfterChange": change.quantity_after,
            "item": lambda _info: self.item_by_id(change.item_id),
            "location": lambda _info: self.location_by_id(change.location_id),
        }

    def group(self, group: AdjustmentGroup) -> dict[str, Any]:
        def changes(
            _info: GraphQLResolveInfo,
            inventoryItemIds: list[str] | None = None,  # noqa: N803 - GraphQL's name
            locationIds: list[str] | None = None,  # noqa: N803 - GraphQL's name
            quantityNames: list[str] | None = None,  # noqa: N803 - GraphQL's name
        ) -> list[dict[str, Any]]:
            items = {_gid_or_none(v, "InventoryItem") for v in inventoryItemIds} if inventoryItemIds else None
            locations = {_gid_or_none(v, "Location") for v in locationIds} if locationIds else None
            return [
                self.change(c)
                for c in group.changes
                if (items is None or c.item_id in items)
                and (locations is None or c.location_id in locations)
                and (quantityNames is None or c.name in quantityNames)
            ]

        return {
            "id": gid("InventoryAdjustmentGroup", group.id),
            "createdAt": time_text(group.created_at),
            "reason": group.reason,
            "referenceDocumentUri": group.reference_document_uri,
            "changes": changes,
        }

    def payload(self, result: MutationResult) -> dict[str, Any]:
        return {
            "inventoryAdjustmentGroup": self.group(result.group) if result.group is not None else None,
            "userErrors": [{"code": e.code, "field": e.field, "message": e.message} for e in result.errors],
        }


# inventoryItems(query:)


def _sku_term(comparator: str, value: str, _warnings: list[dict[str, str]]) -> Callable[[Item], bool]:
    if value.endswith("*"):
        prefix = value[:-1]
        return lambda item: item.sku is not None and item.sku.startswith(prefix)
    return lambda item: item.sku == value


def _id_term(comparator: str, value: str, _warnings: list[dict[str, str]]) -> Callable[[Item], bool]:
    raw = value.rsplit("/", 1)[-1]
    if not raw.isdigit():
        raise SearchSyntaxError(f"id filter needs a number, got {value!r}")
    bound = int(raw)
    return lambda item: compare(item.id, comparator, bound)


def _tracked_term(comparator: str, value: str, _warnings: list[dict[str, str]]) -> Callable[[Item], bool]:
    wanted = value.lower() == "true"
    return lambda item: item.tracked == wanted


def _free_text(value: str) -> Callable[[Item], bool]:
    needle = value.lower()
    if needle in ("", "*"):
        return lambda _item: True
    return lambda item: item.sku is not None and needle in item.sku.lower()


ITEM_FIELDS = {
    "sku": _sku_term,
    "id": _id_term,
    "tracked": _tracked_term,
    # An item's updated_at moves with its levels too, so `updated_at:>` finds changed stock (simulator choice).
    "updated_at": date_term("updated_at", lambda item: datetime.fromtimestamp(item.updated_at, UTC)),
    "created_at": date_term("created_at", lambda item: datetime.fromtimestamp(item.created_at, UTC)),
}


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def _sku_lookup(query: str | None) -> list[str] | None:
    """The SKUs of a query made only of `sku:X` terms joined by OR (answered from the index), else None."""
    if query is None or not _SKU_ONLY.match(query):
        return None
    return [_unquote(v) for v in _SKU_TERMS.findall(query)]


# root fields


@dataclass
class InventoryContext:
    store: InventoryStore
    keys: IdempotencyRegistry
    subscriptions: SubscriptionStore
    # stats counter: (name, amount)
    count: Callable[[str, int], None]
    # seconds a new idempotent mutation holds its key before it applies (IDEMPOTENCY_CONCURRENT_REQUEST tests)
    mutation_latency: Callable[[], float]


def _idempotency_key(info: GraphQLResolveInfo) -> str | None:
    directive = info.schema.get_directive("idempotent")
    if directive is None:
        return None
    for node in info.field_nodes:
        values = get_directive_values(directive, node, info.variable_values)
        if values is not None:
            return values.get("key")
    return None


def _fingerprint(field_name: str, arguments: dict[str, Any]) -> str:
    return json.dumps({"field": field_name, "arguments": arguments}, sort_keys=True, separators=(",", ":"), default=str)


def _user_error_payload(code: str, message: str) -> dict[str, Any]:
    return {"inventoryAdjustmentGroup": None, "userErrors": [{"code": code, "field": None, "message": message}]}


def _subscription_view(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": gid("WebhookSubscription", subscription.id),
        "topic": subscription.topic,
        "uri": subscription.uri,
        "format": subscription.format,
        "apiVersion": {"handle": subscription.api_version},
        "createdAt": time_text(subscription.created_at),
        "updatedAt": time_text(subscription.updated_at),
    }


def _subscription_payload(subscription: Subscription | None, errors: list[Any]) -> dict[str, Any]:
    return {
        "webhookSubscription": _subscription_view(subscription) if subscription is not None else None,
        "userErrors": [{"field": e.field, "message": e.message} for e in errors],
    }


def inventory_root(ctx: InventoryContext) -> dict[str, Any]:
    """Root fields (queries and mutations) of inventory and webhook subscriptions."""
    store = ctx.store
    views = InventoryViews(store)

    def locations(
        _info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        includeInactive: bool | None = None,  # noqa: N803 - GraphQL's name
    ) -> dict[str, Any]:
        by_id = {loc.id: loc for loc in store.sorted_locations() if loc.active or includeInactive}
        return id_connection(sorted(by_id), first, after, lambda lid: views.location(by_id[lid]))

    def inventory_items(
        info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, query: str | None = None
    ) -> dict[str, Any]:
        items = store.items
        skus = _sku_lookup(query)
        if skus is not None:
            ids = sorted({iid for sku in skus for iid in store.item_ids_for_sku(sku)})
            return id_connection(ids, first, after, views.item_by_id)
        try:
            parsed = parse_field_search(query, ITEM_FIELDS, _free_text)
        except SearchSyntaxError as exc:
            raise bad_request(f"Invalid search query: {exc}") from None
        if parsed.warnings:
            info.context.search.append({"path": list(info.path.as_list()), "query": query, "warnings": parsed.warnings})
        predicate = parsed.predicate

        def accept(item_id: int) -> dict[str, Any] | None:
            item = items.get(item_id)
            return views.item(item) if item is not None and predicate(item) else None

        return id_connection(store.sorted_item_ids(), first, after, accept)

    def inventory_item(_info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002 - GraphQL's name
        try:
            item_id = parse_gid(id, "InventoryItem")
        except ValueError:
            raise GraphQLError(
                f"Invalid global id '{id}'", extensions={"code": "argumentLiteralsIncompatible"}
            ) from None
        return views.item_by_id(item_id) if item_id is not None else None

    def idempotent(info: GraphQLResolveInfo, arguments: dict[str, Any], run: Callable[[], MutationResult]) -> Any:
        field_name = info.field_name
        key = _idempotency_key(info)
        if key is None or not key.strip():
            what = "a non-blank key" if key is not None else "the @idempotent directive"
            raise GraphQLError(
                f'The {field_name} mutation requires {what}: add @idempotent(key: "<unique key>") to the field '
                "(mandatory from API version 2026-04).",
                extensions={"code": "IDEMPOTENCY_KEY_REQUIRED"},
            )
        claim = ctx.keys.claim(key, _fingerprint(field_name, arguments))
        if claim.outcome == "replay":
            ctx.count("idempotent_replays", 1)
            return claim.result
        if claim.outcome == "mismatch":
            return _user_error_payload(
                "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                "The same idempotency key cannot be used with different operation parameters.",
            )
        if claim.outcome == "concurrent":
            return _user_error_payload(
                "IDEMPOTENCY_CONCURRENT_REQUEST", "This request is currently in progress, please try again."
            )
        try:
            latency = ctx.mutation_latency()
            if latency > 0:
                time.sleep(latency)
            result = run()
        except BaseException:
            ctx.keys.abandon(key)
            raise
        if result.group is not None:
            # One change per (item, location) row; the group lists two (the name and the one moved with it).
            ctx.count("inventory_changes", len(result.group.changes) // 2)
        if result.stale:
            ctx.count("stale_rejections", 1)
        payload = views.payload(result)
        ctx.keys.finish(key, payload)
        return payload

    def inventory_set_quantities(info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:  # noqa: A002
        rows = [
            Row(
                index,
                q["inventoryItemId"],
                q["locationId"],
                q["quantity"],
                (q["changeFromQuantity"],) if "changeFromQuantity" in q else None,
            )
            for index, q in enumerate(input["quantities"])
        ]
        return idempotent(
            info,
            {"input": input},
            lambda: store.apply(
                "set", input["name"], input["reason"], input.get("referenceDocumentUri"), rows, "quantities"
            ),
        )

    def inventory_adjust_quantities(info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:  # noqa: A002
        # Here changeFromQuantity stays optional: absent or null means no compare.
        rows = [
            Row(index, c["inventoryItemId"], c["locationId"], c["delta"], (c.get("changeFromQuantity"),))
            for index, c in enumerate(input["changes"])
        ]
        return idempotent(
            info,
            {"input": input},
            lambda: store.apply(
                "adjust", input["name"], input["reason"], input.get("referenceDocumentUri"), rows, "changes"
            ),
        )

    def webhook_subscriptions(
        _info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, topics: list[str] | None = None
    ) -> dict[str, Any]:
        by_id = {s.id: s for s in ctx.subscriptions.list(topics)}
        return id_connection(sorted(by_id), first, after, lambda sid: _subscription_view(by_id[sid]))

    def webhook_subscription_create(
        _info: GraphQLResolveInfo,
        topic: str,
        webhookSubscription: dict[str, Any],  # noqa: N803 - GraphQL's name
    ) -> dict[str, Any]:
        subscription, errors = ctx.subscriptions.create(
            topic, webhookSubscription.get("uri"), webhookSubscription.get("format")
        )
        return _subscription_payload(subscription, errors)

    def webhook_subscription_update(
        _info: GraphQLResolveInfo,
        id: str,  # noqa: A002 - GraphQL's name
        webhookSubscription: dict[str, Any],  # noqa: N803 - GraphQL's name
    ) -> dict[str, Any]:
        subscription, errors = ctx.subscriptions.update(
            _gid_or_none(id, "WebhookSubscription"), webhookSubscription.get("uri"), webhookSubscription.get("format")
        )
        return _subscription_payload(subscription, errors)

    return {
        "locations": locations,
        "inventoryItems": inventory_items,
        "inventoryItem": inventory_item,
        "webhookSubscriptions": webhook_subscriptions,
        "inventorySetQuantities": inventory_set_quantities,
        "inventoryAdjustQuantities": inventory_adjust_quantities,
        "webhookSubscriptionCreate": webhook_subscription_create,
        "webhookSubscriptionUpdate": webhook_subscription_update,
    }
