"""Running the app with its edges on one machine: ``make edge`` and ``make cluster``
(``flask edge run``): one or several app nodes, workers and Varnish edges."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from api.config import ROOT
from api.services.outbound import edge

VCL_SOURCE = ROOT / "deploy" / "varnish" / "tarjuma.vcl"
SITE_FILE = "tarjuma-site.vcl"


def parse_backend(backend: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a host and a port."""
    host, _, port = backend.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def write_vcl(app: Flask, backends: str | Sequence[str], out: Path) -> Path:
    """Copy the shipped VCL into ``out`` with the site include written from ``app``."""
    nodes = [parse_backend(b) for b in ([backends] if isinstance(backends, str) else backends)]
    out.mkdir(parents=True, exist_ok=True)
    (out / SITE_FILE).write_text(edge.site_vcl(app, nodes))
    target = out / VCL_SOURCE.name
    shutil.copyfile(VCL_SOURCE, target)
    return target


def varnishd_command(vcl: Path, workdir: Path, listen: str, *extra: str) -> list[str]:
    """varnishd in the foreground, with its own working directory and no privilege drop."""
    varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
    return [
        varnishd,
        "-F",
        "-j",
        "none",
        "-n",
        str(workdir),
        "-a",
        listen,
        # The management CLI on a loopback port of its own choosing, for
        # `varnishadm -n DIR backend.list` (its secret is in DIR).
        "-T",
        "127.0.0.1:0",
        "-f",
        str(vcl),
        "-p",
        f"vcl_path={vcl.parent}:/usr/share/varnish/vcl",
        "-s",
        "malloc,256m",
        *extra,
    ]


def _address(host: str) -> str:
    """Where to reach a server bound to ``host`` from this machine, as a URL's host part."""
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - matching a wildcard, not binding one
        host = "127.0.0.1" if host != "::" else "::1"
    return f"[{host}]" if ":" in host else host


