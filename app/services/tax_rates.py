"""The rates of NetSuite's tax codes (legacy tax), read once per process: the mapping predicts from them the tax
NetSuite will compute, so the difference from Shopify's tax can be posted as a variance line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from decimal import Decimal

from app.domain.tax import parse_rate
from app.logging_setup import correlation_id
from netsuite_client import NetSuiteClient, suiteql_in

log = logging.getLogger(__name__)

_rates: dict[str, Decimal] = {}
_lock = threading.Lock()


def tax_code_rates(client: NetSuiteClient, code_ids: Iterable[str]) -> dict[str, Decimal]:
    """Rate (percent) of each tax code id, from SuiteQL `salestaxitem`; asked once per process for codes not yet
    known (a code NetSuite does not return is left out: its predicted tax is 0 and the variance line shows it)."""
    wanted = sorted({code for code in code_ids if code})
    with _lock:
        missing = [code for code in wanted if code not in _rates]
    if missing:
        query = f"SELECT id, rate FROM salestaxitem WHERE id IN {suiteql_in(missing)} ORDER BY id"
        found = {}
        for row in client.suiteql(query, correlation_id=correlation_id.get()):
            rate = parse_rate(row.get("rate"))
            if rate is not None:
                found[str(row["id"])] = rate
        for code in missing:
            if code not in found:
                log.warning("tax code %s has no rate in NetSuite's salestaxitem: its predicted tax is 0", code)
        with _lock:
            _rates.update(found)
    with _lock:
        return {code: _rates[code] for code in wanted if code in _rates}


def forget_rates() -> None:
    """Tests, and an operator who changed a rate: the next order reads the rates again."""
    with _lock:
        _rates.clear()
