"""NetSuite REST record and SuiteQL client.

The same code talks to a real account (`https://<acct>.suitetalk.api.netsuite.com/services/rest`) and to the
local simulator (`http://127.0.0.1:<port>/services/rest`); only `base_url` and `auth` differ.

`NetSuiteClient` is one object made of parts with one job each:

- `transport.py`: configuration, pooled sessions, the limiter slot around each attempt, retries and call
  records (`Transport._call`; the retry policy is described there);
- `records.py`: `upsert`, `create`, `get`, `get_sublist`, `list_ids`, `patch`, `delete`, `transform`;
- `async_jobs.py`: `async_request`, `upsert_async`, `poll_job`, `wait_for_job`;
- `suiteql.py`: `suiteql` and the literal builders `suiteql_literal` / `suiteql_in`;
- `payments.py`: receipts, refunds and bank deposits (`upsert_receipt`, `upsert_deposit`, `get_deposit`,
  `receipts_by_external_ids`, `receipts_for_orders`, `undeposited_receipts`);
- `encoding.py`: `encode_json`, the request-body encoder (exact Decimal digits);
- `responses.py`: reading JSON bodies and ids out of `Location` headers and links.
"""

from __future__ import annotations

from .async_jobs import AsyncJobOperations
from .encoding import encode_json
from .payments import PaymentOperations
from .records import RecordOperations
from .suiteql import SUITEQL_MAX_PAGE_SIZE, SUITEQL_MAX_ROWS, SuiteQLOperations, suiteql_in, suiteql_literal
from .transport import SlotHandle, SlotLimiter

# The names this module has always offered; they live in the modules above now.
__all__ = [
    "SUITEQL_MAX_PAGE_SIZE",
    "SUITEQL_MAX_ROWS",
    "NetSuiteClient",
    "SlotHandle",
    "SlotLimiter",
    "encode_json",
    "suiteql_in",
    "suiteql_literal",
]


class NetSuiteClient(PaymentOperations, RecordOperations, AsyncJobOperations, SuiteQLOperations):
    """NetSuite REST records + SuiteQL, with retries, a pluggable concurrency limiter and per-attempt records.

    Thread-safe: each thread gets its own pooled `requests.Session`. Built with the keyword arguments of
    `Transport` (`base_url`, `auth`, `limiter`, `on_call`, timeouts and retry settings).
    """

    def __repr__(self) -> str:
        return f"NetSuiteClient(base_url={self.base_url!r}, auth={self._auth!r})"

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
