"""Client addresses behind proxies: ``X-Forwarded-For`` is believed from trusted proxies only.

The rule (api/proxies.py), the setting (``TRUSTED_PROXIES``), what keys on the client
(the failed-authentication throttle, the write limits), and the whole path: clients on
different loopback addresses through a real varnishd in front of gunicorn.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from api import create_app
from api.config import ConfigError, read, trusted_proxies
from api.edge_runner import serving_environ
from api.extensions import db
from api.proxies import PEER, ClientAddress
from tests.conftest import ROOT, Person, _config, make_person
from tests.edge_stack import edge_stack
from tests.servers import free_port, require_varnish, spawn, stop

TRUSTED = "10.0.0.0/8, 2001:db8::/32, 127.0.0.1"
ME = "/api/v1/me"


@pytest.fixture(scope="module")
def rule() -> ClientAddress:
    return ClientAddress(lambda environ, start_response: [], trusted_proxies(TRUSTED))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # A client that talks to the app directly names itself in vain.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("203.0.113.9", None, "203.0.113.9"),
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        # One trusted proxy: the address it appended.
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        # Whatever the client sent before it proves nothing.
        ("10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "6.6.6.6,198.51.100.1", "198.51.100.1"),
        # A chain of trusted proxies (any address in a trusted range) is skipped.
        ("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.2.3.4, 10.200.0.9", "198.51.100.1"),
        ("127.0.0.1", "198.51.100.7, 10.2.3.4", "198.51.100.7"),
        # Only proxies all the way: the one furthest from the app.
        ("10.0.0.1", "10.9.9.9, 10.2.3.4", "10.9.9.9"),
        # IPv6: peers, hops and clients, bracketed or not, with ports, IPv4-mapped.
        ("2001:db8::1", "2a00:1450:4001::5", "2a00:1450:4001::5"),
        ("2001:db8::1", "2a00:1450:4001::5, 2001:db8:7::1", "2a00:1450:4001::5"),
        ("2001:db8::1", "[2a00:1450:4001::5]:4711", "2a00:1450:4001::5"),
        ("10.0.0.1", "198.51.100.1:4711", "198.51.100.1"),
        ("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
        ("2a00:1450:4001::5", "198.51.100.1", "2a00:1450:4001::5"),
        # Something that is not an address stops the walk at the last trusted hop.
        ("10.0.0.1", "nonsense", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1, nonsense", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1, nonsense, 10.2.3.4", "10.2.3.4"),
        ("10.0.0.1", "nonsense, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "198.51.100.1, , 10.2.3.4", "10.2.3.4"),
        ("10.0.0.1", "unknown, _hidden, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "300.1.1.1", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1" + ", 10.2.3.4" * 200, "198.51.100.1"),
    ],
)
def test_the_client_is_the_first_untrusted_address_from_the_right(
    rule: ClientAddress, peer: str, forwarded_for: str | None, client: str
) -> None:
    assert rule.client(peer, forwarded_for) == client


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        ("", []),
        (" ", []),
        ("127.0.0.1", ["127.0.0.1/32"]),
        ("10.0.0.0/8, ::1,2001:db8::/32", ["10.0.0.0/8", "::1/128", "2001:db8::/32"]),
    ],
)
def test_trusted_proxies_are_addresses_or_ranges(value: str, networks: list[str]) -> None:
    assert read({"TRUSTED_PROXIES": value})["TRUSTED_PROXIES"] == networks
    assert read({})["TRUSTED_PROXIES"] == []


@pytest.mark.parametrize("value", ["varnish", "10.0.0.5/8", "10.0.0.0/33", "127.0.0.1,*", "1.2.3"])
def test_a_bad_trusted_proxy_stops_the_process_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        read({"TRUSTED_PROXIES": value})


@pytest.mark.multiprocess
def test_gunicorn_will_not_start_with_a_bad_trusted_proxy(tmp_path: Path) -> None:
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.5/8", "PORT": str(free_port())}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stdout + result.stderr


def test_gunicorn_believes_the_scheme_from_the_same_proxies() -> None:
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8,::1"}
    script = (
        "import runpy; settings = runpy.run_path('gunicorn.conf.py');"
        "print(settings['forwarded_allow_ips'])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shown.stdout.strip() == "10.0.0.0/8,::1/128", shown.stderr
    env["TRUSTED_PROXIES"] = ""
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shown.stdout.strip() == "", shown.stderr


def test_make_edge_trusts_its_own_varnish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert serving_environ("127.0.0.1", 5000, 5080)["TRUSTED_PROXIES"] == "127.0.0.1"
    everywhere = serving_environ("0.0.0.0", 5000, 5080)  # noqa: S104 - not bound here
    assert set(everywhere["TRUSTED_PROXIES"].split(",")) == {"127.0.0.1", "::1"}
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8")
    assert serving_environ("127.0.0.1", 5000, 5080)["TRUSTED_PROXIES"] == "10.0.0.0/8,127.0.0.1"


# --- in the app: everything reads the resolved client --------------------------------------


class TestBehindAProxy:
    PROXY = "10.0.0.1"

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {
            "TRUSTED_PROXIES": ["10.0.0.0/8"],
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "1000 per minute",
            "AUTH_FAILURE_LIMIT": "3 per minute",
        }

    @staticmethod
    def me(client: FlaskClient, token: str, peer: str, forwarded_for: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        if forwarded_for is not None:
            headers["X-Forwarded-For"] = forwarded_for
        response = client.get(ME, headers=headers, environ_base={"REMOTE_ADDR": peer})
        return response.status_code

    def test_the_app_sees_the_client_and_keeps_the_peer(self, app: Flask) -> None:
        @app.get("/whoami")
        def whoami() -> dict[str, str]:
            return {"client": str(request.remote_addr), "peer": request.environ[PEER]}

        client = app.test_client()
        seen = client.get(
            "/whoami",
            headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.4"},
            environ_base={"REMOTE_ADDR": self.PROXY},
        ).get_json()
        assert seen == {"client": "198.51.100.4", "peer": self.PROXY}
        seen = client.get(
            "/whoami",
            headers={"X-Forwarded-For": "198.51.100.4"},
            environ_base={"REMOTE_ADDR": "192.0.2.50"},
        ).get_json()
        assert seen == {"client": "192.0.2.50", "peer": "192.0.2.50"}

    def test_failed_sign_ins_count_per_client_not_per_proxy(
        self, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        guesses = [self.me(client, "tj_guess", self.PROXY, "198.51.100.1") for _ in range(4)]
        assert guesses == [401, 401, 401, 429]
        # Another client through the same proxy signs in.
        valid = people["reviewer"].token
        assert self.me(client, valid, self.PROXY, "198.51.100.2") == 200
        # The guesser cannot escape by naming someone else before the proxy's entry.
        assert self.me(client, valid, self.PROXY, "198.51.100.2, 198.51.100.1") == 429

    def test_a_client_naming_another_is_not_believed(
        self, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        guesses = [self.me(client, "tj_guess", "192.0.2.7", "198.51.100.1") for _ in range(4)]
        assert guesses == [401, 401, 401, 429]
        # The guesses counted against the sender, not the address it named...
        assert self.me(client, people["reviewer"].token, self.PROXY, "198.51.100.1") == 200
        # ...and a new name does not lift its limit.
        assert self.me(client, people["reviewer"].token, "192.0.2.7", "198.51.100.3") == 429


class TestWriteLimitsBehindAProxy:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {
            "TRUSTED_PROXIES": ["127.0.0.1"],
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "2 per minute",
        }

    def test_write_limits_key_on_the_client(self, client: FlaskClient) -> None:
        def write(forwarded_for: str) -> int:
            return client.post(
                "/api/v1/translations/999999/approve",
                json={},
                headers={"X-Forwarded-For": forwarded_for},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            ).status_code

        assert [write("198.51.100.1") for _ in range(3)] == [401, 401, 429]
        assert write("198.51.100.2") == 401


# --- the whole path: clients on their own addresses, varnishd, gunicorn --------------------


def send(port: int, source: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """GET ``path`` from the loopback address ``source`` (its own client socket)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=15, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    is_json = "json" in (response.getheader("Content-Type") or "")
    return response.status, json.loads(body) if is_json else {}


