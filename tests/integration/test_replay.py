from __future__ import annotations

import json

from click.testing import CliRunner

from app.cli import main
from app.services import events
from tests.conftest import fixture_bytes
from tests.helpers import sales_order_writes, sim_calls
from tests.integration.test_services import records, store_event


def test_replay_dry_run_then_replay_changes_nothing_in_netsuite(sim, redis_db):
    first = store_event(fixture_bytes("orders_create.json"), webhook_id="r1")
    events.process_event(first)
    store_event(b'{"id": 1}', topic="products/create", webhook_id="r-ignored")  # not a handled topic: never replayed
    writes_before = sales_order_writes(sim_calls(sim))

    dry = CliRunner().invoke(main, ["replay", "--since", "1d", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert (report["selected"], report["by_topic"], report["published"]) == (1, {"orders/create": 1}, 0)
    assert redis_db.llen("orders") == 0

    done = CliRunner().invoke(main, ["replay", "--since", "1d", "--topic", "orders/create"])
    assert done.exit_code == 0 and "replayed 1 event(s)" in done.output
    [message] = [json.loads(m) for m in redis_db.lrange("orders", 0, -1)]
    assert message["headers"]["argsrepr"] == f"[{first}]"
    assert events.process_event(first).startswith("skipped_stale")  # the same version: NetSuite untouched
    assert sales_order_writes(sim_calls(sim)) == writes_before
    assert len(records(sim, "salesOrder")) == 1
