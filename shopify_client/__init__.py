from shopify_client.webhooks import sign, verify

__all__ = ["sign", "verify"]
