"""Several machines on one: ``flask edge run`` (``make edge``, ``make cluster``) with real
gunicorn nodes, workers and varnishd edges on PostgreSQL."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api import create_app
from api.extensions import db
from tests.cluster import Cluster, Part, start_cluster, wait_until
from tests.conftest import SLUG, PostgresDatabases, _config, make_person
from tests.edge_stack import ESSAY, INTRO
from tests.receiver import Receiver
from tests.servers import Edge

pytestmark = pytest.mark.multiprocess

SECTIONS = [
    "introduction",
    "strategic-alliances-and-diplomacy",
    "enhanced-intelligence-capabilities",
    "technological-advancements-in-defense",
    "active-participation-in-international-forums",
    "conclusion",
]
LOCALES = ["ar", "fa", "fr", "id", "ms", "tr", "ur", "en"]
# Every section in every locale: distinct URLs, each a miss on first read, spread by the
# edges over both nodes.
READS = [f"{ESSAY}/sections/{key}?locale={code}" for key in SECTIONS for code in LOCALES]


def read(through: Any, path: str) -> dict[str, Any]:
    status, _, body = through.get(path)
    assert status == 200, (through.base, path, status, body[:300])
    return json.loads(body)


@pytest.fixture
def people_on(postgres_databases: PostgresDatabases) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh PostgreSQL database, and a translator's and a reviewer's tokens on it."""
    url = postgres_databases.new()
    app = create_app(_config(url))
    with app.app_context():
        tokens = {
            "translator": make_person(app, "tariq", "translator", "ar").token,
            "reviewer": make_person(app, "rania", "reviewer", "ar").token,
            "admin": make_person(app, "ada", "admin").token,
        }
        db.session.remove()
        db.engine.dispose()
    yield url, tokens
    postgres_databases.drop(url)


def approve(through: Part, version_id: int, token: str) -> dict[str, str]:
    """Approve through ``through``; the response's headers."""
    status, headers, body = through.request(
        "POST",
        f"/api/v1/translations/{version_id}/approve",
        {},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 200, (status, body)
    return headers


def change(through: Part, tokens: dict[str, str], body: str) -> dict[str, str]:
    """A new Arabic text of the introduction, submitted and approved through ``through``;
    the approval's response headers."""
    created = through.post(
        f"{INTRO}/translations",
        {"locale": "ar", "body": body, "source_revision": 1},
        tokens["translator"],
    )
    return approve(through, created["id"], tokens["reviewer"])


def rows(url: str, query: str) -> list[Any]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(query)))
    finally:
        engine.dispose()


def purge_states(url: str) -> set[str]:
    """The states of the edge purge jobs: ``done`` once a purge reached every edge."""
    return {state for (state,) in rows(url, "SELECT state FROM jobs WHERE kind = 'edge.purge'")}


def environ(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "WEB_CONCURRENCY": "1",
        "EDGE_PURGE_TIMEOUT": "5",
    }


