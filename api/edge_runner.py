"""Running the app with its edge on one machine: ``make edge`` (``flask edge run``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

from api.config import ROOT
from api.services import edge

VCL_SOURCE = ROOT / "deploy" / "varnish" / "tarjuma.vcl"
SITE_FILE = "tarjuma-site.vcl"


def write_vcl(app: Flask, backend: str, out: Path) -> Path:
    """Copy the shipped VCL into ``out`` with the site include written from ``app``."""
    host, _, port = backend.rpartition(":")
    out.mkdir(parents=True, exist_ok=True)
    (out / SITE_FILE).write_text(edge.site_vcl(app, host or "127.0.0.1", int(port)))
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
        "-T",
        "none",
        "-f",
        str(vcl),
        "-p",
        f"vcl_path={vcl.parent}:/usr/share/varnish/vcl",
        "-s",
        "malloc,256m",
        *extra,
    ]


def _wait_for(host: str, port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)


def own_proxies(host: str) -> list[str]:
    """The addresses the edge's Varnish reaches the app from, when both run on ``host``.

    Varnish connects to the backend address it is given, so its requests come from that
    address; a wildcard host (``0.0.0.0``, ``::``) is reached over loopback.
    """
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - matching a wildcard, not binding one
        return ["127.0.0.1", "::1"]
    found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in found})


def serving_environ(host: str, port: int, edge_port: int) -> dict[str, str]:
    """The environment of the processes ``make edge`` starts: the app knows its edge."""
    trusted = [os.environ.get("TRUSTED_PROXIES", ""), *own_proxies(host)]
    return {
        **os.environ,
        "HOST": host,
        "PORT": str(port),
        "EDGE_PURGE_URLS": os.environ.get("EDGE_PURGE_URLS") or f"http://{host}:{edge_port}",
        # The app believes X-Forwarded-For from its own Varnish, and only as from a proxy.
        "TRUSTED_PROXIES": ",".join(filter(None, trusted)),
    }


def run(app: Flask, host: str, port: int, edge_port: int, directory: Path) -> int:
    """Start gunicorn, varnishd and the worker; stop them all on Ctrl-C or when one ends."""
    if shutil.which("varnishd") is None and not Path("/usr/sbin/varnishd").exists():
        print("varnishd is not installed: apt-get install varnish varnish-modules", file=sys.stderr)
        return 1
    vcl = write_vcl(app, f"{host}:{port}", directory)
    env = serving_environ(host, port, edge_port)
    commands = [
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        varnishd_command(vcl, directory / "varnish", f"{host}:{edge_port}"),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    for command in commands:
        if command[0] != sys.executable:
            # Varnish's health probe should find the app answering from the start.
            _wait_for(host, port, processes[0])
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        )
    print(f"Tarjuma on http://{host}:{port}, its edge on http://{host}:{edge_port}", flush=True)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        ended = [p for p in processes if p.poll() is not None]
        if ended:
            status = ended[0].returncode or 1
            break
        time.sleep(0.2)
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return 0 if stopping else status
