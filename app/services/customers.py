"""The NetSuite customer an order's sales order names: remembered, found by email, or created by upsert.

Cost, in NetSuite calls (docs/MAPPING.md, "Customers"):

- a customer we already have with the same body (hash in customer_sync / guest_customer_sync): none. Repeat
  customers are most of a store's orders; this is what keeps an order at one NetSuite call.
- a customer we have, changed (new email, new address): one upsert.
- a customer NetSuite has never had from us: one SuiteQL lookup by email, then either nothing (an existing
  customer is used as it is) or one upsert (created).
- the single guest customer: one GET by its external id, then one upsert only if NetSuite lacks it; once, not per
  order (the outcome is remembered like any customer's).

A customer found by email is used, never written to: it belongs to whoever created it (an import, another sales
channel, another integration). We do not attach our external id to it either: NetSuite lets one integration own
a record type's external ids and a record has one external id, so overwriting the one another integration set
breaks that integration's upserts (a duplicate on its side); the link lives in customer_sync instead, and losing
it costs one SuiteQL lookup, never a duplicate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from app.db import repositories
from app.domain.customers import SINGLE_GUEST, CustomerNeed, pick_match
from app.logging_setup import mask_pii
from netsuite_client import NetSuiteClient, suiteql_literal
from netsuite_client.errors import NotFoundError

log = logging.getLogger(__name__)

# Rows read for one email: enough to see that several customers share it, in one SuiteQL page.
MATCH_ROWS = 10


@dataclass(frozen=True)
class CustomerRef:
    """The customer a sales order names."""

    internal_id: str | None
    # None: a customer found by email, addressed by its internal id (its external id, if any, is not ours).
    external_id: str | None
    # True: answered from what we remember, without a NetSuite call (a stale memory shows as INVALID_KEY_OR_REF).
    skipped: bool

    @property
    def entity(self) -> dict[str, str]:
        """The sales order's `entity` reference."""
        if self.external_id:
            return {"externalId": self.external_id}
        return {"id": str(self.internal_id)}


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def ensure_customer(session: Session, client: NetSuiteClient, need: CustomerNeed, correlation: str) -> CustomerRef:
    """The customer for `need`: from memory when NetSuite already has it, else found by email, else upserted."""
    digest = body_hash(need.body)
    known = repositories.known_customer(session, need.sync_key)
    if known is not None and known.external_id == need.external_id:
        if known.matched:
            return _found_ref(need, known.netsuite_internal_id, skipped=True)
        if known.body_hash == digest:
            return CustomerRef(known.netsuite_internal_id, need.external_id, skipped=True)
        return _upsert(session, client, need, digest, correlation)  # ours, changed: update it once
    found = _find_existing(client, need, correlation)
    if found is not None:
        repositories.save_customer(session, need.sync_key, need.external_id, found, digest, matched=True)
        return _found_ref(need, found, skipped=False)
    return _upsert(session, client, need, digest, correlation)


def forget_customer(session: Session, need: CustomerNeed) -> None:
    """Drop what we remember of the customer (NetSuite rejected it: deleted or merged behind our back)."""
    repositories.forget_customer(session, need.sync_key)


def _found_ref(need: CustomerNeed, internal_id: str | None, *, skipped: bool) -> CustomerRef:
    # The single guest is found by its external id, so that id addresses it; a customer found by email is not ours.
    external_id = need.external_id if need.kind == SINGLE_GUEST else None
    return CustomerRef(internal_id, external_id, skipped=skipped)


def _upsert(session: Session, client: NetSuiteClient, need: CustomerNeed, digest: str, correlation: str) -> CustomerRef:
    # NetSuite adds address book entries sent without their key on update: replacing the sublist keeps a repeated
    # or retried upsert from doubling them (and lets the client retry it after an ambiguous failure).
    replace = ("addressBook",) if "addressBook" in need.body else ()
    internal_id = client.upsert("customer", need.external_id, need.body, replace=replace, correlation_id=correlation)
    repositories.save_customer(session, need.sync_key, need.external_id, internal_id, digest)
    return CustomerRef(internal_id, need.external_id, skipped=False)


def _find_existing(client: NetSuiteClient, need: CustomerNeed, correlation: str) -> str | None:
    """The internal id of an existing NetSuite customer to use instead of creating ours; None: create ours."""
    if need.kind == SINGLE_GUEST:
        try:
            return str(
                client.get("customer", external_id=need.external_id, fields=["id"], correlation_id=correlation)["id"]
            )
        except NotFoundError:
            return None
    if need.email is None:
        return None
    rows = find_customers_by_email(client, need.email, need.subsidiary_id, correlation)
    if any(row.get("externalid") == need.external_id for row in rows):
        return None  # ours already (we lost our memory of it): update it like any customer of ours
    match = pick_match(rows)
    if match is None:
        return None
    if len(rows) > 1:
        log.warning(
            "%s: %s NetSuite customers share the email %s; using the lowest internal id %s",
            need.external_id,
            f"{len(rows)}+" if len(rows) >= MATCH_ROWS else len(rows),
            mask_pii(need.email),
            match["id"],
        )
    else:
        log.info("%s: using existing NetSuite customer %s found by email", need.external_id, match["id"])
    return str(match["id"])


def find_customers_by_email(
    client: NetSuiteClient, email: str, subsidiary_id: str | None, correlation: str
) -> list[dict[str, Any]]:
    """Active NetSuite customers with this email (case-insensitive), in the subsidiary when one is set; lowest
    internal ids first, at most MATCH_ROWS (one SuiteQL page)."""
    query = (
        "SELECT id, externalid FROM customer "
        f"WHERE LOWER(email) = {suiteql_literal(email.lower())} AND isinactive = 'F'"
    )
    if subsidiary_id:
        query += f" AND subsidiary = {int(subsidiary_id)}"
    query += " ORDER BY id"
    rows = client.suiteql(query, page_size=MATCH_ROWS, correlation_id=correlation)
    return list(islice(rows, MATCH_ROWS))
