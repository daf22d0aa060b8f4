"""NetSuite REST + SuiteQL client: TBA or OAuth 2.0 auth, typed errors, retries, async jobs, call records.

A reusable library: it imports nothing from the application.
"""

from .auth import TokenAuth, default_base_url, realm_for
from .client import (
    SUITEQL_MAX_PAGE_SIZE,
    SUITEQL_MAX_ROWS,
    NetSuiteClient,
    SlotHandle,
    SlotLimiter,
    encode_json,
    suiteql_in,
    suiteql_literal,
)
from .errors import (
    GOVERNANCE_CODES,
    AsyncJobTimeoutError,
    AuthError,
    ConcurrencyLimitError,
    NetSuiteError,
    NotFoundError,
    ServerError,
    SuiteQLLimitError,
    TransportError,
    ValidationError,
    error_from_parts,
    error_from_response,
    is_retryable,
)
from .models import AsyncJob, AsyncResult, CallRecord
from .oauth2 import OAuth2ClientCredentials, default_token_url
from .payments import DEPOSITABLE_TYPES, Deposit, DepositLine, DepositPayment, Receipt

__all__ = [
    "DEPOSITABLE_TYPES",
    "GOVERNANCE_CODES",
    "SUITEQL_MAX_PAGE_SIZE",
    "SUITEQL_MAX_ROWS",
    "AsyncJob",
    "AsyncJobTimeoutError",
    "AsyncResult",
    "AuthError",
    "CallRecord",
    "ConcurrencyLimitError",
    "Deposit",
    "DepositLine",
    "DepositPayment",
    "NetSuiteClient",
    "NetSuiteError",
    "NotFoundError",
    "OAuth2ClientCredentials",
    "Receipt",
    "ServerError",
    "SlotHandle",
    "SlotLimiter",
    "SuiteQLLimitError",
    "TokenAuth",
    "TransportError",
    "ValidationError",
    "default_base_url",
    "default_token_url",
    "encode_json",
    "error_from_parts",
    "error_from_response",
    "is_retryable",
    "realm_for",
    "suiteql_in",
    "suiteql_literal",
]
