"""Importing essays, the command line, and the service's limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.extensions import db
from api.models import Event, SourceRevision, Unit
from api.services.markdown_essay import parse_essay, slugify
from tests.conftest import ROOT, SLUG, Person

SEED = ROOT / "content" / "essays" / f"{SLUG}.md"


def test_seed_file_is_kept_as_received() -> None:
    raw = SEED.read_bytes()
    assert "â€™".encode() in raw and raw.startswith(b"# Championing for Islamic Nation")


def test_parser_finds_seven_units_and_repairs_mojibake() -> None:
    essay = parse_essay(SEED.read_text(encoding="utf-8"))
    assert [u.key for u in essay.units] == [
        "title",
        "introduction",
        "strategic-alliances-and-diplomacy",
        "enhanced-intelligence-capabilities",
        "technological-advancements-in-defense",
        "active-participation-in-international-forums",
        "conclusion",
    ]
    assert essay.title == "Championing for Islamic Nation’s Security: Building a Strong Ummah"
    assert essay.units[-1].heading is None
    assert essay.units[-1].body.startswith("In conclusion, championing")
    assert essay.units[-2].body.endswith("regional harmony.")


def test_parser_keeps_markdown_and_unique_keys() -> None:
    essay = parse_essay(
        "# T\n\nIntro *with* [a link](https://example.org).\n\n## Same\n\n- one\n- two\n\n"
        "## Same\n\n```\n## not a heading\n```\n"
    )
    assert [u.key for u in essay.units] == ["title", "introduction", "same", "same-2"]
    assert essay.units[2].body == "- one\n- two"
    assert "## not a heading" in essay.units[3].body
    assert slugify("Nation’s Ümmet Çağı") == "nations-ummet-cagi"


def _units(app: Flask) -> dict[str, tuple[int, str]]:
    with app.app_context():
        return {u.key: (u.source_revision, u.body) for u in db.session.scalars(sa.select(Unit))}


def test_reimport_changes_exactly_what_changed(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    before = _units(app)
    result = runner.invoke(args=["essays", "import", str(SEED)])
    assert result.exit_code == 0 and "0 created, 0 changed, 7 unchanged" in result.output
    assert _units(app) == before

    edited = tmp_path / f"{SLUG}.md"
    edited.write_text(
        SEED.read_text(encoding="utf-8").replace(
            "Let's delve into this important issue.", "Let us look closer."
        ),
        encoding="utf-8",
    )
    result = runner.invoke(args=["essays", "import", str(edited)])
    assert "0 created, 1 changed, 6 unchanged" in result.output
    after = _units(app)
    assert after["introduction"][0] == 2 and after["introduction"][1].endswith(
        "Let us look closer."
    )
    assert {k: v for k, v in after.items() if k != "introduction"} == {
        k: v for k, v in before.items() if k != "introduction"
    }
    with app.app_context():
        kept = db.session.scalars(
            sa.select(SourceRevision.body)
            .join(Unit)
            .where(Unit.key == "introduction")
            .order_by(SourceRevision.revision)
        ).all()
        assert kept[0] == before["introduction"][1] and len(kept) == 2
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Event.id)).where(Event.action == "source.edited")
            )
            == 1
        )


def test_seed_is_idempotent(app: Flask, client: FlaskClient) -> None:
    etag = client.get(f"/api/v1/essays/{SLUG}?locale=ar").headers["ETag"]
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0 and "0 published, 7 unchanged" in result.output
    assert client.get(f"/api/v1/essays/{SLUG}?locale=ar").headers["ETag"] == etag


def test_cli_refuses_bad_users(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "bad name", "--role", "translator"]).exit_code
    assert runner.invoke(args=["users", "create", "x", "--role", "emperor"]).exit_code
    assert runner.invoke(args=["users", "create", "amina", "--role", "admin"]).exit_code == 0
    duplicate = runner.invoke(args=["users", "create", "amina", "--role", "admin"])
    assert duplicate.exit_code and "already exists" in duplicate.output
    assert runner.invoke(args=["tokens", "create", "nobody"]).exit_code
    assert runner.invoke(args=["tokens", "revoke", "424242"]).exit_code


def test_revoking_one_token_by_id(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    runner = app.test_cli_runner()
    second = runner.invoke(args=["tokens", "create", people["translator"].name])
    token_id = second.output.split()[1]
    token = second.output.strip().splitlines()[-1]
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/me", headers=people["translator"].headers).status_code == 200


def test_request_body_size_is_limited(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.post(
        f"/api/v1/essays/{SLUG}/sections/introduction/translations",
        data=b'{"locale": "ms", "body": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        content_type="application/json",
        headers=people["translator"].headers,
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"


def test_malformed_json_is_a_problem(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.post(
        f"/api/v1/essays/{SLUG}/sections/introduction/translations",
        data=b'{"locale": ',
        content_type="application/json",
        headers=people["translator"].headers,
    )
    assert 400 <= response.status_code < 500
    assert response.headers["Content-Type"] == "application/problem+json"


class TestRateLimits:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        # A moving window: a fixed one would reset if the run crossed its boundary.
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "3 per minute",
            "RATELIMIT_STRATEGY": "moving-window",
        }

    def test_writes_are_limited_reads_are_not(
        self, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        statuses = [
            client.post(
                f"/api/v1/translations/{n}/withdraw", headers=people["translator"].headers
            ).status_code
            for n in range(900_001, 900_006)
        ]
        assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]
        assert all(client.get("/api/v1/locales").status_code == 200 for _ in range(6))


def test_not_ready_before_migrations(tmp_path: Path) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
            "SECRET_KEY": "test-secret",
            "TESTING": True,
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"
    assert app.test_client().get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_a_database_out_of_reach_is_a_503_problem_not_a_500() -> None:
    """Nothing listens on port 1: every request that needs the database finds it gone."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tarjuma@127.0.0.1:1/tarjuma",
            "SECRET_KEY": "test-secret",
        }
    )
    client = app.test_client()
    for path in (f"/api/v1/essays/{SLUG}", "/api/v1/changes", "/api/v1/locales"):
        response = client.get(path, headers={"Accept-Language": "fr"})
        assert response.status_code == 503, path
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] == "1"
        assert response.get_json()["title"] == "Service indisponible"
    assert client.get("/healthz").status_code == 200


