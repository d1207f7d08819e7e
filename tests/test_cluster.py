"""Several machines on one: ``flask edge run`` (``make edge``, ``make cluster``) with real
gunicorn nodes, workers and varnishd edges on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from api.extensions import db
from tests.cluster import Cluster, start_cluster
from tests.conftest import PostgresDatabases, _config, make_person
from tests.edge_stack import ESSAY, INTRO

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
        }
        db.session.remove()
        db.engine.dispose()
    yield url, tokens
    postgres_databases.drop(url)


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
