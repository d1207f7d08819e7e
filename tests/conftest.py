"""Fixtures: an app per test on a real, migrated and seeded database, clients per role.

The database is SQLite by default. With ``TARJUMA_TEST_DB=postgres`` every test runs on
PostgreSQL instead (``TEST_POSTGRES_URL``, default the local server's ``test`` database).
Either way the schema comes from the Alembic migrations and the content from the same
seed command ``make run`` uses; it is built once into a template and copied per test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from api import create_app
from api.extensions import db

SLUG = "championing-islamic-nations-security"
ROOT = Path(__file__).resolve().parent.parent


def schema_differences(connection: sa.Connection) -> list[Any]:
    """What a database's schema lacks or has beyond the models (empty: the same).

    The full-text objects the search index keeps outside the models are left out.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.models.search import outside_models

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": outside_models}
    )
    return list(compare_metadata(context, db.metadata))


POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
USE_POSTGRES = os.environ.get("TARJUMA_TEST_DB", "sqlite") == "postgres"
_counter = itertools.count()


def _sleep_under_faketime(seconds: float) -> None:
    threading.Event().wait(seconds)


if "faketime" in os.environ.get("LD_PRELOAD", "") and os.environ.get(
    "FAKETIME_DONT_FAKE_MONOTONIC"
):
    # CI runs the suite a year ahead under libfaketime with the monotonic clock left real.
    # libfaketime 0.9.10 still shifts the absolute CLOCK_MONOTONIC deadline time.sleep gives
    # clock_nanosleep by the year, and the kernel refuses it (EINVAL); a timed wait on an
    # event uses that clock untouched.
    time.sleep = _sleep_under_faketime


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError as error:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {error.orig}"
    return None


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must test on PostgreSQL: {reason}")
    pytest.skip(reason)


def require_command(name: str, package: str) -> str:
    """The path of a program a test runs; without it the test skips, or fails under CI."""
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"{name} is not installed (Debian package {package})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def _config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "test-secret",
        **extra,
    }


def _build(url: str) -> None:
    """Migrate and seed a database exactly as ``make run`` does."""
    from flask_migrate import upgrade

    app = create_app(_config(url))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        db.engine.dispose()


def _admin_url(url: str, database: str) -> str:
    return sa.make_url(url).set(database=database).render_as_string(hide_password=False)


class SqliteDatabases:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        _build(f"sqlite:///{self.template}")
        with sqlite3.connect(self.template) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def new(self) -> str:
        path = self.directory / f"test-{next(_counter)}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


class PostgresDatabases:
    def __init__(self) -> None:
        self.server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        self.template = f"tarjuma_template_{os.getpid()}"
        with self.server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.template}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{self.template}"'))
            version = connection.scalar(sa.text("SHOW server_version_num"))
        # PostgreSQL 15 copies a template through the WAL by default; copying its few files
        # takes 100 ms a test instead of 140, and dropping the copy 50 ms instead of 130.
        self.strategy = " STRATEGY FILE_COPY" if int(version or 0) >= 150000 else ""
        _build(_admin_url(POSTGRES_URL, self.template))

    def new(self) -> str:
        name = f"tarjuma_test_{os.getpid()}_{next(_counter)}"
        with self.server.connect() as connection:
            connection.execute(
                sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"{self.strategy}')
            )
        return _admin_url(POSTGRES_URL, name)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        with self.server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        with self.server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.server.dispose()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    require_postgres()
    databases = PostgresDatabases()
    yield databases
    databases.close()


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> Any:
    name = "postgres_databases" if USE_POSTGRES else "sqlite_databases"
    return request.getfixturevalue(name)


def _make_app(databases: Any, **extra: Any) -> Iterator[Flask]:
    url = databases.new()
    app = create_app(_config(url, **extra))
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        databases.drop(url)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Per-test config overrides; a test module or test may override this fixture."""
    return {}


@pytest.fixture
def app(databases: Any, app_config: dict[str, Any]) -> Iterator[Flask]:
    yield from _make_app(databases, **app_config)


@pytest.fixture
def pg_app(postgres_databases: PostgresDatabases, app_config: dict[str, Any]) -> Iterator[Flask]:
    """An app on PostgreSQL whatever TARJUMA_TEST_DB says (for PostgreSQL-only checks)."""
    yield from _make_app(postgres_databases, **app_config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Person:
    name: str
    role: str
    locales: tuple[str, ...]
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_person(app: Flask, name: str, role: str, *locales: str) -> Person:
    from api.services.accounts import identity

    with app.app_context():
        identity.create_user(name, role, locales)
        token = identity.issue_token(name).token
    return Person(name, role, locales, token)


@pytest.fixture
def people(app: Flask) -> dict[str, Person]:
    """A translator and a reviewer for Malay and Arabic, others for French, and an admin."""
    return {
        "translator": make_person(app, "tariq", "translator", "ms", "ar"),
        "translator2": make_person(app, "siti", "translator", "ms"),
        "reviewer": make_person(app, "rania", "reviewer", "ms", "ar"),
        "reviewer2": make_person(app, "rahim", "reviewer", "ms"),
        "fr_translator": make_person(app, "fanny", "translator", "fr"),
        "fr_reviewer": make_person(app, "florent", "reviewer", "fr"),
        "admin": make_person(app, "ada", "admin"),
    }


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP by werkzeug, on a free port, for clients outside the process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
