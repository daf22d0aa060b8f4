"""Gunicorn settings for the webhook intake (operators override with GUNICORN_CMD_ARGS).

gthread workers: each request waits on PostgreSQL and Redis, so threads keep the cores busy while a
request waits, and 3 processes x 8 threads covers Shopify's bursts on a 2-core machine.
"""

worker_class = "gthread"
workers = 3
threads = 8
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"
