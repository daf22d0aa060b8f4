"""Webhook subscriptions over Admin GraphQL: list, create, re-point.

Deliveries name their topic in the REST form (`X-Shopify-Topic: orders/create`) while GraphQL uses an enum
(`ORDERS_CREATE`); everything here speaks the REST form so that a subscription and the deliveries it causes
are compared as the same string.

Neither mutation takes `@idempotent`, so the client does not resend them after a failure that may have applied
them: the caller lists first and creates only what is missing (Shopify refuses a second subscription for the
same topic and address anyway).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ShopifyError, user_error_from_payload
from .graphql import GraphQLExecutor, paged
from .ids import gid, legacy_id

__all__ = [
    "SUBSCRIPTIONS_QUERY",
    "SUBSCRIPTION_CREATE_MUTATION",
    "SUBSCRIPTION_UPDATE_MUTATION",
    "Subscription",
    "create_subscription",
    "list_subscriptions",
    "topic_from_enum",
    "topic_to_enum",
    "update_subscription",
]


@dataclasses.dataclass(frozen=True)
class Subscription:
    """A webhook subscription: `topic` in REST form (`orders/create`), `format` lower-case as REST writes it."""

    id: int
    topic: str
    uri: str
    format: str
    api_version: str | None


SUBSCRIPTION_FIELDS = """
fragment SubscriptionFields on WebhookSubscription {
  id topic uri format apiVersion { handle }
}
"""

SUBSCRIPTIONS_QUERY = (
    """