@pytest.mark.postgres
def test_the_first_read_after_make_edge_prints_its_addresses_is_served(
    people_on: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    cluster = start_cluster(tmp_path, nodes=1, edges=1, workers=1, **environ(people_on[0]))
    try:
        # No waiting and no second try: the edge holds the app for healthy from its start.
        assert read(cluster.edges[0], f"{INTRO}?locale=ar")["locale"] == "ar"
        assert "healthy" in cluster.backends(0).lower(), cluster.backends(0)
    finally:
        assert cluster.stop() == 0, cluster.output()


@pytest.mark.postgres
def test_two_nodes_behind_two_edges_survive_a_node_killed(
    people_on: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = people_on
    cluster: Cluster = start_cluster(tmp_path, nodes=2, edges=2, workers=1, **environ(url))
    try:
        one, two = cluster.edges
        before = read(two, f"{INTRO}?locale=ar")["body"]  # now held by edge two
        created = one.post(
            f"{ESSAY}/sections/introduction/translations",
            {"locale": "ar", "body": before + " (٢)", "source_revision": 1},
            tokens["translator"],
        )
        status, headers, body = one.request(
            "POST",
            f"/api/v1/translations/{created['id']}/approve",
            {},
            headers={"Authorization": f"Bearer {tokens['reviewer']}"},
        )
        assert status == 200, body
        assert "Edge-Purge" not in headers, headers
        # Approved through one edge, read through the other: every node purged every edge.
        assert read(two, f"{INTRO}?locale=ar")["body"] == before + " (٢)"
        # Both nodes serve: each edge spreads its misses over them.
        for path in READS[:16]:
            read(one, path)
        fetched = [cluster.stat(0, f"VBE.*.tarjuma_node{n}.req") for n in (1, 2)]
        assert all(count > 0 for count in fetched), fetched

        cluster.nodes[0].kill()
        failed = sum(cluster.stat(i, "MAIN.fetch_failed") for i in (0, 1))
        for path in READS:
            for edge in (one, two):
                read(edge, path)
        assert read(one, f"{INTRO}?locale=ar")["body"] == before + " (٢)"
        # Misses reached the dead node before its probe said so (the probe takes seconds):
        # their fetches failed, were retried on the other node, and no reader saw an error.
        assert sum(cluster.stat(i, "MAIN.fetch_failed") for i in (0, 1)) > failed
        assert cluster.process.poll() is None, cluster.output()
        assert "app node 1 has ended (status -9)" in cluster.output()
    finally:
        status = cluster.stop()
    assert status == 0, cluster.output()
    assert not any(part.alive for part in (*cluster.nodes, *cluster.edges, *cluster.workers))


FRESH_BY = re.compile(r"^failed; fresh-by=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$")


@pytest.mark.postgres
def test_an_edge_killed_leaves_approvals_served_and_told_and_comes_back_fresh(
    people_on: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = people_on
    cluster = start_cluster(tmp_path, nodes=1, edges=2, workers=1, **environ(url))
    try:
        one, two = cluster.edges
        before = read(one, f"{INTRO}?locale=ar")["body"]
        assert read(two, f"{INTRO}?locale=ar")["body"] == before  # both edges hold it

        two.kill()
        wait_until(lambda: not two.alive, 10, "edge 2 did not end")
        for n in (1, 2):
            text = f"{before} ({n})"
            started = datetime.now(UTC)
            headers = change(one, tokens, text)
            # Committed and answered; the writer is told that an edge was not purged, and
            # until when it may hold the old text (the edge TTL, default 300 s).
            told = FRESH_BY.match(headers.get("Edge-Purge", ""))
            assert told, headers
            fresh_by = datetime.fromisoformat(told[1].replace("Z", "+00:00"))
            assert started < fresh_by <= datetime.now(UTC) + timedelta(seconds=301), told[0]
            # The edge that is still up was purged: it serves the change at once.
            assert read(one, f"{INTRO}?locale=ar")["body"] == text
        assert cluster.process.poll() is None, cluster.output()
        wait_until(lambda: "edge 2 has ended (status -9)" in cluster.output(), 10, "not told")

        two = cluster.restart_edge(1)
        assert read(two, f"{INTRO}?locale=ar")["body"] == f"{before} (2)"
        # The worker went on purging every edge until each change's purge reached them all.
        wait_until(
            lambda: purge_states(url) == {"done"},
            60,
            "the purges the dead edge missed were not retried to the end",
        )
        headers = change(one, tokens, f"{before} (3)")
        assert "Edge-Purge" not in headers, headers
        for edge in (one, two):
            assert read(edge, f"{INTRO}?locale=ar")["body"] == f"{before} (3)"
    finally:
        status = cluster.stop()
    assert status == 0, cluster.output()


def crowd_urls() -> list[tuple[str, dict[str, str]]]:
    """Hundreds of distinct public reads the edge caches apart: sections in every locale,
    asked by ``?locale=`` and by Accept-Language, and pages of the essay list of every size."""
    urls = [(path, {}) for path in READS]
    urls += [
        (f"{ESSAY}/sections/{key}", {"Accept-Language": code})
        for key in SECTIONS
        for code in LOCALES
    ]
    urls += [(f"{ESSAY}?locale={code}", {}) for code in LOCALES]
    urls += [(f"/api/v1/essays/{SLUG}/badge.svg?locale={code}", {}) for code in LOCALES]
    urls += [
        (f"/api/v1/essays?locale={code}&per_page={size}", {})
        for code in LOCALES
        for size in range(1, 51)
    ]
    return urls


def happy(cluster: Cluster, node: int) -> int:
    """Edge 0's record of the last 64 probes of ``node``: one bit each, 1 for a good one."""
    return cluster.stat(0, f"VBE.*.tarjuma_node{node}.happy")


@pytest.mark.postgres
def test_a_crowd_of_misses_through_one_edge_gets_no_error_and_sickens_no_node(
    people_on: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    cluster = start_cluster(tmp_path, nodes=2, edges=1, workers=1, **environ(people_on[0]))
    try:
        edge = cluster.edges[0]
        host, port = edge.base.removeprefix("http://").rsplit(":", 1)
        urls = crowd_urls()
        assert len({(path, str(headers)) for path, headers in urls}) == len(urls) > 400
        misses = cluster.stat(0, "MAIN.cache_miss")
        local = threading.local()
        connections: list[http.client.HTTPConnection] = []

        def fetch(item: tuple[str, dict[str, str]]) -> tuple[int, str]:
            # 64 keep-alive connections, as 64 clients.
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection(host, int(port), timeout=30)
                connections.append(local.connection)
            path, headers = item
            local.connection.request("GET", path, headers=headers)
            response = local.connection.getresponse()
            response.read()
            return response.status, path

        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=64) as pool:
                answers = list(pool.map(fetch, urls))
        finally:
            for connection in connections:
                connection.close()
        took = time.monotonic() - started
        statuses = Counter(status for status, _ in answers)
        assert statuses == {200: len(urls)}, [a for a in answers if a[0] != 200][:10]
        # Varnish's threads add their counts to the shared counters in batches, at the latest
        # once idle: every read was a miss, and none of their fetches failed.
        wait_until(
            lambda: cluster.stat(0, "MAIN.cache_miss") - misses >= len(urls),
            10,
            f"fewer misses than the {len(urls)} distinct reads",
        )
        assert cluster.stat(0, "MAIN.fetch_failed") == 0

        # No node marked sick, and no probe failed while the crowd was served: once a probe
        # has ended after it (a probe under way waits up to 5 s), every probe is a 1.
        served = [happy(cluster, node) for node in (1, 2)]
        wait_until(
            lambda: all(happy(cluster, node) != served[node - 1] for node in (1, 2)),
            20,
            "no probe since the crowd",
        )
        for node in (1, 2):
            bits = happy(cluster, node)
            assert bits & (bits + 1) == 0, (node, bin(bits), took, cluster.backends(0))
        listing = cluster.backends(0)
        for node in (1, 2):
            assert re.search(rf"tarjuma_node{node} .* 5/5 +healthy", listing), listing
    finally:
        status = cluster.stop()
    assert status == 0, cluster.output()


@pytest.mark.postgres
def test_a_worker_killed_mid_delivery_loses_no_webhook_event(
    people_on: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = people_on
    env = {
        **environ(url),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1",
        "WORKER_THREADS": "2",
        "WORKER_POLL_INTERVAL": "0.05",
    }
    cluster = start_cluster(tmp_path, nodes=1, edges=1, workers=2, **env)
    try:
        with Receiver() as receiver:
            receiver.hold.set()  # every delivery waits for an answer until released
            node, edge = cluster.nodes[0], cluster.edges[0]
            node.post(
                "/api/v1/webhooks",
                {"url": receiver.url, "events": ["translation.submitted", "translation.published"]},
                tokens["admin"],
            )
            before = read(edge, f"{INTRO}?locale=ar")["body"]
            for n in range(6):  # twelve events: six texts, each submitted, then published
                change(edge, tokens, f"{before} ({n})")
            events = 12

            # Two workers of two threads each: four deliveries held means each worker is in
            # the middle of two.
            receiver.wait_for(4)
            killed = cluster.workers[0]
            killed.kill()
            wait_until(lambda: not killed.alive, 10, "worker 1 did not end")
            receiver.hold.clear()
            receiver.release.set()

            def succeeded() -> int:
                query = "SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded'"
                return int(rows(url, query)[0][0])

            # The other worker goes on at once with everything but the two the dead one
            # holds; those are its again when their lease (60 s) runs out.
            wait_until(lambda: succeeded() >= events - 2, 30, "the other worker stopped")
            wait_until(lambda: succeeded() == events, 120, "the dead worker's deliveries")
            assert cluster.workers[1].alive
            assert "worker 1 has ended (status -9)" in cluster.output()

        ids = Counter(request.headers["webhook-id"] for request in receiver.requests)
        assert len(ids) == events, ids
        # At least once: the two cut short arrived again, with the same id.
        assert sum(ids.values()) - len(ids) >= 2, ids
        types = Counter(json.loads(r.body)["type"] for r in receiver.requests)
        assert set(types) == {"translation.submitted", "translation.published"}, types
    finally:
        status = cluster.stop()
    assert status == 0, cluster.output()


class DyingNode:
    """An app node that answers its probe, then dies in the middle of its first read: the
    status line, headers and part of the body are sent, then the connection is reset and
    the port refuses everyone from then on, as when a node is SIGKILLed mid-response."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.cut: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.cut is None:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                path = request.split(b" ", 2)[1].decode() if request.count(b" ") >= 2 else ""
                if path == "/healthz":
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    continue
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 4000\r\n\r\n{"from": "dying", "text": "'
                )
                time.sleep(0.05)  # the edge has the headers before the node dies
                self.cut = path
                # RST, not FIN: a process killed with its socket's data unread.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        self.listener.close()

    def stop(self) -> None:
        self.cut = self.cut or "stopped"
        with contextlib.suppress(OSError):
            self.listener.close()


class LiveNode:
    """An app node that answers every request."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = json.dumps({"from": "live", "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("reader", ["anonymous", "signed in"])
def test_a_node_that_dies_in_the_middle_of_a_response_costs_no_reader_an_error(
    reader: str, tmp_path: Path
) -> None:
    """The edge has the node's status and headers, then the node dies: the reader must not
    get a truncated body (the edge passes it on as it comes) but the other node's answer."""
    app = create_app(_config(f"sqlite:///{tmp_path / 'vcl.db'}"))
    dying, live = DyingNode(), LiveNode()
    edge = Edge(app, [dying.port, live.port], tmp_path)
    headers = {"Authorization": "Bearer tj_reader"} if reader == "signed in" else {}
    try:
        # The director spreads URLs over both nodes: read until one was the dying node's.
        for page in range(1, 200):
            path = f"/api/v1/essays?page={page}"
            status, _, body = edge.get(path, **headers)
            assert (status, json.loads(body)) == (200, {"from": "live", "path": path})
            if dying.cut is not None:
                assert dying.cut == path
                break
        assert dying.cut is not None, "no read reached the dying node"
    finally:
        edge.stop()
        dying.stop()
        live.stop()
