"""Deploying: migrations and the seed run on several nodes at once, every migration goes
down as well as up, and the systemd units are ones systemd accepts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask

from api import create_app
from api.database import DEPLOY_LOCK_KEY
from api.extensions import db
from api.models import Essay, Event, TranslationVersion, Unit
from tests.conftest import (
    POSTGRES_URL,
    ROOT,
    SLUG,
    Person,
    _admin_url,
    _config,
    _counter,
    require_command,
    require_postgres,
    schema_differences,
)
from tests.servers import free_port, spawn, stop

MIGRATIONS = str(ROOT / "migrations")
WAITING = "Another node is migrating or seeding the database; waiting for it."


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(MIGRATIONS)


def _head() -> str:
    (head,) = _scripts().get_heads()
    return head


def _revisions() -> int:
    return len(list(_scripts().walk_revisions()))


def _schema_differences(url: str) -> list[Any]:
    """What the database's schema lacks or has beyond the models (empty: the same)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return schema_differences(connection)
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    """The number of rows in every table of the models, and alembic's own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            names = [t.name for t in db.metadata.sorted_tables] + ["alembic_version"]
            return {
                name: connection.scalar(sa.text(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
                for name in names
            }
    finally:
        engine.dispose()


def _flask(url: str, *args: str) -> subprocess.Popen[str]:
    """``flask --app wsgi …`` as a node of the deploy runs it, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test-secret"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(processes: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for process in processes:
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0, output
        outputs.append(output)
    return outputs


# --- PostgreSQL: two nodes at once ----------------------------------------------------


class FreshPostgres:
    """Empty databases on the test server, dropped at the end."""

    def __init__(self) -> None:
        self.server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def new(self) -> str:
        name = f"tarjuma_deploy_{os.getpid()}_{next(_counter)}"
        with self.server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return _admin_url(POSTGRES_URL, name)

    def close(self) -> None:
        with self.server.connect() as connection:
            for name in self.names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.server.dispose()


@pytest.fixture
def fresh_postgres() -> Iterator[FreshPostgres]:
    require_postgres()
    databases = FreshPostgres()
    yield databases
    databases.close()


def _started_together(url: str, *args: str) -> list[str]:
    """Two nodes run the same command, let go at the same instant; their outputs.

    The test holds the deploy lock itself until both nodes wait for it, so they reach it
    together however long each takes to start; then both race for it at once.
    """
    engine = sa.create_engine(url)
    database = sa.make_url(url).database
    waiting = sa.text(
        "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database"
        " WHERE locktype = 'advisory' AND NOT granted AND d.datname = :database"
    )
    try:
        with engine.connect() as gate:
            gate.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": DEPLOY_LOCK_KEY})
            gate.commit()
            nodes = [_flask(url, *args), _flask(url, *args)]
            deadline = time.monotonic() + 120
            while gate.scalar(waiting, {"database": database}) < 2:
                gate.commit()
                assert all(node.poll() is None for node in nodes), _finish(nodes)
                assert time.monotonic() < deadline, "the nodes never reached the lock"
                time.sleep(0.1)
            gate.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": DEPLOY_LOCK_KEY})
            gate.commit()
            return _finish(nodes)
    finally:
        engine.dispose()


