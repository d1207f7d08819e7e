"""Engine set-up: SQLite made safe for concurrent use, and write transactions."""

from __future__ import annotations

import contextvars
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.services import effects

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write", default=False)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite's own transaction handling is off, so that "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@sa.event.listens_for(sa.engine.Engine, "begin")
def _sqlite_begin(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    # A write transaction takes SQLite's write lock at once: two writers then queue on
    # the busy timeout instead of deadlocking when both upgrade from a read.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


_DEPTH = "transaction.depth"
_DOOMED = "transaction.doomed"


class NestedTransactionFailed(RuntimeError):
    """A transaction joined by an inner one that failed cannot commit: its work is partial."""


@contextmanager
def transaction() -> Iterator[so.Session]:
    """One workflow command: everything inside commits together or not at all.

    What the change's events call for runs around the commit (``api.services.effects``):
    summing-up work just before it, and the in-request effects once it is durable.

    Opened inside another, it joins the outer transaction (as Superset's commands do): the
    inner part commits with the outer one, its effects with it. If the inner part fails,
    the whole transaction is doomed: the outer one cannot commit even if it catches the
    error, so partial work is never made durable.
    """
    session = db.session()
    info = session.info
    if info.get(_DEPTH):
        with _joined(info):
            yield session
        return
    if session.in_transaction():
        session.commit()
    token = _write_intent.set(True)
    info[_DEPTH] = 1
    with _writers_queue(session):
        try:
            yield session
            if info.get(_DOOMED):
                raise NestedTransactionFailed(
                    "an inner transaction failed; the outer one cannot commit part of its work"
                )
            effects.run_before_commit()
            session.commit()
        except BaseException:
            session.rollback()
            effects.discard()
            raise
        finally:
            info.pop(_DEPTH, None)
            info.pop(_DOOMED, None)
            _write_intent.reset(token)
    effects.run_after_commit()


@contextmanager
def _joined(info: dict[str, Any]) -> Iterator[None]:
    info[_DEPTH] += 1
    try:
        yield
    except BaseException:
        info[_DOOMED] = True
        raise
    finally:
        info[_DEPTH] -= 1


_writer_locks: weakref.WeakKeyDictionary[sa.Engine, threading.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def _writers_queue(session: so.Session) -> Iterator[None]:
    """On SQLite, the writers of one process take turns on a lock of their own.

    SQLite lets one writer in at a time and makes the others poll its busy handler, which
    sleeps up to 100 ms between tries and keeps no order: under a steady stream of writes a
    writer can miss its turn until the busy timeout ends in "database is locked". Queued
    on a lock, the threads of a process wait their turn instead, and only one of them at a
    time meets other processes at SQLite's own lock. PostgreSQL needs none of this.
    """
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        yield
        return
    # setdefault is atomic: two threads' first writes get the same lock.
    with _writer_locks.get(engine) or _writer_locks.setdefault(engine, threading.Lock()):
        yield


def lock_for_update(statement: sa.Select[Any]) -> sa.Select[Any]:
    """Row locks where the database has them (PostgreSQL); SQLite's write lock covers it."""
    return statement.with_for_update()


# PostgreSQL's advisory lock that migrations and the seed hold while they run: "tarjuma" in
# ASCII, one 64-bit key for the whole project, so that no other lock of ours can meet it.
DEPLOY_LOCK_KEY = 0x7461726A756D61


@contextmanager
def deploy_lock(connection: sa.Connection, on_wait: Callable[[], None]) -> Iterator[None]:
    """One node at a time migrates or seeds the database; the others wait, then run.

    Several nodes of a rolling deploy may run ``flask db upgrade`` and ``flask seed`` at
    the same moment. On PostgreSQL each holds a session-level advisory lock on its own
    ``connection`` while it works, so the second waits for the first, then finds the
    schema at head and the content loaded, and does nothing. The lock outlives commits and
    ends with the session: a node that dies holding it releases it when its connection
    drops. ``on_wait`` is called once if another node holds it.

    SQLite serves one node: its write lock (``BEGIN IMMEDIATE`` above) already makes each
    of the seed's transactions see the others' work, and nothing else is taken there.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    key = {"key": DEPLOY_LOCK_KEY}
    if not connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), key):
        on_wait()
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), key)
    # Committed so that whoever uses the connection next starts a transaction of its own
    # (Alembic commits nothing on a connection it finds inside one).
    connection.commit()
    try:
        yield
    finally:
        if not connection.invalidated:
            connection.rollback()
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
