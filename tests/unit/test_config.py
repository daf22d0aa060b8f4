import pytest

from app.config import REQUIRED, ConfigError, load_settings, sqlalchemy_url

BASE = {name: f"value-{name.lower()}" for name in REQUIRED}
BASE["SHOPIFY_SHOP"] = "Store.myshopify.com"
BASE["NETSUITE_ACCOUNT_ID"] = "1234567_SB1"


def test_missing_required_settings_are_all_named():
    env = dict(BASE)
    del env["NETSUITE_TOKEN_SECRET"]
    del env["OPS_TOKEN"]
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert "NETSUITE_TOKEN_SECRET" in str(err.value) and "OPS_TOKEN" in str(err.value)


def test_defaults_follow_the_contract():
    s = load_settings(BASE)
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.shopify_api_version == "2026-04"
    assert s.netsuite_concurrency == 12
    assert s.shopify_shop == "store.myshopify.com"
    assert s.netsuite_base_url == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
    assert s.shopify_admin_url == "https://store.myshopify.com/admin/api/2026-04/graphql.json"
    assert s.database_url.endswith("/shopsync")
    assert s.webhook_max_body_bytes == 2 * 1024 * 1024


def test_secrets_list_newest_first_and_hidden_from_repr():
    s = load_settings({**BASE, "SHOPIFY_WEBHOOK_SECRETS": "new-one, old-one"})
    assert s.shopify_webhook_secrets == ("new-one", "old-one")
    text = repr(s)
    assert "new-one" not in text and BASE["NETSUITE_CONSUMER_SECRET"] not in text


def test_database_url_forms():
    assert sqlalchemy_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ConfigError):
        load_settings({**BASE, "DATABASE_URL": "mysql://u@h/db"})


def test_bad_numbers_and_field_names_are_rejected():
    with pytest.raises(ConfigError, match="NETSUITE_CONCURRENCY"):
        load_settings({**BASE, "NETSUITE_CONCURRENCY": "lots"})
    with pytest.raises(ConfigError, match="NETSUITE_ITEM_SKU_FIELD"):
        load_settings({**BASE, "NETSUITE_ITEM_SKU_FIELD": "itemid; DROP"})
    s = load_settings({**BASE, "NETSUITE_CURRENCY_MAP": "usd=1, cad=3"})
    assert s.netsuite_currency_map == {"USD": "1", "CAD": "3"}


def test_location_map_pairs():
    s = load_settings({**BASE, "LOCATION_MAP": "905684977=1, 905684978=2"})
    assert s.location_map == {905684977: "1", 905684978: "2"}
    with pytest.raises(ConfigError, match="LOCATION_MAP"):
        load_settings({**BASE, "LOCATION_MAP": "warehouse=1"})


def test_oauth2_needs_its_own_settings_instead_of_the_tba_ones():
    tba = {"NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET"}
    env = {k: v for k, v in BASE.items() if k not in tba}
    with pytest.raises(ConfigError) as err:
        load_settings({**env, "NETSUITE_AUTH": "oauth2"})
    assert "NETSUITE_CLIENT_ID" in str(err.value) and "NETSUITE_CONSUMER_KEY" not in str(err.value)
    s = load_settings(
        {
            **env,
            "NETSUITE_AUTH": "oauth2",
            "NETSUITE_CLIENT_ID": "c",
            "NETSUITE_CERTIFICATE_ID": "k",
            "NETSUITE_PRIVATE_KEY_FILE": "/keys/netsuite.pem",
        }
    )
    assert s.netsuite_auth == "oauth2" and s.netsuite_certificate_id == "k"
    with pytest.raises(ConfigError, match="NETSUITE_AUTH"):
        load_settings({**BASE, "NETSUITE_AUTH": "basic"})


def test_order_money_defaults_need_no_setting():
    money = load_settings(BASE).order_money
    assert (money.order_currency, money.discount_mode, money.tax_mode) == ("presentment", "net", "legacy")
    assert money.service_skus() == [
        "SHOPIFY-SHIPPING",
        "SHOPIFY-GIFT-CARD",
        "SHOPIFY-TIP",
        "SHOPIFY-DUTY",
        "SHOPIFY-FEE",
        "SHOPIFY-TAX-VARIANCE",
        "SHOPIFY-ROUNDING",
        "SHOPIFY-REFUND-ADJUSTMENT",
    ]


