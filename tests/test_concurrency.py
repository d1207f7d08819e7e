"""Racing approvals on a real database: exactly one version is published, none is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from api.extensions import db
from api.models import Event, TranslationVersion
from tests.conftest import Person
from tests.test_workflow import MALAY_INTRO, submit

RACERS = 6


def race_approvals(app: Flask, people: dict[str, Person], *, same_version: bool) -> list[int]:
    client = app.test_client()
    ids = [
        submit(client, people["translator"], body=f"{MALAY_INTRO} ({n})").get_json()["id"]
        for n in range(1 if same_version else RACERS)
    ]
    reviewers = [people["reviewer"], people["reviewer2"]]
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def approve(n: int) -> None:
        own_client = app.test_client()
        version_id = ids[0] if same_version else ids[n]
        barrier.wait(timeout=10)
        response = own_client.post(
            f"/api/v1/translations/{version_id}/approve",
            json={"comment": f"racer {n}"},
            headers=reviewers[n % 2].headers,
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == RACERS, "a racer did not finish"
    return statuses


def _state(app: Flask) -> dict[str, Any]:
    with app.app_context():
        versions = db.session.scalars(
            sa.select(TranslationVersion).where(TranslationVersion.locale == "ms")
        ).all()
        approvals = db.session.scalar(
            sa.select(sa.func.count(Event.id)).where(
                Event.action == "translation.approved", Event.locale == "ms"
            )
        )
        return {
            "statuses": sorted(v.status for v in versions),
            "count": len(versions),
            "approval_events": approvals,
        }


def _check_distinct_versions(app: Flask, people: dict[str, Person]) -> None:
    statuses = race_approvals(app, people, same_version=False)
    assert all(code in (200, 409) for code in statuses), statuses
    state = _state(app)
    assert state["count"] == RACERS
    assert state["statuses"].count("approved") == 1
    assert state["statuses"].count("approved") + state["statuses"].count("superseded") == (
        statuses.count(200)
    )
    assert state["approval_events"] == statuses.count(200)
    served = app.test_client().get(
        "/api/v1/essays/championing-islamic-nations-security/sections/introduction?locale=ms"
    )
    with app.app_context():
        published = db.session.scalar(
            sa.select(TranslationVersion.body).where(
                TranslationVersion.locale == "ms", TranslationVersion.status == "approved"
            )
        )
    assert served.get_json()["body"] == published


def _check_same_version(app: Flask, people: dict[str, Person]) -> None:
    statuses = race_approvals(app, people, same_version=True)
    assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
    state = _state(app)
    assert state["statuses"] == ["approved"] and state["approval_events"] == 1


def test_racing_approvals_of_different_versions(app: Flask, people: dict[str, Person]) -> None:
    _check_distinct_versions(app, people)


def test_racing_approvals_of_one_version(app: Flask, people: dict[str, Person]) -> None:
    _check_same_version(app, people)


def _pg_people(app: Flask) -> dict[str, Person]:
    from tests.conftest import make_person

    return {
        "translator": make_person(app, "tariq", "translator", "ms"),
        "reviewer": make_person(app, "rania", "reviewer", "ms"),
        "reviewer2": make_person(app, "rahim", "reviewer", "ms"),
    }


@pytest.mark.postgres
def test_racing_approvals_of_different_versions_on_postgres(pg_app: Flask) -> None:
    _check_distinct_versions(pg_app, _pg_people(pg_app))


@pytest.mark.postgres
def test_racing_approvals_of_one_version_on_postgres(pg_app: Flask) -> None:
    _check_same_version(pg_app, _pg_people(pg_app))
