"""Limits shared between processes through Redis, and what happens while Redis is away.

Against the machine's Redis (``TEST_REDIS_URL``, default 127.0.0.1:6379; every test uses
its own ``RATELIMIT_KEY_PREFIX``), and against redis-servers started here on free ports,
stopped and started again mid-test.
"""

from __future__ import annotations

import http.client
import logging
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from prometheus_client import REGISTRY

from api import create_app
from api.config import ConfigError, read
from api.extensions import db
from tests.conftest import _config, make_person, require_command
from tests.servers import Instance, free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ME = "/api/v1/me"
WRITE = "/api/v1/translations/999999/approve"
FALLBACKS = "tarjuma_ratelimit_storage_fallbacks_total"


def require_redis(url: str = REDIS_URL) -> None:
    """The machine's Redis answers; without it the test skips, or fails under CI."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        reason = f"Redis at {url} is unreachable: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must test shared limits: {reason}")
        pytest.skip(reason)


class RedisServer:
    """A redis-server of the test's own on a free port, that can be stopped and started."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_command("redis-server", "redis-server")
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def keys(self, prefix: str) -> list[bytes]:
        return list(redis.Redis(port=self.port).scan_iter(f"*{prefix}*"))


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def fallbacks() -> float:
    return REGISTRY.get_sample_value(FALLBACKS) or 0.0


@pytest.mark.parametrize("name", ["RATELIMIT_STORAGE_TIMEOUT", "RATELIMIT_STORAGE_RETRY"])
@pytest.mark.parametrize("value", ["soon", "0", "-1"])
def test_a_bad_storage_delay_stops_the_process_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        read({name: value})
    assert read({name: "2.5"})[name] == 2.5


# --- in one process: the throttle rides out an outage --------------------------------------


