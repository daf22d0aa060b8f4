"""Issue 12: the chaos soak, small. The same run as `python -m bench.soak` (bench/soak/run.py), 200 orders: their
webhooks with 1% never delivered, 5% delivered 2-10 times and shuffled, NetSuite erring (2% 5xx) and throttling
(429 bursts, half the slots held by another integration), two workers SIGKILLed and started again, the broker's
Redis flushed and PostgreSQL restarted mid-stream; then the nightly reconciliation. NetSuite (the simulator) must
hold every order once with its lines, fulfillments and credits, our calls in flight never above the budget, no
inventory drift, and no dead letter but the injected ones, each with its reason.

Its own PostgreSQL cluster and Redis server (bench/services.py), so restarting and flushing them touches nothing
shared. Time-based phases are scaled down: short 429 bursts, 10 ms NetSuite latency, the relay re-publishing after
20 s."""

from __future__ import annotations

import pytest

from bench.soak.run import Options, report, soak
from devtools.devstack import free_port

ORDERS = 200


@pytest.mark.timeout(420)
def test_a_chaos_soak_loses_nothing_doubles_nothing_and_gets_nothing_wrong(tmp_path):
    opts = Options(
        orders=ORDERS,
        rate=40.0,
        latency_ms=10,
        jitter_ms=5,
        timeout_s=360.0,
        scale=0.3,
        republish_s=20.0,
        pg_port=free_port(),
        redis_port=free_port(),
        progress=False,
    )
    result = soak(opts, tmp_path)
    history = result["history"]
    print(report(result))  # the figures and the first findings, when it fails

    # The faults happened: deliveries lost and repeated, every kind of chaos fired.
    assert result["plan"]["never_delivered"] > 0 and result["plan"]["duplicated"] > 0
    faults = result["faults"]
    for kind in ("netsuite_5xx", "netsuite_429_burst", "held_slots", "redis_flushdb", "postgres_restart"):
        assert faults.get(kind, 0) >= 1, kind
    assert faults["worker_sigkill"] == 2 and faults["worker_restart"] == 2
    assert sum((result["netsuite_rejections"] or {}).values()) > 0, "NetSuite never refused a call"

    # What NetSuite holds: every order once, with its lines, fulfillments and credits.
    assert history.missing == []
    assert history.duplicated == []
    assert history.wrong == []
    assert history.documents["salesOrder"] == ORDERS
    assert history.peak <= history.budget
    assert history.levels_compared > 0 and history.drift == []
    # The only dead letters are the injected bad refunds, each with its reason.
    assert history.unexplained == []
    assert len(history.dead_letters) == result["plan"]["injected_bad_refunds"] >= 1
    assert {d["error_code"] for d in history.dead_letters} == {"INVALID_TRANSITION"}
    assert history.passed
