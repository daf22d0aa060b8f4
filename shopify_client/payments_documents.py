"""The GraphQL documents of the Shopify Payments reads (`payments.py`) and what each costs by Shopify's rules.

Costs (the rules `order_documents.py` states): an object 1 plus its selection, scalars and enums 0, a connection
2 + `first` x (1 + node), a list of objects `first` x (1 + item). A MoneyV2 is 1 point, so a payout node is
1 + net + summary (1 + 13 amounts) = 16, a balance transaction node 1 + amount, fee, net + associated order and
payout = 6, a dispute node 1 + amount + reason details + order = 4, an order transaction 1 + amount bag (3) +
parent = 5. The account around a connection adds 1.

How Shopify links a payout to its balance transactions: `ShopifyPaymentsAccount.balanceTransactions(query:
"payments_transfer_id:<payout legacyResourceId>")` (the published schema documents the filter; the payout type
has no field of its own for them). The payout's own TRANSFER row is among them.
"""

from __future__ import annotations

__all__ = [
    "BALANCE_TRANSACTIONS_QUERY",
    "DISPUTES_QUERY",
    "ORDER_TRANSACTIONS_FIRST",
    "ORDER_TRANSACTIONS_QUERY",
    "PAYOUTS_QUERY",
    "balance_transactions_page_cost",
    "disputes_page_cost",
    "order_transactions_cost",
    "payouts_page_cost",
]

SUMMARY_FIELDS = (
    "adjustmentsFee",
    "adjustmentsGross",
    "advanceFees",
    "advanceGross",
    "chargesFee",
    "chargesGross",
    "refundsFee",
    "refundsFeeGross",
    "reservedFundsFee",
    "reservedFundsGross",
    "retriedPayoutsFee",
    "retriedPayoutsGross",
    "usdcRebateCreditAmount",
)
_SUMMARY = "\n".join(f"        {name} {{ amount currencyCode }}" for name in SUMMARY_FIELDS)

# Payouts in id order (a later payout has a larger id), so a stored cursor resumes where the last run stopped.
PAYOUTS_QUERY = f"""
query Payouts($first: Int!, $after: String, $query: String) {{
  shopifyPaymentsAccount {{
    payouts(first: $first, after: $after, query: $query, sortKey: ID) {{
      edges {{
        cursor
        node {{
          id legacyResourceId status issuedAt transactionType
          net {{ amount currencyCode }}
          summary {{
{_SUMMARY}
          }}
        }}
      }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

BALANCE_TRANSACTIONS_QUERY = """
query PayoutBalanceTransactions($first: Int!, $after: String, $query: String!) {
  shopifyPaymentsAccount {
    balanceTransactions(first: $first, after: $after, query: $query, sortKey: ID) {
      nodes {
        id type sourceType sourceId sourceOrderTransactionId adjustmentReason test transactionDate
        amount { amount currencyCode }
        fee { amount currencyCode }
        net { amount currencyCode }
        associatedOrder { id name }
        associatedPayout { id status }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

DISPUTES_QUERY = """
query Disputes($first: Int!, $after: String, $query: String) {
  shopifyPaymentsAccount {
    disputes(first: $first, after: $after, query: $query) {
      edges {
        cursor
        node {
          id legacyResourceId status type initiatedAt evidenceDueBy evidenceSentOn finalizedOn
          amount { amount currencyCode }
          reasonDetails { reason networkReasonCode }
          order { id name }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

# Order.transactions is a plain list (no paging): one document reads them all, up to this many.
ORDER_TRANSACTIONS_FIRST = 150
ORDER_TRANSACTIONS_QUERY = """
query OrderTransactions($id: ID!, $first: Int!) {
  order(id: $id) {
    id
    transactions(first: $first) {
      id kind status gateway test createdAt processedAt authorizationExpiresAt
      amountSet {
        shopMoney { amount currencyCode }
        presentmentMoney { amount currencyCode }
      }
      parentTransaction { id }
    }
  }
}
"""

PAYOUT_NODE = 1 + 1 + (1 + len(SUMMARY_FIELDS))
BALANCE_TRANSACTION_NODE = 1 + 3 + 1 + 1
DISPUTE_NODE = 1 + 1 + 1 + 1
ORDER_TRANSACTION_ITEM = 1 + 3 + 1
_ACCOUNT = 1


def _connection(first: int, node: int) -> int:
    return 2 + first * node


def payouts_page_cost(first: int) -> int:
    return _ACCOUNT + _connection(first, PAYOUT_NODE)


def balance_transactions_page_cost(first: int) -> int:
    return _ACCOUNT + _connection(first, BALANCE_TRANSACTION_NODE)


def disputes_page_cost(first: int) -> int:
    return _ACCOUNT + _connection(first, DISPUTE_NODE)


def order_transactions_cost(first: int) -> int:
    return 1 + first * ORDER_TRANSACTION_ITEM
