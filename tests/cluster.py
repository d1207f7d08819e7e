"""A cluster on one machine, as ``make cluster`` starts it: ``flask edge run`` with several
app nodes (gunicorn), workers and edges (varnishd), for tests that break parts of it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import Client, require_varnish, spawn

READY = "Ctrl-C stops them all."
_LINE = re.compile(
    r"^(?P<name>app node|edge|worker) (?P<index>\d+)(?: (?P<url>\S+))? \(pid (?P<pid>\d+)\)$"
)


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that are free now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise AssertionError(f"no {count} consecutive free ports")


class Part(Client):
    """One process of the cluster: an app node, an edge or a worker."""

    def __init__(self, name: str, url: str, pid: int) -> None:
        self.name = name
        self.base = url
        self.pid = pid

    def kill(self) -> None:
        """SIGKILL, the process and every process it started (gunicorn's workers)."""
        os.killpg(self.pid, signal.SIGKILL)

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    log: Path
    workdir: Path
    nodes: list[Part] = field(default_factory=list)
    edges: list[Part] = field(default_factory=list)
    workers: list[Part] = field(default_factory=list)
    restarted: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def edge_workdir(self, index: int) -> Path:
        return self.workdir / ("varnish" if len(self.edges) == 1 else f"varnish-{index + 1}")

    def stat(self, index: int, name: str) -> int:
        """A counter of edge ``index`` from varnishstat, e.g. ``MAIN.backend_retry`` (a glob
        such as ``VBE.*.tarjuma_node1.req``: the sum of the counters it names)."""
        output = subprocess.run(
            ["varnishstat", "-n", str(self.edge_workdir(index)), "-1", "-f", name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        counts = [int(line.split()[1]) for line in output.splitlines() if line.strip()]
        assert counts, f"no counter {name}"
        return sum(counts)

    def backends(self, index: int) -> str:
        """``varnishadm backend.list`` of edge ``index``: each node's health as it sees it."""
        return subprocess.run(
            ["varnishadm", "-n", str(self.edge_workdir(index)), "backend.list"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def restart_edge(self, index: int, timeout: float = 30) -> Part:
        """Start edge ``index`` again once it has ended, as a service manager would: the same
        VCL, working directory and address. The runner does not restart it; ``stop`` ends it."""
        from api.edge_runner import varnishd_command

        old = self.edges[index]
        wait_until(lambda: not old.alive, timeout, f"{old.name} is still running")
        listen = old.base.removeprefix("http://")
        command = varnishd_command(self.workdir / "tarjuma.vcl", self.edge_workdir(index), listen)
        log = self.workdir / f"edge-{index + 1}-restarted.log"
        process = spawn(command, log)
        self.restarted.append(process)
        edge = self.edges[index] = Part(old.name, old.base, process.pid)

        def serves() -> bool:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                return edge.request("GET", "/healthz", timeout=2)[0] == 200
            except OSError:
                return False

        wait_until(serves, timeout, f"{old.name} did not serve again")
        return edge

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; the runner's status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for part in (*self.nodes, *self.edges, *self.workers):
            if part.alive:
                os.killpg(part.pid, signal.SIGKILL)
        for process in self.restarted:
            process.wait()
        return self.process.returncode


def wait_until(condition: Callable[[], object], timeout: float, failure: str) -> None:
    """Until ``condition()`` is true, checked every 50 ms; fails with ``failure`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def start_cluster(
    workdir: Path, *, nodes: int, edges: int, workers: int, timeout: float = 90, **environ: str
) -> Cluster:
    """``flask edge run --nodes … --edges … --workers …`` on free consecutive ports, once it
    has printed every address (it does so only when every node answers)."""
    require_varnish()
    port, edge_port = free_ports(nodes), free_ports(edges)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "edge", "run"]
    command += ["--port", str(port), "--edge-port", str(edge_port), "--workdir", str(workdir)]
    command += ["--nodes", str(nodes), "--edges", str(edges), "--workers", str(workers)]
    env = {**os.environ, **environ}
    for name in ("TRUSTED_PROXIES", "EDGE_PURGE_URLS", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    log = workdir / "cluster.log"
    workdir.mkdir(parents=True, exist_ok=True)
    process = spawn(command, log, env)
    cluster = Cluster(process, log, workdir)
    deadline = time.monotonic() + timeout
    while READY not in cluster.output():
        if process.poll() is not None or time.monotonic() > deadline:
            cluster.stop()
            raise AssertionError(f"the cluster did not start:\n{cluster.output()[-4000:]}")
        time.sleep(0.1)
    for line in cluster.output().splitlines():
        if match := _LINE.match(line.strip()):
            part = Part(f"{match['name']} {match['index']}", match["url"] or "", int(match["pid"]))
            {"app node": cluster.nodes, "edge": cluster.edges, "worker": cluster.workers}[
                match["name"]
            ].append(part)
    assert (len(cluster.nodes), len(cluster.edges), len(cluster.workers)) == (
        nodes,
        edges,
        workers,
    ), cluster.output()
    return cluster
