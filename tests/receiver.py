"""A real HTTP receiver for webhook tests: a local server on a free port that records requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (then 200).

    ``hold``: while set, a request waits (up to 30 s) before it is answered.
    ``delay``: seconds to wait before answering. ``answer_body``: the body it answers with.
    """

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    answer_body: bytes = b"ok"
    headers_out: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    on_request: Callable[[Received], None] | None = None

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                item = Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                receiver.requests.append(item)
                if receiver.on_request:
                    receiver.on_request(item)
                if receiver.hold.is_set():
                    receiver.release.wait(30)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                for key, value in receiver.headers_out.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                try:
                    self.wfile.write(receiver.answer_body)
                except OSError:
                    pass

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} of {count} requests arrived")
            time.sleep(0.02)
        return self.requests


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
