"""Real servers for tests: the app under gunicorn, and varnishd in front of it (the edge).

Each binds a free loopback port and keeps its files in a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    command: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    mode: str = "wb",
) -> subprocess.Popen[bytes]:
    """A process in a session of its own (so ``stop`` ends it with its children), its output
    in ``log``."""
    with log.open(mode) as output:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """TERM to the process's group, then KILL to whatever is left of it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


class Client:
    """A tiny HTTP client for a base URL (no connection reuse, no redirects followed)."""

    base: str

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers=headers)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15,
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=data, headers=dict(headers or {}), method=method
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        status, _, data = self.request(
            "POST", path, body, headers={"Authorization": f"Bearer {token}"}
        )
        assert status < 300, (status, data)
        return json.loads(data)


class Instance(Client):
    """One app server: gunicorn with the production configuration, on a loopback port."""

    def __init__(self, url: str, name: str, port: int | None = None, **environ: str) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.gettempdir()) / f"tarjuma-{name}-{self.port}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "1",
            "SECRET_KEY": "test-secret",
            **environ,
        }
        self.start()

    def start(self) -> None:
        self.process = spawn(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            self.log,
            self.env,
            mode="ab",
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        output = self.log.read_text(errors="replace")[-3000:]
        raise AssertionError(f"{self.base} did not become ready in {timeout} s:\n{output}")

    def stop(self, keep_log: bool = False) -> None:
        stop(self.process)
        if not keep_log:
            self.log.unlink(missing_ok=True)


def require_varnish() -> None:
    if shutil.which("varnishd") is None and not Path("/usr/sbin/varnishd").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must test the edge: apt-get install varnish varnish-modules")
        pytest.skip("varnishd is not installed (apt-get install varnish varnish-modules)")


class Edge(Client):
    """varnishd with the shipped VCL in front of ``backend_port`` (or a director over several
    ports), in its own directory."""

    def __init__(
        self, app: Flask, backend_port: int | list[int], directory: Path, port: int | None = None
    ) -> None:
        from api.edge_runner import varnishd_command, write_vcl

        require_varnish()
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.directory = directory
        ports = backend_port if isinstance(backend_port, list) else [backend_port]
        vcl = write_vcl(app, [f"127.0.0.1:{p}" for p in ports], directory)
        self.workdir = directory / "varnish"
        self.log = directory / "varnishd.log"
        self.process = spawn(
            varnishd_command(vcl, self.workdir, f"127.0.0.1:{self.port}"), self.log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"varnishd did not start:\n{self.log.read_text()[-3000:]}")

    @property
    def purge_url(self) -> str:
        return self.base

    def stat(self, name: str) -> int:
        """A counter from varnishstat, e.g. ``MAIN.backend_req``."""
        output = subprocess.run(
            ["varnishstat", "-n", str(self.workdir), "-1", "-f", name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in output.splitlines():
            parts = line.split()
            if parts and parts[0] == name:
                return int(parts[1])
        raise AssertionError(f"no counter {name} in {output!r}")

    def stop(self) -> None:
        stop(self.process)


class PurgeProxy:
    """Stands between the app and an edge for purges: counts them, and can stop answering.

    ``paused``: purges are held without an answer (an edge that cannot be purged in time).
    """

    def __init__(self, edge_port: int) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.purges: list[dict[str, str]] = []
        self.paused = threading.Event()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_PURGE(self) -> None:  # noqa: N802 - the HTTP method's name
                proxy.purges.append(dict(self.headers))
                if proxy.paused.is_set():
                    proxy._release.wait(30)
                    self.close_connection = True
                    return
                connection = http.client.HTTPConnection("127.0.0.1", edge_port, timeout=10)
                try:
                    connection.request("PURGE", self.path, headers=dict(self.headers))
                    response = connection.getresponse()
                    body = response.read()
                finally:
                    connection.close()
                self.send_response(response.status, response.reason)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
