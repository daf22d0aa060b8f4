"""Several "machines" on this one: Linux network namespaces, one per host, joined by veth pairs to a bridge that
lives in a namespace of its own. The root namespace (where the benchmark's driver runs) is linked to the bridge
too, so the driver reaches every host. Every address is a private link address of 10.203.0.0/24; no namespace
has a default route and none forwards, so nothing leaves the machine. Created by the benchmark and removed
afterwards (`remove`, and `cleanup` for the leftovers of a crashed run).

    ss-br      bridge br0 (no address)
    ss-infra   10.203.0.2   PostgreSQL, Redis, the NetSuite simulator
    ss-web     10.203.0.3   web (gunicorn intake)
    ss-w1..3   10.203.0.11.. worker_orders, one per host
    root       10.203.0.1   the driver (link ss-root)
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

SUBNET = "10.203.0"
PREFIX = "ss-"
PREFIX_LEN = 24
MAX_WORKER_HOSTS = 3
# Every namespace this module may create (after the prefix): `cleanup` removes exactly these, nothing else.
NAMES = ("br", "infra", "web", *[f"w{i}" for i in range(1, MAX_WORKER_HOSTS + 1)])


@dataclass(frozen=True)
class Host:
    """One simulated machine: its network namespace (also its host name) and its address."""

    netns: str
    address: str

    def wrap(self, command: str) -> str:
        """A shell command that runs `command` (a Procfile line) on this host: in its network namespace, with
        its own host name (so Celery's `%h` names the host). Everything is exec'd: one process, the same pid."""
        inner = f"hostname {shlex.quote(self.netns)} && {command}"
        return f"exec ip netns exec {self.netns} unshare --uts bash -c {shlex.quote(inner)}"

    def pids(self) -> list[int]:
        """Every process in this host's network namespace (`ip netns pids`)."""
        out = _ip("netns", "pids", self.netns, check=False).stdout
        return [int(p) for p in out.split() if p.strip().isdigit()]

    def kill_all(self) -> list[int]:
        """SIGKILL every process of this host at once, as a machine losing power would lose them."""
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids


def _answers(address: str, port: int = 9) -> bool:
    try:
        socket.create_connection((address, port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return True


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def existing_namespaces(prefix: str = PREFIX) -> list[str]:
    ours = {f"{prefix}{name}" for name in NAMES}
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip() and line.split()[0] in ours]


@dataclass
class Network:
    """The namespaces, veths and addresses of one benchmark run (names `prefix` + infra, web, w1.., br; the
    root namespace's link `prefix` + root)."""

    worker_hosts: int
    prefix: str = PREFIX
    subnet: str = SUBNET

    @property
    def bridge_ns(self) -> str:
        return f"{self.prefix}br"

    @property
    def root_link(self) -> str:
        return f"{self.prefix}root"

    @property
    def root_address(self) -> str:
        return f"{self.subnet}.1"

    @property
    def infra(self) -> Host:
        return Host(f"{self.prefix}infra", f"{self.subnet}.2")

    @property
    def web(self) -> Host:
        return Host(f"{self.prefix}web", f"{self.subnet}.3")

    @property
    def workers(self) -> list[Host]:
        return [Host(f"{self.prefix}w{i}", f"{self.subnet}.{10 + i}") for i in range(1, self.worker_hosts + 1)]

    @property
    def hosts(self) -> list[Host]:
        return [self.infra, self.web, *self.workers]

    def create(self) -> Network:
        if not 1 <= self.worker_hosts <= MAX_WORKER_HOSTS:
            raise ValueError(f"1..{MAX_WORKER_HOSTS} worker hosts")
        leftovers = existing_namespaces(self.prefix)
        if leftovers or _ip("link", "show", self.root_link, check=False).returncode == 0:
            raise RuntimeError(f"leftovers of an earlier run ({leftovers or self.root_link}): run --cleanup first")
        routes = _ip("route", "show", check=False).stdout
        if f"{self.subnet}." in routes:
            raise RuntimeError(f"{self.subnet}.0/{PREFIX_LEN} is already routed on this machine: {routes.strip()}")
        br = self.bridge_ns
        try:
            _ip("netns", "add", br)
            _ip("-n", br, "link", "set", "lo", "up")
            _ip("-n", br, "link", "add", "br0", "type", "bridge")
            _ip("-n", br, "link", "set", "br0", "up")
            for host in self.hosts:
                self._add_host(host)
            # The driver's link: the root namespace gets one address on the subnet and its on-link route only.
            _ip("link", "add", self.root_link, "type", "veth", "peer", "name", "b-root", "netns", br)
            _ip("-n", br, "link", "set", "b-root", "master", "br0", "up")
            _ip("addr", "add", f"{self.root_address}/{PREFIX_LEN}", "dev", self.root_link)
            _ip("link", "set", self.root_link, "up")
            self._wait_reachable()
        except BaseException:
            self.remove()
            raise
        return self

    def _port(self, host: Host) -> str:
        return f"b-{host.netns.removeprefix(self.prefix)}"

    def _add_host(self, host: Host) -> None:
        _ip("netns", "add", host.netns)
        _ip("-n", host.netns, "link", "set", "lo", "up")
        port = self._port(host)
        # The host's MAC follows from its address: a host back after power_off is the same machine to its peers'
        # ARP caches (a new MAC would be unreachable until they expire).
        mac = "02:00:" + ":".join(f"{int(b):02x}" for b in host.address.split("."))
        _ip(
            "-n", self.bridge_ns, "link", "add", port, "type", "veth",
            "peer", "name", "eth0", "address", mac, "netns", host.netns,
        )  # fmt: skip
        _ip("-n", self.bridge_ns, "link", "set", port, "master", "br0", "up")
        _ip("-n", host.netns, "addr", "add", f"{host.address}/{PREFIX_LEN}", "dev", "eth0")
        _ip("-n", host.netns, "link", "set", "eth0", "up")

    def power_off(self, host: Host) -> list[int]:
        """The host vanishes as a machine losing power does: its link goes down first, so no host it talked to
        sees its connections close (no FIN, no RST); then every process dies and its namespace, sockets included,
        is deleted. Returns the pids killed."""
        _ip("-n", self.bridge_ns, "link", "set", self._port(host), "down")
        pids = host.kill_all()
        deadline = time.monotonic() + 10
        while host.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The host's cable, not only its switch port: the killed processes' orphaned sockets keep the namespace
        # (and its veth) alive while they retry their FINs, which go nowhere once the link is gone.
        _ip("-n", self.bridge_ns, "link", "del", self._port(host))
        _ip("netns", "del", host.netns)
        return pids

    def power_on(self, host: Host) -> None:
        """The host back after `power_off`: a new namespace with the same address, reachable again."""
        self._add_host(host)
        deadline = time.monotonic() + 10
        while not _answers(host.address):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host.netns} ({host.address}) does not answer after power_on")
            time.sleep(0.1)

    def _wait_reachable(self, timeout: float = 10.0) -> None:
        """Each host answers from the root namespace: a TCP connect to a closed port is refused (RST) once the
        link is up, and times out while it is not."""
        deadline = time.monotonic() + timeout
        for host in self.hosts:
            while not _answers(host.address):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{host.netns} ({host.address}) does not answer from the root namespace")
                time.sleep(0.1)

    def remove(self) -> list[str]:
        return cleanup(self.prefix)


def cleanup(prefix: str = PREFIX) -> list[str]:
    """Remove whatever a Network of this prefix creates (a crashed run's leftovers included): SIGKILL the
    processes still in its namespaces, delete the namespaces (their veths go with them) and the root link.
    Returns what it removed."""
    removed = []
    for netns in existing_namespaces(prefix):
        Host(netns, "").kill_all()
    for netns in existing_namespaces(prefix):
        deadline = time.monotonic() + 10
        while Host(netns, "").pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        _ip("netns", "del", netns, check=False)
        removed.append(netns)
    link = f"{prefix}root"
    if _ip("link", "show", link, check=False).returncode == 0:
        _ip("link", "del", link, check=False)
        removed.append(link)
    return removed