def through_edge(port: int, source: str, path: str, headers: dict[str, str]) -> int:
    """``send`` through Varnish, again while it answers 503 for an app it holds for sick.

    Varnish probes the app once a second with a one-second timeout; on a loaded machine a
    freshly started app can miss two probes, and Varnish then answers for it without
    asking: such a request never reached the app, so it is sent again.
    """
    deadline = time.monotonic() + 30
    status = send(port, source, path, headers)[0]
    while status == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        status = send(port, source, path, headers)[0]
    return status


@pytest.fixture
def stack(databases: Any, tmp_path: Path) -> Iterator[Any]:
    with edge_stack(
        databases,
        tmp_path,
        settings={"RATELIMIT_ENABLED": True, "AUTH_FAILURE_LIMIT": "5 per minute"},
        TRUSTED_PROXIES="127.0.0.1",
        WEB_CONCURRENCY="1",
    ) as stack:
        yield stack


@pytest.mark.multiprocess
def test_through_the_edge_each_client_has_its_own_count(stack: Any) -> None:
    edge, origin = stack.edge.port, stack.origin.port
    guess = {"Authorization": "Bearer tj_guess"}
    valid = {"Authorization": f"Bearer {stack.reviewer}"}
    statuses = [through_edge(edge, "127.0.0.2", ME, guess) for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Another client through the same Varnish is not affected.
    assert through_edge(edge, "127.0.0.3", ME, valid) == 200
    # Varnish appends the address it sees: a name the guesser adds is skipped.
    assert through_edge(edge, "127.0.0.2", ME, {**valid, "X-Forwarded-For": "127.0.0.9"}) == 429
    # Straight to the app, X-Forwarded-For is nobody's word: not the guesser's escape...
    assert send(origin, "127.0.0.2", ME, {**valid, "X-Forwarded-For": "127.0.0.5"})[0] == 429
    # ...and not a way to lock someone else out.
    assert send(origin, "127.0.0.4", ME, {**valid, "X-Forwarded-For": "127.0.0.2"})[0] == 200
    assert through_edge(edge, "127.0.0.3", ME, valid) == 200


@pytest.mark.multiprocess
def test_make_edge_believes_its_own_varnish_and_no_one_else(databases: Any, tmp_path: Path) -> None:
    """``flask edge run`` (``make edge``): no TRUSTED_PROXIES given, clients still told apart."""
    require_varnish()
    url = databases.new()
    app = create_app(_config(url))
    with app.app_context():
        token = make_person(app, "rania", "reviewer", "ar").token
        db.session.remove()
        db.engine.dispose()
    port, edge = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": "true",
        "AUTH_FAILURE_LIMIT": "3 per minute",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
    }
    env.pop("TRUSTED_PROXIES", None)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "edge", "run"]
    command += ["--port", str(port), "--edge-port", str(edge), "--workdir", str(tmp_path)]
    log = tmp_path / "edge-run.log"
    process = spawn(command, log, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if send(edge, "127.0.0.1", ME, {})[0] == 401:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.2)
        guess = {"Authorization": "Bearer tj_guess"}
        valid = {"Authorization": f"Bearer {token}"}
        statuses = [through_edge(edge, "127.0.0.2", ME, guess) for _ in range(4)]
        assert statuses == [401] * 3 + [429]
        assert through_edge(edge, "127.0.0.3", ME, valid) == 200
        assert send(port, "127.0.0.4", ME, {**valid, "X-Forwarded-For": "127.0.0.2"})[0] == 200
    finally:
        stop(process)
        databases.drop(url)