@pytest.mark.multiprocess
@pytest.mark.postgres
def test_two_nodes_migrate_an_empty_database_at_once(fresh_postgres: FreshPostgres) -> None:
    url = fresh_postgres.new()
    outputs = _started_together(url, "db", "upgrade")
    assert all(WAITING in output for output in outputs)
    ran = sorted(output.count("Running upgrade ") for output in outputs)
    assert ran == [0, _revisions()], "one node migrated, the other found the schema at head"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        versions = connection.scalars(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert versions == [_head()]
    assert _schema_differences(url) == []

    once = fresh_postgres.new()
    _finish([_flask(once, "db", "upgrade")])
    assert _counts(url) == _counts(once)


@pytest.mark.multiprocess
@pytest.mark.postgres
def test_two_nodes_seed_at_once_as_one_would(fresh_postgres: FreshPostgres) -> None:
    once, twice = fresh_postgres.new(), fresh_postgres.new()
    _finish([_flask(once, "db", "upgrade"), _flask(twice, "db", "upgrade")])
    _finish([_flask(once, "seed")])
    expected = _counts(once)

    outputs = _started_together(twice, "seed")

    assert all(WAITING in output for output in outputs)
    counts = _counts(twice)
    assert counts == expected
    for model in (Essay, Unit, TranslationVersion, Event):
        assert counts[model.__tablename__] > 0, model
    # The node that went second found everything loaded.
    assert any(" 0 created, 0 changed" in output for output in outputs)


# --- SQLite: one node, whose own lock keeps two seeds apart ----------------------------


@pytest.mark.multiprocess
def test_two_seeds_at_once_on_sqlite_add_nothing_twice(tmp_path: Path) -> None:
    once, twice = f"sqlite:///{tmp_path / 'once.db'}", f"sqlite:///{tmp_path / 'twice.db'}"
    _finish([_flask(once, "db", "upgrade"), _flask(twice, "db", "upgrade")])
    _finish([_flask(once, "seed")])

    _finish([_flask(twice, "seed"), _flask(twice, "seed")])

    assert _counts(twice) == _counts(once)


# --- every migration goes down, and up again -------------------------------------------


def test_every_migration_goes_down_to_base_and_up_again(app: Flask) -> None:
    """On the seeded database (SQLite, or PostgreSQL with TARJUMA_TEST_DB=postgres): the
    downgrades meet real rows, and the schema rebuilt at head is the models' own."""
    from flask_migrate import downgrade, upgrade

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="base")
        db.engine.dispose()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        left = set(sa.inspect(connection).get_table_names())
        assert connection.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 0
    engine.dispose()
    assert left == {"alembic_version"}

    with app.app_context():
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    assert _schema_differences(url) == []

    fresh = create_app(_config(url))
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["seed"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert _counts(url)[Essay.__tablename__] > 0


def test_a_migration_that_rebuilds_a_table_keeps_the_rows_pointing_at_it(
    app: Flask, people: dict[str, Person]
) -> None:
    """SQLite cannot ALTER most columns, so Alembic rebuilds the table and drops the old
    one: with foreign keys enforced, dropping ``users`` would delete every token, version
    and event of every person. Going down past the accounts migration and up again keeps
    every row, and the people's tokens still work."""
    from flask_migrate import downgrade, upgrade

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    client = app.test_client()
    client.post(
        f"/api/v1/essays/{SLUG}/sections/introduction/translations",
        json={"locale": "ms", "body": "Pengenalan yang baharu."},
        headers=people["translator"].headers,
    )
    before = _counts(url)
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0010_search_index")
        upgrade(directory=MIGRATIONS)
        db.session.remove()
        db.engine.dispose()
    # Tables a later migration made go with it, rows and all (the submission notified
    # its reviewers; the index listed the sections readers get from a fallback); every
    # other table keeps its rows.
    made_since = {"notifications", "notification_settings", "search_fallbacks"}
    after = _counts(url)
    assert {name: after[name] for name in before if name not in made_since} == {
        name: count for name, count in before.items() if name not in made_since
    }
    assert client.get("/api/v1/me", headers=people["translator"].headers).status_code == 200


# --- systemd units --------------------------------------------------------------------

UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/tarjuma"


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Each unit parses with no unknown key or bad value, and every command it runs exists.

    The units name the installed paths (/opt/tarjuma and its .venv); verify checks that
    each Exec command is an executable file, so they are checked as copies that point at
    this checkout and the virtual environment running the tests instead, nothing else
    changed. varnishd and varnishreload are Debian's own paths, checked as they are.
    """
    analyze = require_command("systemd-analyze", "systemd")
    require_command("varnishd", "varnish")
    units = sorted(UNITS.glob("*.service"))
    assert {unit.name for unit in units} >= {
        "tarjuma-app.service",
        "tarjuma-worker.service",
        "tarjuma-varnish.service",
    }
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "flask").is_file() and (venv_bin / "gunicorn").is_file()
    for unit in units:
        text = unit.read_text()
        assert f"{INSTALLED}/.venv/bin/" in text or "varnishd" in text, unit.name
        text = text.replace(f"{INSTALLED}/.venv/bin/", f"{venv_bin}/").replace(INSTALLED, str(ROOT))
        (tmp_path / unit.name).write_text(text)

    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / unit.name) for unit in units)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    # verify only warns about an unknown key or a misspelt option: any output is a fault.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


# --- old and new nodes side by side -----------------------------------------------------


def _stamp(app: Flask, revision: str) -> None:
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
            )
        db.engine.dispose()


def test_an_old_node_stays_ready_on_a_database_a_newer_release_migrated(app: Flask) -> None:
    client = app.test_client()
    _stamp(app, "0099_from_a_newer_release")
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["migration"] == "0099_from_a_newer_release"

    older = next(iter(_scripts().walk_revisions())).down_revision
    assert isinstance(older, str)
    _stamp(app, older)
    behind = client.get("/readyz")
    assert behind.status_code == 503 and behind.get_json()["migration"] == older


class SystemdUnit:
    """A unit file read as systemd reads its commands: settings, environment, Exec lines.

    ``places`` maps the installed paths to this machine's (the checkout, the running
    virtual environment, temporary directories for /run and /etc, free ports).
    """

    def __init__(self, name: str, places: dict[str, str]) -> None:
        text = (UNITS / name).read_text().replace("\\\n", " ")
        for installed, here in places.items():
            text = text.replace(installed, here)
        self.settings: dict[str, list[str]] = {}
        for line in text.splitlines():
            line = line.strip()
            if line and line[0] not in "#;[":
                key, _, value = line.partition("=")
                self.settings.setdefault(key, []).append(value.strip())
        self.directory = Path(self.settings["WorkingDirectory"][0])

    def environ(self, env_files: dict[str, str]) -> dict[str, str]:
        """The unit's Environment= lines, then its EnvironmentFile= ones (which win)."""
        environ = dict(os.environ)
        for line in self.settings.get("Environment", []):
            environ.update(item.split("=", 1) for item in shlex.split(line))
        return {**environ, **env_files}

    def commands(self, key: str, environ: dict[str, str]) -> list[list[str]]:
        """Each ``key=`` command, with ``$VAR`` split into words and ``${VAR}`` kept whole."""
        commands = []
        for line in self.settings.get(key, []):
            words: list[str] = []
            for word in shlex.split(line):
                whole = re.fullmatch(r"\$(\w+)", word)
                if whole:
                    words.extend(environ.get(whole.group(1), "").split())
                else:
                    words.append(
                        re.sub(r"\$\{(\w+)\}", lambda m: environ.get(m.group(1), ""), word)
                    )
            commands.append(words)
        return commands

    def run(self, key: str, environ: dict[str, str]) -> None:
        for command in self.commands(key, environ):
            done = subprocess.run(
                command, cwd=self.directory, env=environ, capture_output=True, text=True
            )
            assert done.returncode == 0, (command, done.stdout, done.stderr)

    def start(self, environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        (command,) = self.commands("ExecStart", environ)
        return spawn(command, log, environ, cwd=self.directory)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if _get(url)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered 200:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.multiprocess
@pytest.mark.postgres
def test_the_units_commands_migrate_serve_work_and_cache(
    fresh_postgres: FreshPostgres, tmp_path: Path
) -> None:
    """What each unit runs, run as systemd would run it (its working directory, its
    Environment= and environment file, $VAR split into words), on a fresh database: the
    app migrates and serves, the worker runs, the edge writes its VCL, serves a read from
    its cache, and reloads."""
    require_command("varnishd", "varnish")
    url = fresh_postgres.new()
    app_port, edge_port, admin_port = free_port(), free_port(), free_port()
    places = {
        f"{INSTALLED}/.venv/bin/": f"{Path(sys.executable).parent}/",
        INSTALLED: str(ROOT),
        "/run/": f"{tmp_path}/run/",
        "/etc/tarjuma/varnish": str(tmp_path / "varnish-vcl"),
        "127.0.0.1:6082": f"127.0.0.1:{admin_port}",
    }
    (tmp_path / "run" / "tarjuma-metrics").mkdir(parents=True)
    env_file = {
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "HOST": "127.0.0.1",
        "PORT": str(app_port),
        "WEB_CONCURRENCY": "2",
        "TRUSTED_PROXIES": "127.0.0.1",
        "EDGE_PURGE_URLS": f"http://127.0.0.1:{edge_port}",
    }
    edge_file = {
        "EDGE_BACKENDS": f"--backend 127.0.0.1:{app_port}",
        "EDGE_LISTEN": f"127.0.0.1:{edge_port}",
        "EDGE_MEMORY": "64m",
    }
    app_unit = SystemdUnit("tarjuma-app.service", places)
    worker_unit = SystemdUnit("tarjuma-worker.service", places)
    edge_unit = SystemdUnit("tarjuma-varnish.service", places)
    app_env = app_unit.environ(env_file)
    edge_env = edge_unit.environ({**env_file, **edge_file})
    processes: list[subprocess.Popen[bytes]] = []
    try:
        app_unit.run("ExecStartPre", app_env)
        _finish([_flask(url, "seed")])
        processes.append(app_unit.start(app_env, tmp_path / "app.log"))
        _wait_for(f"http://127.0.0.1:{app_port}/readyz", processes[-1], tmp_path / "app.log")
        processes.append(worker_unit.start(worker_unit.environ(env_file), tmp_path / "w.log"))

        edge_unit.run("ExecStartPre", edge_env)
        assert (tmp_path / "varnish-vcl" / "tarjuma.vcl").is_file()
        processes.append(edge_unit.start(edge_env, tmp_path / "edge.log"))
        read = f"http://127.0.0.1:{edge_port}/api/v1/essays/{SLUG}?locale=ar"
        _wait_for(read, processes[-1], tmp_path / "edge.log")
        first, second = _get(read), _get(read)
        assert first == second and first[0] == 200
        hits = subprocess.run(
            ["varnishstat", "-n", f"{tmp_path}/run/tarjuma-varnish", "-1", "-f", "MAIN.cache_hit"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert int(hits.split()[1]) >= 1, hits

        edge_unit.run("ExecReload", edge_env)
        assert _get(read) == first
        assert all(process.poll() is None for process in processes), "a unit's process ended"
    finally:
        for process in processes:
            stop(process)
