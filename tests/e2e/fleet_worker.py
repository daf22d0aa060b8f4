"""One process of the limiter fleet test: N threads calling NetSuite through the shared limiter until told to
stop (or killed). Prints one line per completed call: `ok <unix time>`."""

from __future__ import annotations

import argparse
import sys
import threading
import time

import redis

from netsuite_client import NetSuiteClient, TokenAuth
from netsuite_client.limiter import LimiterConfig, RedisSlotLimiter, SlotUnavailable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--lease", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--item-id", required=True)
    args = parser.parse_args()

    limiter = RedisSlotLimiter(
        redis.Redis.from_url(args.redis_url),
        LimiterConfig(
            max_budget=args.budget,
            lease_s=args.lease,
            renew_every_s=args.lease / 5,
            max_wait_s={"live": 2.0},
            key_prefix="fleet-test",
        ),
    )
    client = NetSuiteClient(
        base_url=args.base_url,
        auth=TokenAuth(
            account_id="1234567_SB1",
            consumer_key="sim-consumer-key",
            consumer_secret="sim-consumer-secret",
            token_id="sim-token-id",
            token_secret="sim-token-secret",
        ),
        limiter=limiter,
        max_tries=1,
    )
    out = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            try:
                client.get("inventoryItem", args.item_id)
            except SlotUnavailable:
                continue
            with out:
                sys.stdout.write(f"ok {time.time():.3f}\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
