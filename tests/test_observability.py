"""Request ids, the request log and /metrics: what an operator of the API relies on."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from api.extensions import db
from api.models import Job
from api.models.types import utcnow
from api.observability import formatter
from api.services import jobs
from api.services.outbound import webhooks
from tests.conftest import ROOT, SLUG, Person, make_person
from tests.receiver import Receiver
from tests.servers import Instance, free_port
from tests.test_webhook_worker import worker
from tests.test_workflow import action, submit

ESSAY = f"/api/v1/essays/{SLUG}"
ESSAY_RULE = "/api/v1/essays/<slug>"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.data
    return parse(response.get_data(as_text=True))


# --- metrics ------------------------------------------------------------------------------


def test_metrics_count_requests_by_url_rule(client: FlaskClient) -> None:
    before = scrape(client)
    for locale in ("ar", "ms"):
        assert client.get(f"{ESSAY}?locale={locale}").status_code == 200
    assert client.get("/api/v1/essays/no-such-essay").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    response = client.get("/metrics")
    after = parse(response.get_data(as_text=True))

    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain"
    total = "tarjuma_http_requests_total"
    rule = {"method": "GET", "route": ESSAY_RULE}
    assert (
        value(after, total, **rule, status="200") - value(before, total, **rule, status="200") == 2
    )
    assert (
        value(after, total, **rule, status="404") - value(before, total, **rule, status="404") == 1
    )
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, total, **unmatched) - value(before, total, **unmatched) == 1
    count = "tarjuma_http_request_duration_seconds_count"
    assert value(after, count, **rule) - value(before, count, **rule) == 3
    assert value(after, "tarjuma_http_request_duration_seconds_bucket", **rule, le="+Inf") >= 3
    routes = {dict(labels).get("route") for (_, labels) in after}
    assert not {r for r in routes if r and (SLUG in r or "no-such" in r or "/no/" in r)}
    families = {name for (name, _) in after}
    for name in (
        "tarjuma_jobs",
        "tarjuma_jobs_oldest_due_seconds",
        "tarjuma_http_request_duration_seconds_sum",
    ):
        assert name in families
    body = response.get_data(as_text=True)
    assert "# TYPE tarjuma_webhook_deliveries_total counter" in body
    assert "# TYPE tarjuma_edge_purges_total counter" in body


def test_metrics_refused_to_an_address_outside_the_allowed(client: FlaskClient) -> None:
    response = client.get("/metrics", environ_base=OUTSIDE)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "urn:tarjuma:problem:forbidden"
    assert "METRICS_ALLOWED" in response.get_json()["detail"]
    assert b"tarjuma_http_requests_total" not in response.data
    ipv6 = client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"})
    assert ipv6.status_code == 200


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOWED": ["203.0.113.0/24"]}])
def test_metrics_allowed_to_a_configured_network(client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


@pytest.mark.parametrize("app_config", [{"METRICS_ENABLED": False}])
def test_metrics_switched_off_is_not_served(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get(ESSAY).headers["X-Request-Id"]


def test_jobs_gauges_are_read_from_the_database(app: Flask, client: FlaskClient) -> None:
    now = utcnow()
    with app.app_context():
        db.session.add_all(
            [
                Job(
                    kind="webhook", payload={}, state="pending", run_at=now - timedelta(seconds=90)
                ),
                Job(kind="webhook", payload={}, state="pending", run_at=now - timedelta(seconds=5)),
                Job(kind="webhook", payload={}, state="pending", run_at=now + timedelta(hours=1)),
                Job(kind="webhook", payload={}, state="failed", run_at=now),
                Job(kind="edge.purge", payload={}, state="done", run_at=now, finished_at=now),
            ]
        )
        db.session.commit()
        db.session.remove()
    samples = scrape(client)
    assert value(samples, "tarjuma_jobs", kind="webhook", state="pending") == 3
    assert value(samples, "tarjuma_jobs", kind="webhook", state="failed") == 1
    assert value(samples, "tarjuma_jobs", kind="webhook", state="running") == 0
    assert value(samples, "tarjuma_jobs", kind="edge.purge", state="done") == 1
    oldest = value(samples, "tarjuma_jobs_oldest_due_seconds", kind="webhook")
    assert 90 <= oldest < 300
    assert value(samples, "tarjuma_jobs_oldest_due_seconds", kind="edge.purge") == 0
    # Kinds with a handler are shown before any job of theirs exists.
    assert ("tarjuma_jobs", frozenset({("kind", "release"), ("state", "pending")})) in samples

    with app.app_context():
        db.session.execute(sa.update(Job).where(Job.kind == "webhook").values(state="done"))
        db.session.commit()
        db.session.remove()
    samples = scrape(client)
    assert value(samples, "tarjuma_jobs", kind="webhook", state="pending") == 0
    assert value(samples, "tarjuma_jobs_oldest_due_seconds", kind="webhook") == 0


# --- request ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("client-id.1:2_3-4", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("has space", False),
        ("semi;colon", False),
        ("ünïcode", False),
        ("", False),
    ],
)
def test_request_id_is_the_clients_when_sane(client: FlaskClient, sent: str, kept: bool) -> None:
    response = client.get(ESSAY, headers={"X-Request-Id": sent})
    echoed = response.headers["X-Request-Id"]
    if kept:
        assert echoed == sent
    else:
        assert echoed != sent and re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_every_response_has_a_request_id(client: FlaskClient) -> None:
    ids = set()
    for response in (
        client.get(ESSAY),
        client.get(ESSAY),
        client.get("/no/such/path"),
        client.get("/metrics", environ_base=OUTSIDE),
        client.post(f"{ESSAY}/sections/introduction/translations", json={}),
        client.options(
            ESSAY, headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
        ),
    ):
        ids.add(response.headers["X-Request-Id"])
    assert len(ids) == 6


@pytest.mark.parametrize(
    "app_config", [{"EDGE_PURGE_URLS": ["http://127.0.0.1:9"], "EDGE_PURGE_TIMEOUT": 0.5}]
)
def test_a_job_logs_the_id_of_the_request_that_caused_it(
    app: Flask, client: FlaskClient, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    version = submit(client, people["translator"]).get_json()
    response = client.post(
        f"/api/v1/translations/{version['id']}/approve",
        json={},
        headers={**people["reviewer"].headers, "X-Request-Id": "approve-42"},
    )
    assert response.status_code == 200
    assert response.headers["Edge-Purge"].startswith("failed")  # nothing listens on port 9
    with app.app_context():
        submitted, job = db.session.scalars(sa.select(Job).order_by(Job.id)).all()
        assert submitted.request_id != "approve-42" and submitted.request_id is not None
        assert job.kind == "edge.purge" and job.request_id == "approve-42"
        submitted.state = "done"
        job.run_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    caplog.clear()
    from prometheus_client import REGISTRY

    failed_before = REGISTRY.get_sample_value("tarjuma_edge_purges_total", {"outcome": "failed"})
    with app.app_context():
        assert jobs.run_due() == 1
        db.session.remove()
    records = [r for r in caplog.records if r.name == "api.services.jobs"]
    assert records and all(getattr(r, "request_id", None) == "approve-42" for r in records)
    assert REGISTRY.get_sample_value("tarjuma_edge_purges_total", {"outcome": "failed"}) == (
        (failed_before or 0) + 1
    )


# --- the request log ----------------------------------------------------------------------


def test_one_json_record_per_request_with_a_name_never_a_token(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    person = make_person(app, "ines", "reviewer", "ms")
    caplog.set_level(logging.INFO, logger="tarjuma.request")
    client.get("/api/v1/reviews?locale=ms", headers={**person.headers, "X-Request-Id": "r-1"})
    client.get(
        "/api/v1/reviews?locale=ms", headers={"Authorization": "Bearer not-a-real-token-xyz"}
    )
    client.get(f"{ESSAY}?locale=ar")
    json_format = formatter("json")
    lines = [json_format.format(r) for r in caplog.records if r.name == "tarjuma.request"]
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    mine, bad, anonymous = records
    assert mine["request_id"] == "r-1"
    assert mine["method"] == "GET" and mine["route"] == "/api/v1/reviews"
    assert mine["path"] == "/api/v1/reviews" and mine["status"] == 200
    assert mine["user"] == "ines" and mine["client"] == "127.0.0.1"
    assert isinstance(mine["duration_ms"], float)
    assert bad["status"] == 401 and bad["user"] is None
    assert anonymous["route"] == ESSAY_RULE and anonymous["path"] == ESSAY
    assert anonymous["status"] == 200 and anonymous["user"] is None
    everything = "\n".join(lines) + caplog.text
    assert person.token not in everything and "not-a-real-token-xyz" not in everything


# --- real processes -----------------------------------------------------------------------


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "metrics"
    directory.mkdir()
    return directory


@pytest.fixture
def worker_process(app: Flask, metrics_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """``flask worker`` with JSON logs, sharing the metrics directory of the app servers."""
    log = tmp_path / "worker.log"
    with worker(app, log, LOG_FORMAT="json", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)):
        yield log


@pytest.mark.multiprocess
@pytest.mark.parametrize("app_config", [{"WEBHOOK_ALLOW_PRIVATE": True}])
def test_gunicorn_workers_and_the_worker_are_summed_and_log_json_without_secrets(
    app: Flask, people: dict[str, Person], metrics_dir: Path, worker_process: Path
) -> None:
    client = app.test_client()
    server = Instance(
        app.config["SQLALCHEMY_DATABASE_URI"],
        "metrics",
        LOG_FORMAT="json",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        RATELIMIT_ENABLED="false",
        WEBHOOK_ALLOW_PRIVATE="true",
    )
    try:
        server.wait_ready()
        admin = people["admin"]
        # Many at once, so that both gunicorn workers serve some.
        sent = 60
        errors: list[Any] = []

        def read(n: int) -> None:
            status, headers, _ = server.get("/api/v1/locales", **{"X-Request-Id": f"parallel-{n}"})
            if status != 200 or headers.get("X-Request-Id") != f"parallel-{n}":
                errors.append((status, headers))

        threads = [threading.Thread(target=read, args=(n,)) for n in range(sent)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        pids = {path.stem.rpartition("_")[2] for path in metrics_dir.glob("counter_*.db")}
        assert len(pids) >= 2, f"only {pids} served"

        # A token that works, one that does not, and a webhook whose secret is shown once.
        status, _, _ = server.request("GET", "/api/v1/reviews?locale=ms", headers=admin.headers)
        assert status == 200
        status, _, _ = server.request(
            "GET", "/api/v1/reviews", headers={"Authorization": "Bearer bad-token-0123456789"}
        )
        assert status == 401
        with Receiver() as receiver:
            hook = server.post(
                "/api/v1/webhooks",
                {"url": receiver.url, "events": ["translation.published"]},
                admin.token,
            )
            version = submit(client, people["translator"]).get_json()
            approved = action(client, people["reviewer"], version["id"], "approve")
            assert approved.status_code == 200
            request_id = approved.headers["X-Request-Id"]
            receiver.wait_for(1)
            deadline = time.monotonic() + 20
            samples: Samples = {}
            while time.monotonic() < deadline:
                status, headers, body = server.get("/metrics")
                assert status == 200 and headers["Cache-Control"] == "no-store"
                samples = parse(body.decode())
                if value(samples, "tarjuma_webhook_deliveries_total", outcome="succeeded") >= 1:
                    break
                time.sleep(0.1)
        route = {"method": "GET", "route": "/api/v1/locales", "status": "200"}
        assert value(samples, "tarjuma_http_requests_total", **route) == sent
        assert value(samples, "tarjuma_webhook_deliveries_total", outcome="succeeded") == 1
    finally:
        server.stop(keep_log=True)

    served = server.log.read_text(errors="replace")
    worked = worker_process.read_text(errors="replace")
    server.log.unlink(missing_ok=True)
    for secret in (admin.token, "bad-token-0123456789", hook["secret"]):
        assert secret not in served and secret not in worked
    requests = [r for r in _json_lines_text(served) if r.get("logger") == "tarjuma.request"]
    assert {r["request_id"] for r in requests} >= {f"parallel-{n}" for n in range(sent)}
    mine = next(r for r in requests if r["route"] == "/api/v1/reviews" and r["status"] == 200)
    assert mine["user"] == "ada" and mine["client"] == "127.0.0.1"
    assert any(r.get("logger", "").startswith("gunicorn") for r in _json_lines_text(served))
    done = [r for r in _json_lines_text(worked) if r.get("kind") == webhooks.JOB_KIND]
    assert done and all(r["request_id"] == request_id for r in done)


def _json_lines_text(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


@pytest.mark.multiprocess
def test_a_bad_log_format_stops_gunicorn_naming_the_setting(app: Flask) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env={**os.environ, "LOG_FORMAT": "yaml", "PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "LOG_FORMAT" in done.stderr