def _wait_healthy(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Until the app answers /healthz with 200: a listening socket is not enough.

    gunicorn's master listens before its workers have imported the app; a probe sent then
    waits, times out, and Varnish would hold the node for sick.
    """
    url = f"http://{_address(host)}:{port}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own app
                if response.status == 200:
                    return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    return False


def own_proxies(host: str) -> list[str]:
    """The addresses the edge's Varnish reaches the app from, when both run on ``host``.

    Varnish connects to the backend address it is given, so its requests come from that
    address; a wildcard host (``0.0.0.0``, ``::``) is reached over loopback.
    """
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - matching a wildcard, not binding one
        return ["127.0.0.1", "::1"]
    found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in found})


def serving_environ(host: str, port: int, *edge_ports: int) -> dict[str, str]:
    """The environment of the processes ``make edge`` starts: the app knows its edges."""
    trusted = [os.environ.get("TRUSTED_PROXIES", ""), *own_proxies(host)]
    edges = ",".join(f"http://{_address(host)}:{edge_port}" for edge_port in edge_ports)
    return {
        **os.environ,
        "HOST": host,
        "PORT": str(port),
        # Every node purges every edge.
        "EDGE_PURGE_URLS": os.environ.get("EDGE_PURGE_URLS") or edges,
        # The app believes X-Forwarded-For from its own Varnish, and only as from a proxy.
        "TRUSTED_PROXIES": ",".join(filter(None, trusted)),
        # Threads, so that a probe is not queued behind every slow request (see the VCL).
        "GUNICORN_THREADS": os.environ.get("GUNICORN_THREADS") or "4",
    }


@dataclass
class Layout:
    """What ``flask edge run`` serves: app nodes, edges and workers on consecutive ports."""

    host: str
    port: int
    edge_port: int
    nodes: int = 1
    edges: int = 1
    workers: int = 1

    @property
    def node_ports(self) -> list[int]:
        return [self.port + i for i in range(self.nodes)]

    @property
    def edge_ports(self) -> list[int]:
        return [self.edge_port + i for i in range(self.edges)]


@dataclass
class _Process:
    name: str
    kind: str
    popen: subprocess.Popen[bytes]
    address: str = ""


def _start(name: str, kind: str, command: list[str], env: dict[str, str]) -> _Process:
    popen = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    return _Process(name, kind, popen)


def run(app: Flask, layout: Layout, directory: Path) -> int:
    """Start the app nodes (gunicorn), the workers and the edges (varnishd); stop them all on
    Ctrl-C, or when every process of one kind has ended."""
    if shutil.which("varnishd") is None and not Path("/usr/sbin/varnishd").exists():
        print("varnishd is not installed: apt-get install varnish varnish-modules", file=sys.stderr)
        return 1
    host = layout.host
    # Workers finish the jobs under way before they stop: wait for them longer than that.
    stop_wait = max(15.0, float(app.config["WORKER_STOP_TIMEOUT"]) + 5)
    vcl = write_vcl(app, [f"{_address(host)}:{port}" for port in layout.node_ports], directory)
    base = serving_environ(host, layout.port, *layout.edge_ports)
    # One metrics directory per node, shared by its gunicorn workers and the workers
    # started beside it: each node's /metrics counts its own.
    metrics = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or directory / "metrics")

    def node_environ(index: int) -> dict[str, str]:
        node_metrics = metrics if layout.nodes == 1 else metrics / f"node-{index + 1}"
        node_metrics.mkdir(parents=True, exist_ok=True)
        port = layout.node_ports[index]
        return {**base, "PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(node_metrics)}

    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
    worker = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    processes: list[_Process] = []
    for index, port in enumerate(layout.node_ports):
        node = _start(f"app node {index + 1}", "node", gunicorn, node_environ(index))
        node.address = f"http://{_address(host)}:{port}"
        processes.append(node)
    for index in range(layout.workers):
        env = node_environ(index % layout.nodes)
        processes.append(_start(f"worker {index + 1}", "worker", worker, env))
    started = time.monotonic()
    for node in processes[: layout.nodes]:
        left = 60 - (time.monotonic() - started)
        if not _wait_healthy(host, int(node.address.rpartition(":")[2]), node.popen, left):
            print(f"{node.name} did not answer {node.address}/healthz", file=sys.stderr)
            _stop_all(processes, stop_wait)
            return 1
    # Varnish starts once every node answers: its probes find them healthy from the first.
    for index, port in enumerate(layout.edge_ports):
        workdir = directory / ("varnish" if layout.edges == 1 else f"varnish-{index + 1}")
        listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        edge = _start(f"edge {index + 1}", "edge", varnishd_command(vcl, workdir, listen), base)
        edge.address = f"http://{_address(host)}:{port}"
        processes.append(edge)
    # Addresses are printed once each edge serves: its first reader is answered.
    for edge in processes[-layout.edges :]:
        left = 60 - (time.monotonic() - started)
        if not _wait_healthy(host, int(edge.address.rpartition(":")[2]), edge.popen, left):
            print(f"{edge.name} did not answer {edge.address}/healthz", file=sys.stderr)
            _stop_all(processes, stop_wait)
            return 1
    for process in processes:
        where = f" {process.address}" if process.address else ""
        print(f"{process.name}{where} (pid {process.popen.pid})", flush=True)
    print("Ctrl-C stops them all.", flush=True)
    return _supervise(processes, stop_wait)


def _supervise(processes: list[_Process], stop_wait: float) -> int:
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            # A second Ctrl-C is the workers' second signal: they stop at once.
            for process in processes:
                if process.kind == "worker" and process.popen.poll() is None:
                    os.killpg(process.popen.pid, signal.SIGTERM)
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    reported: set[int] = set()
    while not stopping:
        for process in processes:
            code = process.popen.poll()
            if code is not None and process.popen.pid not in reported:
                reported.add(process.popen.pid)
                print(f"{process.name} has ended (status {code})", file=sys.stderr, flush=True)
        kinds = {process.kind for process in processes}
        gone = [
            kind
            for kind in kinds
            if all(p.popen.poll() is not None for p in processes if p.kind == kind)
        ]
        if gone:
            # Without any node, edge or worker there is no service: stop the rest too.
            status = next(p.popen.returncode for p in processes if p.kind == gone[0]) or 1
            break
        time.sleep(0.2)
    _stop_all(processes, stop_wait)
    return 0 if stopping else status


def _stop_all(processes: list[_Process], stop_wait: float) -> None:
    for process in processes:
        if process.popen.poll() is None:
            os.killpg(process.popen.pid, signal.SIGTERM)
    deadline = time.monotonic() + stop_wait
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait()
