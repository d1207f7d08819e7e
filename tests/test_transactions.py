"""Write transactions: one command commits whole or not at all, nested or not.

A service that calls another service opens a transaction inside a transaction. The inner
one joins the outer: nothing commits before the outer one does, a failure anywhere rolls
back everything, and an effect asked for in the inner part runs once, after the commit.
These run on SQLite and, with ``make test-postgres``, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from api.database import NestedTransactionFailed, after_commit, transaction
from api.extensions import db
from api.models import Event, User
from api.services import audit
from api.services.accounts import identity


def _in_thread(app: Flask, body: Callable[[], None]) -> None:
    """Run ``body`` in a thread of its own; a writer waiting on itself would never return."""
    failure: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                body()
            except BaseException as error:
                failure.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "a nested transaction is waiting for its own writer"
    if failure:
        raise failure[0]


def _users(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(User.name)))


def _events(app: Flask, action: str) -> int:
    with app.app_context():
        return len(db.session.scalars(sa.select(Event.id).where(Event.action == action)).all())


def test_an_inner_transaction_commits_with_the_outer_one(app: Flask) -> None:
    ran: list[str] = []
    seen_inside: list[set[str]] = []

    def body() -> None:
        with transaction():
            identity.create_user("inner", "translator", ["ms"])
            after_commit(lambda: ran.append("inner"))
            seen_inside.append(_other_connection_users(app))
            audit.record("nested.outer", actor=None)
            assert ran == []

    _in_thread(app, body)
    assert "inner" in _users(app)
    assert _events(app, "nested.outer") == 1
    assert ran == ["inner"]
    # Until the outer transaction committed, no one else saw the inner part's user.
    assert "inner" not in seen_inside[0]


def _other_connection_users(app: Flask) -> set[str]:
    """The users another reader sees now (a thread of its own: it is not the writer)."""
    seen: list[set[str]] = []
    thread = threading.Thread(target=lambda: seen.append(_users(app)))
    thread.start()
    thread.join(timeout=30)
    return seen[0]


def test_a_failure_after_an_inner_transaction_leaves_nothing(app: Flask) -> None:
    ran: list[str] = []

    def body() -> None:
        with transaction():
            identity.create_user("partial", "translator", ["ms"])
            after_commit(lambda: ran.append("inner"))
            raise RuntimeError("the outer command fails after its inner part")

    with pytest.raises(RuntimeError, match="outer command fails"):
        _in_thread(app, body)
    assert "partial" not in _users(app)
    assert _events(app, "user.created") == 0
    assert ran == []


def test_an_outer_transaction_that_swallows_an_inner_failure_cannot_commit(app: Flask) -> None:
    ran: list[str] = []

    def body() -> None:
        with transaction():
            audit.record("nested.outer", actor=None)
            after_commit(lambda: ran.append("outer"))
            try:
                with transaction():
                    identity.create_user("half", "translator", ["ms"])
                    raise ValueError("the inner part fails")
            except ValueError:
                pass

    with pytest.raises(NestedTransactionFailed):
        _in_thread(app, body)
    assert "half" not in _users(app)
    assert _events(app, "nested.outer") == 0
    assert ran == []


def test_a_transaction_after_a_failed_one_starts_clean(app: Flask) -> None:
    def body() -> None:
        with pytest.raises(NestedTransactionFailed), transaction():
            try:
                with transaction():
                    raise ValueError("the inner part fails")
            except ValueError:
                pass
        identity.create_user("after", "translator", ["ms"])

    _in_thread(app, body)
    assert "after" in _users(app)
