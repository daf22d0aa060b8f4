"""The NetSuite simulator counts the calls it serves per client address: several hosts (bench/multihost) share
one simulator, and this is how the benchmark tells which host did the work."""

from __future__ import annotations

from werkzeug.test import Client

from simulators.netsuite.server import SimulatorConfig, create_app


def test_calls_are_counted_per_client_address() -> None:
    client = Client(create_app(SimulatorConfig(verify_auth=False)))
    body = {"companyName": "Acme", "subsidiary": {"id": "1"}}
    for address, n in (("10.203.0.11", 2), ("10.203.0.12", 1)):
        for i in range(n):
            response = client.put(
                f"/services/rest/record/v1/customer/eid:c-{address}-{i}",
                json=body,
                environ_overrides={"REMOTE_ADDR": address},
            )
            assert response.status_code < 300, response.get_data(as_text=True)
    client.get(
        "/services/rest/record/v1/customer/eid:c-10.203.0.12-0", environ_overrides={"REMOTE_ADDR": "10.203.0.12"}
    )

    stats = client.get("/_sim/stats").get_json()
    assert stats["calls_by_client"] == {
        "10.203.0.11": {"PUT customer": 2},
        "10.203.0.12": {"PUT customer": 1, "GET customer": 1},
    }
    assert stats["calls_by_operation"] == {"PUT customer": 3, "GET customer": 1}
