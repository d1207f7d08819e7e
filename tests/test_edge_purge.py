"""What a change purges at the edge, derived from its events (no varnishd needed here)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from api.extensions import db
from api.models import Job
from api.services.outbound import edge
from tests.conftest import SLUG, Person, make_person


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def app_config() -> dict[str, Any]:
    # An edge that refuses connections: every purge fails at once.
    return {"EDGE_PURGE_URLS": [f"http://127.0.0.1:{_closed_port()}"], "EDGE_TTL": 300}


def _jobs(app: Flask) -> list[Job]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(Job).where(Job.kind == edge.JOB_KIND)))
        db.session.expunge_all()
        return found


def test_one_purge_job_per_change_from_its_events(app: Flask) -> None:
    admin: Person = make_person(app, "ada", "admin")
    assert _jobs(app) == []  # a user and a token are nothing readers see
    client = app.test_client()
    url = f"/api/v1/essays/{SLUG}/sections/introduction"
    etag = client.get(url, query_string={"locale": "en"}).headers["ETag"]
    edited = client.put(url, json={"body": "Edited."}, headers={**admin.headers, "If-Match": etag})
    assert edited.status_code == 200
    outcome = edited.headers["Edge-Purge"]
    assert outcome.startswith("failed; fresh-by=") and outcome.endswith("Z")
    (job,) = _jobs(app)
    assert job.state == "pending" and job.payload["fresh_by"] == outcome.split("=", 1)[1]
    # ...and every search that reads English text (English readers', and the fallbacks').
    assert set(job.payload["tags"]) == {"essays", "e1//en", "e1/introduction/en", "search/en"}
    assert job.payload["essays"] == [SLUG]
    # A refused edit changes nothing, and purges nothing.
    assert client.put(url, json={"body": "x"}, headers=admin.headers).status_code == 428
    assert len(_jobs(app)) == 1


def test_purge_mapping_by_event_fields() -> None:
    purge = edge.Purge()
    purge.add_event(None, None, None, None)
    assert purge.empty
    purge.add_event(3, "a", "intro", "ar")
    purge.add_event(3, "a", None, "fr")
    purge.add_event(4, "b", None, None)
    assert purge.tags == {"essays", "e3//ar", "e3/intro/ar", "e3/fr", "e4"}
    assert purge.fence() == "a b"
    for n in range(edge.MAX_FENCED_ESSAYS):
        purge.add_event(10 + n, f"s{n}", None, None)
    assert purge.fence() == "*"
    everywhere = edge.Purge()
    everywhere.add_event(None, None, None, "ar")
    assert everywhere.tags == {"all"} and everywhere.fence() == "*"


def test_representation_tags_name_every_stamp_scope() -> None:
    assert edge.representation_tags(7, "", ["ms", "id", "en"]).split() == [
        "all",
        "e7",
        "e7/ms",
        "e7//ms",
        "e7/id",
        "e7//id",
        "e7/en",
        "e7//en",
    ]


def test_a_release_purges_what_depends_on_its_locale(app: Flask) -> None:
    admin = make_person(app, "ada", "admin")
    client = app.test_client()
    staged = client.put(
        f"/api/v1/essays/{SLUG}/locales/id", json={"state": "staged"}, headers=admin.headers
    )
    assert staged.status_code == 200, staged.get_json()
    assert staged.headers["Edge-Purge"].startswith("failed; fresh-by=")
    (job,) = _jobs(app)
    # Indonesian, and Malay which falls back to it: every representation tagged e1/id.
    assert set(job.payload["tags"]) == {"essays", "e1/id", "search/id"}
    assert job.payload["essays"] == [SLUG]


def test_several_edges_are_purged_at_once_and_each_failure_named() -> None:
    """One edge purges, one refuses, one never answers: the two failures are named, and the
    writer waits about one timeout, not one per edge; the threads stay for the next change."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Purged(BaseHTTPRequestHandler):
        def do_PURGE(self) -> None:  # noqa: N802 - the HTTP method's name
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    answering = ThreadingHTTPServer(("127.0.0.1", 0), Purged)
    threading.Thread(target=answering.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    urls = [
        f"http://127.0.0.1:{answering.server_address[1]}",
        f"http://127.0.0.1:{_closed_port()}",
        f"http://127.0.0.1:{silent.getsockname()[1]}",
        f"http://127.0.0.1:{silent.getsockname()[1]}",
    ]
    purge = edge.Purge({"all"}, {SLUG})
    try:
        started = time.monotonic()
        errors = edge.send(urls, purge, 0.5)
        took = time.monotonic() - started
        assert sorted(error.split(": ", 1)[0] for error in errors) == sorted(urls[1:]), errors
        assert took < 1.5, took
        assert edge.send(urls[:1], purge, 0.5) == edge.send(urls[:1] * 3, purge, 0.5) == []
    finally:
        answering.shutdown()
        answering.server_close()
        silent.close()