def test_order_money_settings_are_read_and_checked():
    money = load_settings(
        {
            **BASE,
            "ORDER_CURRENCY": "Shop",
            "DISCOUNT_MODE": "item",
            "NETSUITE_TAX_MODE": "suitetax",
            "NETSUITE_DEFAULT_TAX_CODE_ID": "5",
            "TAX_CODE_MAP": "CA State Tax:0.06=12, VAT=7",
            "SHIPPING_ITEM_MAP": "Express=SHIP-EXPRESS",
            "NETSUITE_ROUNDING_ITEM": "ROUND",
        }
    ).order_money
    assert (money.order_currency, money.discount_mode, money.tax_mode) == ("shop", "item", "suitetax")
    assert money.tax_code_map == {"CA State Tax:0.06": "12", "VAT": "7"}
    assert "SHOPIFY-DISCOUNT" in money.service_skus() and "SHIP-EXPRESS" in money.service_skus()
    assert money.items.rounding == "ROUND"
    for env, message in [
        ({"ORDER_CURRENCY": "both"}, "ORDER_CURRENCY must be one of presentment, shop"),
        ({"DISCOUNT_MODE": "header"}, "DISCOUNT_MODE must be one of net, item"),
        ({"NETSUITE_TAX_MODE": "suitetax"}, "needs NETSUITE_DEFAULT_TAX_CODE_ID"),
        ({"TAX_CODE_MAP": "VAT=standard"}, "TAX_CODE_MAP: tax code of 'VAT' must be a NetSuite internal id"),
        ({"NETSUITE_DEFAULT_TAX_CODE_ID": "abc"}, "NETSUITE_DEFAULT_TAX_CODE_ID must be a NetSuite internal id"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_settings({**BASE, **env})
    # Set but empty (`NETSUITE_TIP_ITEM=` in an env file) reads as unset: the default SKU, never a nameless item.
    blank = load_settings({**BASE, "NETSUITE_TIP_ITEM": " ", "SHOPIFY_API_VERSION": "", "NETSUITE_TIMEOUT_READ": ""})
    assert blank.order_money.items.tip == "SHOPIFY-TIP"
    assert (blank.shopify_api_version, blank.netsuite_timeout_read) == ("2026-04", 30.0)


PAYOUTS = {
    "PAYOUT_BANK_ACCOUNTS": "usd=101, cad=102",
    "PAYOUT_FEES_ACCOUNT_ID": "601",
    "PAYOUT_DISPUTES_ACCOUNT_ID": "602",
    "PAYOUT_RESERVES_ACCOUNT_ID": "603",
    "PAYOUT_ADJUSTMENTS_ACCOUNT_ID": "604",
    "PAYOUT_SUSPENSE_ACCOUNT_ID": "699",
    "PAYOUT_VARIANCE_ACCOUNT_ID": "698",
}


def test_payments_are_off_until_finance_picks_a_model_and_payouts_until_a_bank_is_named():
    payments = load_settings(BASE).payments
    assert not payments.enabled and payments.payout_accounts is None
    on = load_settings(
        {
            **BASE,
            **PAYOUTS,
            "PAYMENT_MODEL": "Cash_Sale",
            "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9",
            "PAYMENT_METHOD_MAP": "shopify_payments=11,gift_card=12",
            "PAYOUT_TYPE_ACCOUNTS": "shop_cash_credit=777",
            "PAYOUT_FEES": "per_transaction",
            "PAYOUT_LAG_HOURS": "24",
        }
    ).payments
    assert on.enabled and on.model == "cash_sale" and on.methods["gift_card"] == "12"
    accounts = on.payout_accounts
    assert accounts.banks == {"USD": "101", "CAD": "102"} and accounts.variance == "698"
    assert accounts.type_accounts == {"SHOP_CASH_CREDIT": "777"} and accounts.fees_per_transaction
    assert on.payout_lag_hours == 24
    # Receipts in Undeposited Funds; a gift card's in the liability account once one is named.
    assert on.funds(gift_card=True) == on.funds(gift_card=False) == {"undepFunds": True}
    liability = load_settings({**BASE, "PAYMENT_MODEL": "deposit", "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9",
                               "NETSUITE_GIFT_CARD_ACCOUNT_ID": "250"}).payments  # fmt: skip
    assert liability.funds(gift_card=True) == {"undepFunds": False, "account": {"id": "250"}}
    assert liability.funds(gift_card=False) == {"undepFunds": True}


def test_payment_settings_that_cannot_post_are_refused_by_name():
    model = {"PAYMENT_MODEL": "deposit", "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9"}
    for env, message in [
        ({"PAYMENT_MODEL": "cheque"}, "PAYMENT_MODEL must be one of none, deposit, cash_sale, invoice"),
        ({"PAYMENT_MODEL": "invoice"}, "PAYMENT_MODEL=invoice needs NETSUITE_DEFAULT_PAYMENT_METHOD_ID"),
        ({**model, "PAYMENT_METHOD_MAP": "paypal=PayPal"}, "PAYMENT_METHOD_MAP: paypal must map to a NetSuite"),
        ({**model, "NETSUITE_GIFT_CARD_ACCOUNT_ID": "Gift cards"}, "NETSUITE_GIFT_CARD_ACCOUNT_ID must be an internal"),
        (PAYOUTS, "PAYOUT_BANK_ACCOUNTS is set but PAYMENT_MODEL is none"),
        ({**model, **PAYOUTS, "PAYOUT_VARIANCE_ACCOUNT_ID": ""}, "so PAYOUT_VARIANCE_ACCOUNT_ID must name"),
        ({**model, **PAYOUTS, "PAYOUT_FEES": "each"}, "PAYOUT_FEES must be one of summed, per_transaction"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_settings({**BASE, **env})
