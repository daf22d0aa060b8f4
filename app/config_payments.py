"""Money to the bank as configuration: the payment model, payment methods, and the payout deposit's accounts
(docs/CONFIGURATION.md "Payments and payouts"; the rules are app/domain/payments.py and payouts.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.config_env import ConfigError, EnvReader
from app.domain.payments import MODELS
from app.domain.payouts import PayoutAccounts

PAYOUT_ROLE_SETTINGS = {  # PayoutAccounts field -> environment variable
    "fees": "PAYOUT_FEES_ACCOUNT_ID",
    "disputes": "PAYOUT_DISPUTES_ACCOUNT_ID",
    "reserves": "PAYOUT_RESERVES_ACCOUNT_ID",
    "adjustments": "PAYOUT_ADJUSTMENTS_ACCOUNT_ID",
    "suspense": "PAYOUT_SUSPENSE_ACCOUNT_ID",
    "variance": "PAYOUT_VARIANCE_ACCOUNT_ID",
}


@dataclass(frozen=True)
class PaymentSettings:
    # none: no receipt is written (the service's behaviour before finance picks a model); deposit | cash_sale | invoice
    model: str = "none"
    methods: Mapping[str, str] = field(default_factory=dict)  # PAYMENT_METHOD_MAP: Shopify gateway -> method id
    default_method: str | None = None  # NETSUITE_DEFAULT_PAYMENT_METHOD_ID
    # Payouts: off while PAYOUT_BANK_ACCOUNTS is empty.
    payout_accounts: PayoutAccounts | None = None
    payout_lag_hours: int = 72  # a payout whose receipts are missing waits this long, then posts with a variance
    payouts_every_minutes: int = 60

    @property
    def enabled(self) -> bool:
        return self.model != "none"


def _ids(env: EnvReader, name: str) -> dict[str, str]:
    pairs = env.pairs(name)
    for key, value in pairs.items():
        if not value.isdigit():
            raise ConfigError(f"{name}: {key} must map to a NetSuite internal id (digits), got {value!r}")
    return pairs


def _payout_accounts(env: EnvReader) -> PayoutAccounts | None:
    banks = {currency.upper(): account for currency, account in _ids(env, "PAYOUT_BANK_ACCOUNTS").items()}
    if not banks:
        return None
    roles = {}
    for role, name in PAYOUT_ROLE_SETTINGS.items():
        value = env.text(name)
        if not value.isdigit():
            raise ConfigError(
                f"PAYOUT_BANK_ACCOUNTS is set, so {name} must name a NetSuite account (internal id, digits)"
                + (f", got {value!r}" if value else "")
            )
        roles[role] = value
    fees = env.choice("PAYOUT_FEES", "summed", ("summed", "per_transaction"))
    return PayoutAccounts(
        banks=banks,
        type_accounts={kind.upper(): acct for kind, acct in _ids(env, "PAYOUT_TYPE_ACCOUNTS").items()},
        fees_per_transaction=fees == "per_transaction",
        **roles,
    )


def _every_minutes(env: EnvReader) -> int:
    minutes = env.integer("PAYOUTS_EVERY_MINUTES", 60, minimum=1)
    if minutes > 60:
        raise ConfigError(f"PAYOUTS_EVERY_MINUTES must be at most 60 (beat's crontab minute field), got {minutes}")
    return minutes


def payment_settings(env: EnvReader) -> PaymentSettings:
    model = env.choice("PAYMENT_MODEL", "none", ("none", *MODELS))
    default_method = env.optional("NETSUITE_DEFAULT_PAYMENT_METHOD_ID")
    if default_method is not None and not default_method.isdigit():
        raise ConfigError(f"NETSUITE_DEFAULT_PAYMENT_METHOD_ID must be an internal id (digits), got {default_method!r}")
    if model != "none" and default_method is None:
        raise ConfigError(
            f"PAYMENT_MODEL={model} needs NETSUITE_DEFAULT_PAYMENT_METHOD_ID (the payment method of a gateway "
            "PAYMENT_METHOD_MAP does not name)"
        )
    payout_accounts = _payout_accounts(env)
    if payout_accounts is not None and model == "none":
        raise ConfigError("PAYOUT_BANK_ACCOUNTS is set but PAYMENT_MODEL is none: a deposit deposits the receipts")
    return PaymentSettings(
        model=model,
        methods=_ids(env, "PAYMENT_METHOD_MAP"),
        default_method=default_method,
        payout_accounts=payout_accounts,
        payout_lag_hours=env.integer("PAYOUT_LAG_HOURS", 72),
        payouts_every_minutes=_every_minutes(env),
    )
