"""bench/multihost's hosts on one machine: network namespaces joined through a bridge, each host reachable at its
own address from the others and from the root namespace, no route anywhere else, a whole host killed at once,
and nothing left behind once removed. Its own prefix and subnet, so a benchmark running meanwhile is untouched."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time

from bench.multihost.network import Network, existing_namespaces

PREFIX = "sst-"
SUBNET = "10.203.1"
PORT = 8099
# Answers each connection with the host name it runs under and the address the client came from.
SERVER = (
    "import socket\n"
    "s = socket.create_server((ADDRESS, PORT))\n"
    "while True:\n"
    "    c, peer = s.accept()\n"
    "    c.sendall(f'{socket.gethostname()} {peer[0]}'.encode())\n"
    "    c.close()\n"
)


def _ask(address: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection((address, PORT), timeout=2) as conn:
                return conn.recv(200).decode()
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _run_in(netns: str, code: str) -> str:
    result = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", code], capture_output=True, text=True, timeout=20
    )
    return result.stdout.strip() + result.stderr.strip()


def test_hosts_reach_each_other_only_and_are_removed() -> None:
    net = Network(2, prefix=PREFIX, subnet=SUBNET)
    server = None
    try:
        net.create()
        assert sorted(existing_namespaces(PREFIX)) == sorted(f"{PREFIX}{n}" for n in ("br", "infra", "web", "w1", "w2"))
        infra = net.infra.address
        code = SERVER.replace("ADDRESS", repr(infra)).replace("PORT", str(PORT))
        server = subprocess.Popen(["bash", "-c", net.infra.wrap(f"exec {sys.executable} -c {shlex.quote(code)}")])

        assert _ask(infra) == f"{PREFIX}infra {net.root_address}"  # from the driver's root namespace
        ask = (
            f"import socket; c = socket.create_connection(({infra!r}, {PORT}), timeout=2); print(c.recv(200).decode())"
        )
        assert _run_in(f"{PREFIX}w1", ask) == f"{PREFIX}infra {SUBNET}.11"  # host to host, its own address
        # No default route in a host: nothing leaves the machine.
        assert (
            subprocess.run(
                ["ip", "-n", f"{PREFIX}w1", "route", "show", "default"], capture_output=True, text=True
            ).stdout
            == ""
        )
        outside = (
            "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
            "except OSError as e:\n    print(e.errno)"
        )
        assert _run_in(f"{PREFIX}w2", outside) == "101"  # ENETUNREACH

        assert net.infra.kill_all() == [server.pid]  # everything in the host's namespace, and only that
        assert server.wait(10) == -9
        assert net.infra.pids() == []

        # A host that loses power and comes back: gone from the network, then the same address answers again.
        w2 = net.workers[1]
        net.power_off(w2)
        assert f"{PREFIX}w2" not in existing_namespaces(PREFIX)
        net.power_on(w2)
        assert _run_in(f"{PREFIX}w2", outside) == "101"  # back, and still nothing beyond the subnet
    finally:
        removed = net.remove()
        if server is not None and server.poll() is None:
            server.kill()
    assert f"{PREFIX}root" in removed
    assert existing_namespaces(PREFIX) == []
    assert subprocess.run(["ip", "link", "show", f"{PREFIX}root"], capture_output=True).returncode != 0
