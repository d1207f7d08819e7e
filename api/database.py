"""Engine set-up: SQLite made safe for concurrent use, and write transactions with what
runs around their commit."""

from __future__ import annotations

import contextvars
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db

log = logging.getLogger(__name__)
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

    What the change asked for runs around the commit: ``before_commit`` work just before
    it (a failure there aborts the change), ``after_commit`` work once it is durable.

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
            _run_before_commit(info)
            session.commit()
        except BaseException:
            session.rollback()
            _discard(info)
            raise
        finally:
            info.pop(_DEPTH, None)
            info.pop(_DOOMED, None)
            _write_intent.reset(token)
    _run_after_commit(info)


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


# --- what runs around the commit ----------------------------------------------------------
# Kept in the session's ``info``, which lives as long as the session: each key is cleared
# when the transaction commits or rolls back.

_STATE = "transaction.state"
_BEFORE = "transaction.before_commit"
_AFTER = "transaction.after_commit"


def transaction_state() -> dict[str, Any]:
    """Scratch space that lives as long as the current transaction (for derivers)."""
    return db.session().info.setdefault(_STATE, {})


def before_commit(key: str, fn: Callable[[], None]) -> None:
    """Run ``fn`` once, just before the current transaction commits (inside it)."""
    db.session().info.setdefault(_BEFORE, {}).setdefault(key, fn)


def after_commit(fn: Callable[[], None]) -> None:
    """Run ``fn`` once the current transaction has committed; dropped on rollback."""
    db.session().info.setdefault(_AFTER, []).append(fn)


def _run_before_commit(info: dict[str, Any]) -> None:
    """Inside the transaction, before it commits; a failure aborts the change."""
    while pending := info.pop(_BEFORE, None):
        for fn in pending.values():
            fn()


def _run_after_commit(info: dict[str, Any]) -> None:
    """Once the transaction committed.

    The change is durable by now, so a failing callback is logged and never turns the
    writer's success into an error: whatever it did must also be safe in the outbox.
    """
    info.pop(_STATE, None)
    for fn in info.pop(_AFTER, []):
        try:
            fn()
        except Exception:
            log.exception("after-commit effect %r failed", fn)


def _discard(info: dict[str, Any]) -> None:
    """Forget everything the rolled-back transaction asked for."""
    for key in (_STATE, _BEFORE, _AFTER):
        info.pop(key, None)


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