query WebhookSubscriptions($first: Int!, $after: String, $topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: $first, after: $after, topics: $topics) {
    nodes { ...SubscriptionFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + SUBSCRIPTION_FIELDS
)

SUBSCRIPTION_CREATE_MUTATION = (
    """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { ...SubscriptionFields }
    userErrors { field message }
  }
}
"""
    + SUBSCRIPTION_FIELDS
)

SUBSCRIPTION_UPDATE_MUTATION = (
    """
mutation WebhookSubscriptionUpdate($id: ID!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $subscription) {
    webhookSubscription { ...SubscriptionFields }
    userErrors { field message }
  }
}
"""
    + SUBSCRIPTION_FIELDS
)

SUBSCRIPTIONS_PAGE = 100
MUTATION_COST = 10


def subscriptions_page_cost(first: int) -> int:
    """Subscriptions 2 + n x (subscription 1 + apiVersion 1)."""
    return 2 + 2 * first


# --- topics ---------------------------------------------------------------------------------------------

# The enum cannot be turned back into the REST form by rule: both halves of a topic may hold underscores
# (`inventory_levels/update`, `customers/data_request`, `orders/partially_fulfilled`). Known topics are
# therefore listed; an unknown one falls back to splitting at the first underscore.
KNOWN_TOPICS = (
    "app/uninstalled",
    "customers/create",
    "customers/data_request",
    "customers/delete",
    "customers/redact",
    "customers/update",
    "disputes/create",
    "disputes/update",
    "fulfillments/create",
    "fulfillments/update",
    "inventory_items/create",
    "inventory_items/delete",
    "inventory_items/update",
    "inventory_levels/connect",
    "inventory_levels/disconnect",
    "inventory_levels/update",
    "locations/create",
    "locations/delete",
    "locations/update",
    "order_transactions/create",
    "orders/cancelled",
    "orders/create",
    "orders/delete",
    "orders/edited",
    "orders/fulfilled",
    "orders/paid",
    "orders/partially_fulfilled",
    "orders/updated",
    "products/create",
    "products/delete",
    "products/update",
    "refunds/create",
    "shop/redact",
    "shop/update",
)
_REST_TOPIC = re.compile(r"^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$")
_ENUM_TOPIC = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def topic_to_enum(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE`."""
    if not isinstance(topic, str) or not _REST_TOPIC.match(topic):
        raise ValueError(f"not a webhook topic in REST form (resource/event): {topic!r}")
    return topic.replace("/", "_").upper()


_FROM_ENUM = {topic_to_enum(t): t for t in KNOWN_TOPICS}


def topic_from_enum(value: str) -> str:
    """`ORDERS_CREATE` -> `orders/create`; `INVENTORY_LEVELS_UPDATE` -> `inventory_levels/update`."""
    if not isinstance(value, str) or not _ENUM_TOPIC.match(value):
        raise ValueError(f"not a WebhookSubscriptionTopic value: {value!r}")
    known = _FROM_ENUM.get(value)
    if known is not None:
        return known
    resource, _, event = value.lower().partition("_")
    return f"{resource}/{event}"


# --- calls ----------------------------------------------------------------------------------------------


def list_subscriptions(client: GraphQLExecutor, *, topics: Iterable[str] | None = None) -> list[Subscription]:
    """Every webhook subscription of the app (only those of `topics`, REST form, when given)."""
    variables: dict[str, Any] = {"topics": None if topics is None else [topic_to_enum(t) for t in topics]}
    return [
        _subscription(node)
        for node in paged(
            client,
            SUBSCRIPTIONS_QUERY,
            "WebhookSubscriptions",
            root="webhookSubscriptions",
            first=SUBSCRIPTIONS_PAGE,
            variables=variables,
            cost=subscriptions_page_cost,
        )
    ]


def create_subscription(client: GraphQLExecutor, topic: str, uri: str) -> Subscription:
    """Subscribe `uri` to `topic` (REST form), JSON bodies. Raises ShopifyUserError when Shopify refuses."""
    data = client.execute(
        SUBSCRIPTION_CREATE_MUTATION,
        {"topic": topic_to_enum(topic), "subscription": {"uri": _uri(uri), "format": "JSON"}},
        operation_name="WebhookSubscriptionCreate",
        expected_cost=MUTATION_COST,
    )
    return _mutation_result(data, "webhookSubscriptionCreate")


def update_subscription(client: GraphQLExecutor, id: int | str, uri: str) -> Subscription:
    """Point an existing subscription (numeric id or gid) at `uri`, keeping its topic."""
    subscription_gid = id if isinstance(id, str) and id.startswith("gid://") else gid("WebhookSubscription", id)
    legacy_id(subscription_gid)  # validates a gid given as a string
    data = client.execute(
        SUBSCRIPTION_UPDATE_MUTATION,
        {"id": subscription_gid, "subscription": {"uri": _uri(uri), "format": "JSON"}},
        operation_name="WebhookSubscriptionUpdate",
        expected_cost=MUTATION_COST,
    )
    return _mutation_result(data, "webhookSubscriptionUpdate")


def _mutation_result(data: Mapping[str, Any], field: str) -> Subscription:
    payload = data.get(field) if isinstance(data, Mapping) else None
    if not isinstance(payload, Mapping):
        raise ShopifyError(f"{field} returned no payload", code="INVALID_RESPONSE")
    refused = user_error_from_payload(payload, operation=field)
    if refused is not None:
        raise refused
    node = payload.get("webhookSubscription")
    if not isinstance(node, Mapping):
        raise ShopifyError(f"{field} returned neither a subscription nor user errors", code="INVALID_RESPONSE")
    return _subscription(node)


def _subscription(node: Mapping[str, Any]) -> Subscription:
    raw_id = node.get("id")
    topic = node.get("topic")
    if not isinstance(raw_id, str) or not isinstance(topic, str):
        raise ShopifyError("webhook subscription without an id or topic", code="INVALID_RESPONSE")
    version = node.get("apiVersion")
    handle = version.get("handle") if isinstance(version, Mapping) else None
    return Subscription(
        id=legacy_id(raw_id),
        topic=topic_from_enum(topic),
        uri=str(node.get("uri") or ""),
        format=str(node.get("format") or "json").lower(),
        api_version=handle if isinstance(handle, str) else None,
    )


def _uri(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("uri must be a non-empty string")
    return value
