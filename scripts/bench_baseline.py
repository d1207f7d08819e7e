"""The benchmark's baseline: a minimal Flask app that answers from memory.

``scripts/bench.py`` fetches real responses from Tarjuma, writes them to the JSON file
named by ``BENCH_RESPONSES``, and serves this app under the same gunicorn settings
(``gunicorn -c gunicorn.conf.py scripts.bench_baseline:app``). Each recorded response is
replayed byte for byte, headers included; a matching ``If-None-Match`` gets the 304 that
Tarjuma gives. What Tarjuma costs beyond this is the price of its database read, locale
negotiation and routing.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

Key = tuple[str, str, str]


def _load(path: Path) -> dict[Key, dict[str, Any]]:
    recorded = json.loads(path.read_text(encoding="utf-8"))
    table: dict[Key, dict[str, Any]] = {}
    for item in recorded:
        item["body"] = base64.b64decode(item["body"])
        table[(item["method"], item["path"], item["query"])] = item
    return table


def create_app(responses: Path) -> Flask:
    """An app that replays the recorded responses."""
    table = _load(responses)
    app = Flask(__name__)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def replay(path: str) -> Response:
        key = (request.method, request.path, request.query_string.decode())
        item = table.get(key)
        if item is None:
            return Response(status=404)
        headers = dict(item["headers"])
        etag = headers.get("ETag")
        if etag and request.if_none_match.contains(etag.strip('"')):
            kept = {k: v for k, v in headers.items() if k in ("ETag", "Vary", "Cache-Control")}
            return Response(status=304, headers=kept)
        return Response(item["body"], status=item["status"], headers=headers)

    return app


app = create_app(Path(os.environ.get("BENCH_RESPONSES", "bench-results/responses.json")))
