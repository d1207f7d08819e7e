"""Accounts over the API: invitations, people, password links, and what the log keeps."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import AccountLink, ApiToken, Event, User
from api.services.accounts import identity, invitations, passwords
from tests.conftest import Person

INVITATIONS = "/api/v1/invitations"
USERS = "/api/v1/users"
GOOD_PASSWORD = "quiet harbour lanterns 42"
SECRETS_NEVER_LOGGED = (GOOD_PASSWORD,)


def invite(client: FlaskClient, admin: Person, **body: Any) -> Any:
    payload = {"email": "nadia@example.org", "role": "translator", "locales": ["ar"], **body}
    return client.post(INVITATIONS, json=payload, headers=admin.headers)


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def events(app: Flask, prefix: str = "") -> list[Event]:
    with app.app_context():
        found = db.session.scalars(
            sa.select(Event).where(Event.action.startswith(prefix)).order_by(Event.id)
        )
        rows = list(found)
        for event in rows:
            _ = event.actor
        db.session.expunge_all()
        return rows


# --- invitations ------------------------------------------------------------------------


def test_an_admin_invites_and_the_link_is_shown_once(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    response = invite(client, people["admin"], email="Nadia@Example.org")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "url", "expires_at", "emailed"}
    assert body["url"].startswith("http://localhost/console/join/")
    assert body["emailed"] is False  # no SMTP_URL: the admin hands the link over
    token = token_of(body["url"])
    with app.app_context():
        link = db.session.get(AccountLink, body["id"])
        assert link is not None
        assert link.token_hash == identity.hash_token(token) and token not in link.token_hash
        assert link.email == "nadia@example.org"
        assert link.expires_at - link.created_at == timedelta(days=7)
    listed = client.get(INVITATIONS, headers=people["admin"].headers).get_json()
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert item["email"] == "nadia@example.org" and item["state"] == "pending"
    assert item["invited_by"] == "ada" and item["locales"] == ["ar"]
    assert token not in json.dumps(listed)


@pytest.mark.parametrize("who", ["translator", "reviewer"])
def test_only_admins_invite_or_list(
    app: Flask, client: FlaskClient, people: dict[str, Person], who: str
) -> None:
    assert invite(client, people[who]).status_code == 403
    assert client.get(INVITATIONS, headers=people[who].headers).status_code == 403
    assert client.get(INVITATIONS).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AccountLink.id))) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not-an-address"}, 422, "email"),
        ({"email": "two@@example.org"}, 422, "email"),
        ({"role": "owner"}, 422, "role"),
        ({"expires_in_days": 31}, 422, "expires_in_days"),
        ({"extra": 1}, 422, "extra"),
    ],
)
def test_bad_invitations_are_refused_and_change_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    response = invite(client, people["admin"], **body)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AccountLink.id))) == 0


def test_a_locale_not_offered_is_refused(client: FlaskClient, people: dict[str, Person]) -> None:
    response = invite(client, people["admin"], locales=["xx"])
    assert response.status_code == 400


def test_an_address_already_in_use_is_a_conflict(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with app.app_context():
        identity.update_user("tariq", {"email": "tariq@example.org"}, None)
    response = invite(client, people["admin"], email="TARIQ@example.org")
    assert response.status_code == 409


def test_a_withdrawn_invitation_is_gone(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    body = invite(client, people["admin"]).get_json()
    admin = people["admin"].headers
    assert client.delete(f"{INVITATIONS}/{body['id']}", headers=admin).status_code == 204
    assert client.delete(f"{INVITATIONS}/{body['id']}", headers=admin).status_code == 404
    assert client.get(INVITATIONS, headers=admin).get_json()["total"] == 0
    page = client.get(body["url"])
    assert page.status_code == 410
    assert "withdrawn" in page.get_data(as_text=True)
    problem = client.get(body["url"], headers={"Accept": "application/json"})
    assert problem.status_code == 410
    assert problem.headers["Content-Type"] == "application/problem+json"
    assert problem.get_json()["type"] == "urn:tarjuma:problem:gone"


def test_a_used_invitation_cannot_be_withdrawn_and_its_link_is_gone(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    body = invite(client, people["admin"]).get_json()
    with app.test_request_context():
        user = invitations.accept_invitation(token_of(body["url"]), "nadia", GOOD_PASSWORD)
        assert user.role == "translator" and user.locales == ["ar"]
        assert user.email == "nadia@example.org"
    admin = people["admin"].headers
    assert client.delete(f"{INVITATIONS}/{body['id']}", headers=admin).status_code == 409
    (item,) = client.get(INVITATIONS, headers=admin).get_json()["items"]
    assert item["state"] == "used" and item["user"] == "nadia"
    assert client.get(body["url"]).status_code == 410
    with app.test_request_context(), pytest.raises(Exception) as caught:
        invitations.accept_invitation(token_of(body["url"]), "nadia2", GOOD_PASSWORD)
    assert getattr(caught.value, "status", None) == 410


def test_an_expired_invitation_is_gone(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    body = invite(client, people["admin"]).get_json()
    with app.app_context():
        link = db.session.get(AccountLink, body["id"])
        assert link is not None
        link.created_at -= timedelta(days=8)
        link.expires_at -= timedelta(days=8)
        db.session.commit()
    response = client.get(body["url"], headers={"Accept": "application/json"})
    assert response.status_code == 410
    assert "expired" in response.get_json()["detail"]
    (item,) = client.get(INVITATIONS, headers=people["admin"].headers).get_json()["items"]
    assert item["state"] == "expired"


def test_an_unknown_link_is_not_found(client: FlaskClient) -> None:
    assert client.get("/console/join/not-a-token").status_code == 404
    assert client.get("/console/reset-password/not-a-token").status_code == 404


# --- people -----------------------------------------------------------------------------


def test_admins_list_people(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.get(USERS, headers=people["admin"].headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 7
    names = [item["name"] for item in body["items"]]
    assert names == sorted(names)
    tariq = next(item for item in body["items"] if item["name"] == "tariq")
    assert tariq == {
        "name": "tariq",
        "role": "translator",
        "locales": ["ar", "ms"],
        "active": True,
        "email": None,
        "has_password": False,
        "created_at": tariq["created_at"],
    }
    assert client.get(USERS, headers=people["reviewer"].headers).status_code == 403


def test_an_admin_changes_role_locales_and_email(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    response = client.patch(
        f"{USERS}/siti",
        json={"role": "reviewer", "locales": ["ms", "id"], "email": "Siti@Example.org"},
        headers=people["admin"].headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "reviewer" and body["locales"] == ["id", "ms"]
    assert body["email"] == "siti@example.org"
    me = client.get("/api/v1/me", headers=people["translator2"].headers).get_json()
    assert me["roles"] == ["reviewer"]
    logged = {e.action: e for e in events(app, "user.")}
    assert logged["user.role_changed"].before == {"name": "siti", "role": "translator"}
    assert logged["user.role_changed"].after == {"name": "siti", "role": "reviewer"}
    assert logged["user.role_changed"].actor is not None
    assert logged["user.role_changed"].actor.name == "ada"
    assert logged["user.locales_changed"].after == {"name": "siti", "locales": ["id", "ms"]}
    assert logged["user.email_changed"].after == {"name": "siti", "email": "siti@example.org"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "nobody"}, 422),
        ({"email": "a@b@c"}, 422),
        ({"role": "owner"}, 422),
        ({"active": "maybe"}, 422),
        ({"name": "renamed"}, 422),
        ({"locales": ["xx"]}, 400),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person], body: dict[str, Any], status: int
) -> None:
    response = client.patch(f"{USERS}/siti", json=body, headers=people["admin"].headers)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    with app.app_context():
        siti = identity.get_user("siti")
        assert (siti.role, siti.locales, siti.email, siti.is_active) == (
            "translator",
            ["ms"],
            None,
            True,
        )
    assert [e.action for e in events(app, "user.") if e.action != "user.created"] == []


def test_changing_people_is_for_admins(client: FlaskClient, people: dict[str, Person]) -> None:
    for who in ("translator", "reviewer"):
        response = client.patch(
            f"{USERS}/siti", json={"role": "admin"}, headers=people[who].headers
        )
        assert response.status_code == 403
    assert (
        client.patch(f"{USERS}/nobody", json={}, headers=people["admin"].headers).status_code == 404
    )


def test_the_last_admin_stays(app: Flask, client: FlaskClient, people: dict[str, Person]) -> None:
    admin = people["admin"].headers
    for body in ({"role": "reviewer"}, {"active": False}):
        response = client.patch(f"{USERS}/ada", json=body, headers=admin)
        assert response.status_code == 409
    assert client.patch(f"{USERS}/rania", json={"role": "admin"}, headers=admin).status_code == 200
    assert client.patch(f"{USERS}/ada", json={"role": "reviewer"}, headers=admin).status_code == 200


def test_deactivating_revokes_tokens_at_once(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    tariq = people["translator"]
    with app.app_context():
        second = identity.issue_token("tariq").token
    assert client.get("/api/v1/me", headers=tariq.headers).status_code == 200
    response = client.patch(
        f"{USERS}/tariq", json={"active": False}, headers=people["admin"].headers
    )
    assert response.status_code == 200 and response.get_json()["active"] is False
    for token in (tariq.token, second):
        refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
    with app.app_context():
        tokens = db.session.scalars(
            sa.select(ApiToken).join(User).where(User.name == "tariq")
        ).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)
    (deactivated,) = events(app, "user.deactivated")
    assert deactivated.after is not None and len(deactivated.after["tokens_revoked"]) == 2
    assert len(events(app, "token.revoked")) == 2
    # Reactivated, the person needs new credentials: the old tokens stay revoked.
    client.patch(f"{USERS}/tariq", json={"active": True}, headers=people["admin"].headers)
    assert client.get("/api/v1/me", headers=tariq.headers).status_code == 401
    assert [e.action for e in events(app, "user.reactivated")] == ["user.reactivated"]


def test_the_event_log_shows_changes_to_people_to_admins_only(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    invite(client, people["admin"])
    for who, expected in (("admin", 1), ("reviewer", 0)):
        listed = client.get(
            "/api/v1/events",
            query_string={"action": "invitation.created"},
            headers=people[who].headers,
        ).get_json()
        assert listed["total"] == expected


# --- password links ---------------------------------------------------------------------


def test_a_password_reset_link_sets_a_password_once(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    response = client.post(f"{USERS}/tariq/password-reset", headers=people["admin"].headers)
    assert response.status_code == 201
    url = response.get_json()["url"]
    assert "/console/reset-password/" in url
    with app.test_request_context():
        user = invitations.reset_password(token_of(url), GOOD_PASSWORD)
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert passwords.verify(user.password_hash, GOOD_PASSWORD)
    assert client.get(url).status_code == 410
    assert (
        client.post(f"{USERS}/tariq/password-reset", headers=people["reviewer"].headers).status_code
        == 403
    )
    assert (
        client.post(f"{USERS}/nobody/password-reset", headers=people["admin"].headers).status_code
        == 404
    )


def test_a_new_reset_link_replaces_the_last(client: FlaskClient, people: dict[str, Person]) -> None:
    admin = people["admin"].headers
    first = client.post(f"{USERS}/tariq/password-reset", headers=admin).get_json()["url"]
    second = client.post(f"{USERS}/tariq/password-reset", headers=admin).get_json()["url"]
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_an_invitation_link_is_not_a_reset_link(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    url = invite(client, people["admin"]).get_json()["url"]
    assert client.get(url.replace("/join/", "/reset-password/")).status_code == 404


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters"),
        ("nadianadia", "at least 12 characters"),
        ("NADIA-2024!!", "not your name"),
        ("nadia_writes", None),
        ("baseball1234", "too common"),
        ("Password123456!", "too common"),
        ("qwertyuiop12", "too common"),
    ],
)
def test_password_rules(app: Flask, password: str, message: str | None) -> None:
    with app.test_request_context():
        found = passwords.problems(password, "nadia")
    if message is None:
        assert found == []
    else:
        assert len(found) == 1 and message in found[0]


def test_the_common_list_ships_with_the_package() -> None:
    common = passwords.common_passwords()
    assert len(common) > 19_000
    assert {"password", "iloveyou", "1qaz2wsx3edc"} <= common


def test_events_never_hold_a_secret(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    invitation = invite(client, people["admin"]).get_json()
    reset = client.post(f"{USERS}/tariq/password-reset", headers=people["admin"].headers).get_json()
    with app.test_request_context():
        invitations.accept_invitation(token_of(invitation["url"]), "nadia", GOOD_PASSWORD)
        invitations.reset_password(token_of(reset["url"]), GOOD_PASSWORD + "!")
    logged = events(app)
    actions = {e.action for e in logged}
    assert {
        "invitation.created",
        "invitation.accepted",
        "password_reset.created",
        "user.password_set",
        "user.created",
    } <= actions
    text = json.dumps([[e.before, e.after] for e in logged])
    for secret in (token_of(invitation["url"]), token_of(reset["url"]), GOOD_PASSWORD):
        assert secret not in text
    with app.app_context():
        hashes = [u.password_hash for u in db.session.scalars(sa.select(User)) if u.password_hash]
    assert hashes and not any(h in text for h in hashes)


def test_cli_creates_a_user_with_an_email(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "leila",
            "--role",
            "reviewer",
            "--locale",
            "fa",
            "--email",
            "Leila@Example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert identity.get_user("leila").email == "leila@example.org"
    bad = runner.invoke(args=["users", "create", "omid", "--role", "translator", "--email", "omid"])
    assert bad.exit_code != 0 and "not a valid email address" in bad.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.name == "omid")) is None


def test_cli_makes_a_password_link(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        identity.create_user("ada", "admin")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "password-link", "ada", "--base-url", "https://tarjuma.example.org"]
    )
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("https://tarjuma.example.org/console/reset-password/")
    assert client.get(urlsplit(url).path).status_code == 200
    missing = runner.invoke(args=["users", "password-link", "nobody"])
    assert missing.exit_code != 0 and "There is no user nobody." in missing.output


def test_an_invitation_opened_twice_at_once_makes_one_account(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    import threading

    url = invite(client, people["admin"]).get_json()["url"]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def accept(name: str) -> None:
        with app.test_request_context():
            barrier.wait()
            try:
                outcomes.append(
                    invitations.accept_invitation(token_of(url), name, GOOD_PASSWORD).name
                )
            except Exception as error:
                outcomes.append(getattr(error, "status", repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("nadia", "nadia2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count(410) == 1, outcomes
    with app.app_context():
        made = db.session.scalars(
            sa.select(User.name).where(User.email == "nadia@example.org")
        ).all()
    assert len(made) == 1 and made[0] in ("nadia", "nadia2")
