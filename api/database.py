"""Engine set-up: SQLite made safe for concurrent use, write transactions with what runs
around their commit, and reads on connections each thread keeps open."""

from __future__ import annotations

import contextvars
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
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


# --- reads on held connections -----------------------------------------------------------

# A compiled statement: its SQL, and the order of its parameters for a positional driver.
Prepared = tuple[str, Sequence[str] | None]


class HeldConnections:
    """Single-statement reads on one autocommit connection per thread, kept open.

    A read made here checks out no pooled connection, so it pays for no liveness ping,
    transaction or reset around its one statement, and sees everything committed before
    it. Statements are compiled once (``prepare``) and run on the driver's cursor
    (PostgreSQL prepares them on the server). A connection the server has dropped is
    replaced and the read retried once; the connections close with the engine, and a
    forked child leaves its parent's alone.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._open: weakref.WeakSet[HeldConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._prepare = engine.dialect.name == "postgresql"
        self._error: type[Any] = engine.dialect.loaded_dbapi.Error
        sa.event.listen(engine, "engine_disposed", lambda _engine: self.close())
        _forget_in_forked_children(self)

    def prepare(self, statement: sa.ClauseElement) -> Prepared:
        dialect = self.engine.dialect
        compiled: Any = statement.compile(dialect=dialect)
        return str(compiled), compiled.positiontup if compiled.positional else None

    def read(self, prepared: Prepared, named: Mapping[str, Any]) -> list[Any]:
        """The rows of one prepared statement with the ``named`` parameters."""
        sql, order = prepared
        params: Any = named if order is None else tuple(named[name] for name in order)
        for attempt in (1, 2):
            held: HeldConnection | None = None
            try:
                held = self.held()
                if self._prepare:
                    held.cursor.execute(sql, params, prepare=True)
                else:
                    held.cursor.execute(sql, params)
                return held.cursor.fetchall()
            except self._error as error:
                if held is not None:  # else no connection: the database is out of reach
                    dialect = self.engine.dialect
                    dropped = dialect.is_disconnect(error, held.connection, held.cursor)
                    self._discard(held)
                    if dropped and attempt == 1:
                        continue
                raise sa.exc.DBAPIError.instance(sql, params, error, self._error) from error
        raise AssertionError("unreachable")

    def held(self) -> HeldConnection:
        """This thread's connection, opened on its first read."""
        held: HeldConnection | None = getattr(self._local, "held", None)
        if held is None:
            fairy = self.engine.raw_connection()
            fairy.detach()
            connection: Any = fairy.dbapi_connection
            self.engine.dialect.set_isolation_level(connection, "AUTOCOMMIT")
            held = HeldConnection(connection, connection.cursor())
            self._local.held = held
            with self._lock:
                self._open.add(held)
        return held

    def close(self) -> None:
        """Close every thread's connection (the next read opens a new one)."""
        with self._lock:
            held = list(self._open)
            self._open.clear()
        self._local = threading.local()
        for item in held:
            item.close()

    def forget(self) -> None:
        """After ``fork``: leave the parent's connections to it, never closing them here."""
        _inherited.extend(self._open)
        self._open = weakref.WeakSet()
        self._local = threading.local()

    def _discard(self, held: HeldConnection) -> None:
        self._local.held = None
        with self._lock:
            self._open.discard(held)
        held.close()


class HeldConnection:
    """One thread's connection and its cursor; closed with the thread at the latest."""

    def __init__(self, connection: Any, cursor: Any) -> None:
        self.connection = connection
        self.cursor = cursor

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: S110 - a connection already gone needs no closing
            pass


_every: weakref.WeakSet[HeldConnections] = weakref.WeakSet()
_inherited: list[HeldConnection] = []  # a forked child's copies of its parent's connections
_fork_lock = threading.Lock()
_hears_forks = False


def _forget_after_fork() -> None:
    for connections in list(_every):
        connections.forget()


def _forget_in_forked_children(connections: HeldConnections) -> None:
    """The first set of held connections asks, once per process, to hear of forks."""
    global _hears_forks
    with _fork_lock:
        if not _hears_forks:
            os.register_at_fork(after_in_child=_forget_after_fork)
            _hears_forks = True
        _every.add(connections)


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
