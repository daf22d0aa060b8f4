"""Shopify Admin GraphQL API simulator (orders) and webhook sender; see `server.py`."""
