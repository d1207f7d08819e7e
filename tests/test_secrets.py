"""The secret key (API.md: Production settings): required, never in the source, rotatable."""

from __future__ import annotations

import http.client
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook as Verifier

from api import create_app
from api.config import ROOT
from api.extensions import db
from tests.conftest import Person, _config, make_person
from tests.receiver import Receiver
from tests.servers import free_port, spawn, stop
from tests.test_console import sign_in
from tests.test_webhooks import HOOKS, create, publish_ms, run_jobs

OLD, NEW = "the-key-before-the-rotation", "the-key-after-the-rotation"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SECRET_KEY": OLD, "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SCHEDULE": "0,0"}


@contextmanager
def app_with(app: Flask, **settings: Any) -> Iterator[Flask]:
    """Another process's app on the same database: the same settings but these."""
    keep = ("TESTING", "SQLALCHEMY_DATABASE_URI", "RATELIMIT_ENABLED", "WEBHOOK_ALLOW_PRIVATE")
    other = create_app({**{key: app.config[key] for key in keep}, **settings})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _without_key() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRET_KEY")}
    return {**env, "FLASK_APP": "wsgi"}


# --- no process starts without a key ------------------------------------------------------


@pytest.mark.multiprocess
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        ["make", "serve-prod"],
    ],
    ids=["gunicorn", "worker", "db-upgrade", "serve-prod"],
)
def test_processes_refuse_to_start_without_a_secret_key(app: Flask, command: list[str]) -> None:
    port = free_port()
    env = {
        **_without_key(),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert "Booting worker" not in done.stderr, "no worker was started"


def test_a_key_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    env = {**_without_key(), "SECRET_KEY_FILE": str(tmp_path / "missing")}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "SECRET_KEY_FILE" in done.stderr, done.stderr


def test_no_key_is_written_in_the_source() -> None:
    from api.config import read

    assert read({})["SECRET_KEY"] is None
    assert "dev-only" not in (ROOT / "api" / "config.py").read_text()


# --- rotation: SECRET_KEY_FALLBACKS --------------------------------------------------------


def test_a_session_signed_by_an_old_key_works_while_it_is_a_fallback_and_not_after(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(client, people["translator"])
    cookie = client.get_cookie("session")
    assert cookie is not None and client.get("/console/").status_code == 200

    def console_with_cookie(other: Flask) -> int:
        visitor = other.test_client()
        visitor.set_cookie("session", cookie.value)
        return visitor.get("/console/").status_code

    with app_with(app, SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]) as rotated:
        assert console_with_cookie(rotated) == 200
    with app_with(app, SECRET_KEY=NEW) as after:
        assert console_with_cookie(after) == 302  # to the sign-in page
    with app_with(app, SECRET_KEY="dev-only-change-me") as forged:
        assert console_with_cookie(forged) == 302


def test_webhook_secrets_sign_after_a_rotation_and_new_ones_use_the_new_key(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    with Receiver() as receiver:
        before = create(client, admin, receiver.url).get_json()
        with app_with(app, SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]) as rotated:
            rotated_client = rotated.test_client()
            after = create(rotated_client, admin, receiver.url).get_json()
            publish_ms(rotated_client, people)
            assert run_jobs(rotated) == 2
            received = receiver.wait_for(2)
        with app_with(app, SECRET_KEY=NEW) as later:
            # The old key gone, the webhook made under it can no longer sign: it fails at
            # once with the reason; the one made under the new key still signs.
            publish_ms(later.test_client(), people, "Teks lain.")
            assert run_jobs(later) == 2
            assert run_jobs(later) == 0, "nothing is retried"
            received = receiver.wait_for(3)
    signed_by = set()
    for item in received:
        for hook in (before, after):
            try:
                Verifier(hook["secret"]).verify(item.body, item.headers)
            except Exception:  # noqa: BLE001, S112 - signed by the other webhook
                continue
            signed_by.add((hook["id"], item.headers["webhook-id"]))
    assert len(signed_by) == 3, "each delivery verified by its own webhook's secret"
    shown = client.get(f"{HOOKS}/{before['id']}", headers=admin.headers).get_json()
    assert shown["consecutive_failures"] == 1
    assert "cannot be decrypted" in shown["last_failure"]["reason"]


def test_resealed_secrets_sign_once_the_old_key_is_dropped(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver() as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        with app_with(app, SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]) as rotated:
            done = rotated.test_cli_runner().invoke(args=["webhooks", "reseal"])
            assert done.exit_code == 0 and "1 webhook secrets" in done.output
        with app_with(app, SECRET_KEY=NEW) as later:
            publish_ms(later.test_client(), people)
            assert run_jobs(later) == 1
            (item,) = receiver.wait_for(1)
    Verifier(hook["secret"]).verify(item.body, item.headers)
    with app_with(app, SECRET_KEY="a-key-that-never-was") as stranger:
        done = stranger.test_cli_runner().invoke(args=["webhooks", "reseal"])
    assert done.exit_code != 0 and f"webhooks {hook['id']}" in done.output


# --- make run: a key made once, kept across restarts ---------------------------------------


def _request(
    port: int, method: str, path: str, body: str | None = None, cookie: str | None = None
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = (response.status, dict(response.getheaders()), response.read().decode())
    connection.close()
    return answer


def _session(headers: dict[str, str]) -> str:
    found = re.search(r"session=([^;]+)", headers.get("Set-Cookie", ""))
    assert found, headers
    return found.group(1)


@contextmanager
def make_run(port: int, key: Path, url: str, log: Path) -> Iterator[None]:
    env = {**_without_key(), "DATABASE_URL": url}
    process = spawn(["make", "run", f"PORT={port}", f"DEV_SECRET_KEY={key}"], log, env, mode="ab")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if _request(port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"make run did not serve:\n{log.read_text()[-3000:]}")
        yield
    finally:
        stop(process)


@pytest.mark.multiprocess
def test_make_run_makes_its_key_once_and_sessions_survive_a_restart(tmp_path: Path) -> None:
    key, url, log = (
        tmp_path / "instance" / "secret_key",
        f"sqlite:///{tmp_path / 'run.db'}",
        tmp_path / "run.log",
    )
    port = free_port()
    with make_run(port, key, url, log):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        made = key.read_text()
        assert len(made.strip()) >= 32
        app = create_app(_config(url, SECRET_KEY=made.strip()))
        token = make_person(app, "amina", "translator", "ms").token
        with app.app_context():
            db.engine.dispose()
        status, headers, page = _request(port, "GET", "/console/sign-in")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert status == 200 and found
        status, headers, _ = _request(
            port,
            "POST",
            "/console/sign-in",
            f"csrf_token={found.group(1)}&token={token}",
            cookie=_session(headers),
        )
        assert status == 303
        signed_in = _session(headers)
        assert _request(port, "GET", "/console/", cookie=signed_in)[0] == 200
    with make_run(port, key, url, log):
        assert key.read_text() == made, "the same key, not a new one"
        assert _request(port, "GET", "/console/", cookie=signed_in)[0] == 200