@pytest.mark.multiprocess
class TestLostStorage:
    @pytest.fixture
    def app_config(self, own_redis: RedisServer) -> dict[str, Any]:
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": own_redis.url,
            "RATELIMIT_KEY_PREFIX": f"t{uuid.uuid4().hex}",
            "RATELIMIT_STORAGE_RETRY": 0.2,
            "RATELIMIT_DEFAULT": "1000 per minute",
            "AUTH_FAILURE_LIMIT": "3 per minute",
        }

    @staticmethod
    def me(client: Any, token: str, address: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return int(
            client.get(ME, headers=headers, environ_base={"REMOTE_ADDR": address}).status_code
        )

    def test_requests_are_served_and_limited_in_memory_until_redis_is_back(
        self,
        app: Flask,
        own_redis: RedisServer,
        people: dict[str, Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        client = app.test_client()
        prefix = app.config["RATELIMIT_KEY_PREFIX"]
        valid = people["reviewer"].token
        assert self.me(client, "tj_guess", "192.0.2.1") == 401
        assert own_redis.keys(prefix), "the failure was counted in Redis"

        own_redis.stop()
        before = fallbacks()
        caplog.set_level(logging.WARNING, logger="api.ratelimit")
        # Served, not a 500: the throttle, a valid token, and a write's limit.
        assert self.me(client, "tj_guess", "192.0.2.2") == 401
        assert fallbacks() == before + 1
        assert self.me(client, valid, "192.0.2.3") == 200
        write = client.post(WRITE, json={}, environ_base={"REMOTE_ADDR": "192.0.2.3"})
        assert write.status_code == 401
        # Limits still hold, in this process's memory.
        assert [self.me(client, "tj_guess", "192.0.2.2") for _ in range(3)] == [401, 401, 429]
        assert fallbacks() == before + 1, "one loss, counted once"
        assert sum("is unreachable" in r.getMessage() for r in caplog.records) == 1

        own_redis.start()
        time.sleep(0.3)
        assert self.me(client, "tj_guess", "192.0.2.4") == 401
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert any(b"192.0.2.4" in key for key in own_redis.keys(prefix))
        assert fallbacks() == before + 1


# --- two app processes, one budget ---------------------------------------------------------


@contextmanager
def two_servers(databases: Any, workers: str, **environ: str) -> Iterator[tuple[Any, ...]]:
    """Two gunicorn servers on one database, each with ``workers`` workers, and a token."""
    url = databases.new()
    app = create_app(_config(url))
    with app.app_context():
        token = make_person(app, "rania", "reviewer", "ar").token
        db.session.remove()
        db.engine.dispose()
    env = {"RATELIMIT_ENABLED": "true", "WEB_CONCURRENCY": workers, **environ}
    servers = [Instance(url, f"limits-{n}", **env) for n in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers[0], servers[1], token
    finally:
        for server in servers:
            server.stop(keep_log=True)
        databases.drop(url)


def send(server: Instance, source: str, method: str, path: str, token: str | None = None) -> int:
    """A request from the loopback address ``source``, with its own connection."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=15, source_address=(source, 0)
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request(
            method,
            path,
            body=b"{}" if method == "POST" else None,
            headers={"Content-Type": "application/json", **headers},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.multiprocess
def test_two_servers_share_one_budget(databases: Any) -> None:
    require_redis()
    with two_servers(
        databases,
        "2",
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=f"t{uuid.uuid4().hex}",
        RATELIMIT_DEFAULT="4 per minute",
        AUTH_FAILURE_LIMIT="3 per minute",
    ) as (one, two, token):
        # Writes: four between them, then both refuse.
        writes = [send(server, "127.0.0.2", "POST", WRITE) for server in (one, two, one, two)]
        assert writes == [401] * 4
        assert send(one, "127.0.0.2", "POST", WRITE) == 429
        assert send(two, "127.0.0.2", "POST", WRITE) == 429
        # Failed sign-ins: three between them, then both refuse even the right token.
        guesses = [send(server, "127.0.0.3", "GET", ME, "tj_guess") for server in (one, two, one)]
        assert guesses == [401] * 3
        assert send(two, "127.0.0.3", "GET", ME, token) == 429
        assert send(one, "127.0.0.3", "GET", ME, token) == 429
        # Other clients are not affected.
        assert send(two, "127.0.0.4", "GET", ME, token) == 200
        assert send(one, "127.0.0.4", "POST", WRITE) == 401


@pytest.mark.multiprocess
def test_two_servers_ride_out_a_redis_outage(databases: Any, own_redis: RedisServer) -> None:
    with two_servers(
        databases,
        "1",
        RATELIMIT_STORAGE_URI=own_redis.url,
        RATELIMIT_KEY_PREFIX=f"t{uuid.uuid4().hex}",
        RATELIMIT_STORAGE_RETRY="0.5",
        RATELIMIT_DEFAULT="1000 per minute",
        AUTH_FAILURE_LIMIT="3 per minute",
    ) as (one, two, token):

        def shared(source: str) -> None:
            """Three failures split between the servers use up the budget on both."""
            guesses = [send(s, source, "GET", ME, "tj_guess") for s in (one, two, one)]
            assert guesses == [401] * 3
            assert send(two, source, "GET", ME, token) == 429
            assert send(one, source, "GET", ME, token) == 429

        shared("127.0.0.2")

        own_redis.stop()
        for server in (one, two):
            assert send(server, "127.0.0.3", "GET", ME, token) == 200
            assert send(server, "127.0.0.3", "POST", WRITE) == 401
        # Each server counts on its own now: three failures on one, and two is still open.
        assert [send(one, "127.0.0.3", "GET", ME, "tj_guess") for _ in range(3)] == [401] * 3
        assert send(one, "127.0.0.3", "GET", ME, token) == 429
        assert send(two, "127.0.0.3", "GET", ME, token) == 200

        own_redis.start()
        time.sleep(0.6)
        for server in (one, two):
            assert send(server, "127.0.0.9", "GET", ME, token) == 200
        shared("127.0.0.4")

        for server in (one, two):
            log = server.log.read_text(errors="replace")
            assert "is unreachable: limits are kept per process" in log
            assert "answers again: limits are shared" in log
            assert "Traceback" not in log
            server.log.unlink()