def test_a_missing_table_stays_a_500_not_a_retry(tmp_path: Path) -> None:
    """SQLite calls a missing table operational too; it is a bug, not a busy database."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unmigrated.db'}",
            "SECRET_KEY": "test-secret",
            "TESTING": True,
        }
    )
    response = app.test_client().get("/api/v1/changes")
    assert response.status_code == 500 and "Retry-After" not in response.headers
    with app.app_context():
        db.engine.dispose()


def _edit_source(client: FlaskClient, admin: Person, body: str) -> Any:
    section = f"/api/v1/essays/{SLUG}/sections/conclusion"
    etag = client.get(section, query_string={"locale": "en"}).headers["ETag"]
    return client.put(section, json={"body": body}, headers={**admin.headers, "If-Match": etag})


def test_source_edits_store_bare_line_breaks_and_refuse_control_characters(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    edited = _edit_source(client, people["admin"], "\r\nFirst line.\r\nSecond line.\n")
    assert edited.status_code == 200, edited.get_json()
    with app.app_context():
        unit = db.session.scalars(sa.select(Unit).where(Unit.key == "conclusion")).one()
        assert (unit.body, unit.source_revision) == ("First line.\nSecond line.", 2)
        db.session.remove()
    refused = _edit_source(client, people["admin"], "A bell \x07 rings.")
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["body"]
    with app.app_context():
        unit = db.session.scalars(sa.select(Unit).where(Unit.key == "conclusion")).one()
        assert (unit.body, unit.source_revision) == ("First line.\nSecond line.", 2)
        db.session.remove()


def test_source_edits_are_held_to_the_configured_length(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    app.config["MAX_TRANSLATION_LENGTH"] = 30
    refused = _edit_source(client, people["admin"], "In conclusion, security matters a great deal.")
    assert refused.status_code == 422
    [check] = refused.get_json()["checks"]
    assert (check["code"], check["params"]["limit"]) == ("too_long", 30)
    accepted = _edit_source(client, people["admin"], "In conclusion, it matters.")
    assert accepted.status_code == 200, accepted.get_json()
