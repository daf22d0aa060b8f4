"""NetSuite REST + SuiteQL client: TBA signing, typed errors, retries, per-attempt call records.

A reusable library: it imports nothing from the application.
"""

from .auth import TokenAuth, default_base_url, realm_for
from .client import (
    SUITEQL_MAX_PAGE_SIZE,
    SUITEQL_MAX_ROWS,
    NetSuiteClient,
    SlotLimiter,
    encode_json,
    suiteql_in,
    suiteql_literal,
)
from .errors import (
    GOVERNANCE_CODES,
    AuthError,
    ConcurrencyLimitError,
    NetSuiteError,
    NotFoundError,
    ServerError,
    SuiteQLLimitError,
    TransportError,
    ValidationError,
    error_from_response,
)
from .models import CallRecord

__all__ = [
    "GOVERNANCE_CODES",
    "SUITEQL_MAX_PAGE_SIZE",
    "SUITEQL_MAX_ROWS",
    "AuthError",
    "CallRecord",
    "ConcurrencyLimitError",
    "NetSuiteClient",
    "NetSuiteError",
    "NotFoundError",
    "ServerError",
    "SlotLimiter",
    "SuiteQLLimitError",
    "TokenAuth",
    "TransportError",
    "ValidationError",
    "default_base_url",
    "encode_json",
    "error_from_response",
    "realm_for",
    "suiteql_in",
    "suiteql_literal",
]
