"""The app under gunicorn with a real varnishd in front of it, for the edge tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from api import create_app
from api.extensions import db
from tests.conftest import SLUG, _config, make_person
from tests.servers import Edge, Instance, PurgeProxy, free_port, require_varnish

ESSAY = f"/api/v1/essays/{SLUG}"
INTRO = f"{ESSAY}/sections/introduction"


@dataclass
class Stack:
    app: Flask
    origin: Instance
    edge: Edge
    proxy: PurgeProxy
    translator: str
    reviewer: str

    def submit(self, body: str, locale: str = "ar", key: str = "introduction") -> int:
        created = self.origin.post(
            f"{ESSAY}/sections/{key}/translations",
            {"locale": locale, "body": body, "source_revision": 1},
            self.translator,
        )
        return int(created["id"])

    def approve(self, version_id: int, through: Any = None) -> tuple[int, dict[str, str]]:
        status, headers, body = (through or self.edge).request(
            "POST",
            f"/api/v1/translations/{version_id}/approve",
            {},
            headers={"Authorization": f"Bearer {self.reviewer}"},
        )
        assert status == 200, (status, body)
        return status, headers

    def text(self, path: str = INTRO, **headers: str) -> tuple[dict[str, Any], dict[str, str]]:
        status, response_headers, body = self.edge.get(path, **headers)
        assert status == 200, (status, body)
        return json.loads(body), response_headers

    def arabic_intro(self) -> str:
        status, _, body = self.origin.get(f"{INTRO}?locale=ar")
        assert status == 200
        return str(json.loads(body)["body"])


@contextmanager
def edge_stack(
    databases: Any, directory: Path, *, settings: dict[str, Any] | None = None, **environ: str
) -> Iterator[Stack]:
    """A database copy, the app on it (gunicorn), and varnishd in front, purged via a proxy."""
    require_varnish()
    settings = {"EDGE_TTL": 300, "EDGE_GRACE": 3600, "EDGE_PURGE_TIMEOUT": 2.0, **(settings or {})}
    url = databases.new()
    app_port, edge_port = free_port(), free_port()
    proxy = PurgeProxy(edge_port)
    settings["EDGE_PURGE_URLS"] = [proxy.url]
    app = create_app(_config(url, **settings))
    with app.app_context():
        translator = make_person(app, "tariq", "translator", "ar", "ms", "fr").token
        reviewer = make_person(app, "rania", "reviewer", "ar", "ms", "fr").token
        db.session.remove()
    env = {
        "EDGE_PURGE_URLS": proxy.url,
        **{key: str(value) for key, value in settings.items() if key != "EDGE_PURGE_URLS"},
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        **environ,
    }
    origin = Instance(url, "edge-origin", port=app_port, **env)
    edge: Edge | None = None
    try:
        origin.wait_ready()
        edge = Edge(app, app_port, directory, port=edge_port)
        yield Stack(app, origin, edge, proxy, translator, reviewer)
    finally:
        if edge is not None:
            edge.stop()
        origin.stop()
        proxy.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        databases.drop(url)
