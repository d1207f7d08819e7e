"""Accounts in the console: joining, passwords, sessions, throttling, and the people pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.extensions import db
from api.models import Event, User
from api.services.accounts import identity, invitations, passwords
from tests.conftest import Person
from tests.test_accounts import GOOD_PASSWORD, token_of
from tests.test_console import csrf_token, html, post
from tests.test_console import sign_in as sign_in_with_token

JOIN = "/console/join"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def invitation_url(app: Flask, locales: tuple[str, ...] = ("ar",), role: str = "translator") -> str:
    with app.test_request_context():
        issued = invitations.invite("nadia@example.org", role, locales, None)
        return f"{JOIN}/{issued.token}"


def with_password(app: Flask, name: str, password: str = GOOD_PASSWORD) -> None:
    with app.test_request_context():
        user = identity.get_user(name)
        identity_hash = passwords.hash_password(password)
        user.password_hash = identity_hash
        db.session.commit()


def sign_in(client: FlaskClient, name: str, password: str, **environ: str) -> TestResponse:
    if environ:
        client.environ_base.update(environ)
    return post(client, "/console/sign-in", {"name": name, "password": password})


def actions(app: Flask, prefix: str) -> list[Event]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(Event).where(Event.action.startswith(prefix)).order_by(Event.id)
            )
        )
        db.session.expunge_all()
        return rows


# --- joining ----------------------------------------------------------------------------


def test_an_invitee_chooses_a_name_and_password_and_is_signed_in(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    url = invitation_url(app)
    page = client.get(url)
    assert page.status_code == 200
    assert "You are invited as translator." in html(page)
    response = post(
        client,
        url,
        {"name": "nadia", "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    dashboard = client.get("/console/")
    assert dashboard.status_code == 200 and "nadia" in html(dashboard)
    with app.app_context():
        nadia = identity.get_user("nadia")
        assert (nadia.role, nadia.locales, nadia.email) == (
            "translator",
            ["ar"],
            "nadia@example.org",
        )
    # The link worked once.
    assert client.get(url).status_code == 410
    # And the password signs in from another browser.
    other = app.test_client()
    assert sign_in(other, "nadia", GOOD_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "nadia", "password": "too short", "password_again": "too short"}, "at least 12"),
        (
            {"name": "nadia", "password": "password1234", "password_again": "password1234"},
            "too common",
        ),
        (
            {"name": "nadia", "password": GOOD_PASSWORD, "password_again": "something else"},
            "not the same",
        ),
        (
            {"name": "nadia!", "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD},
            "letters, digits",
        ),
        (
            {"name": "tariq", "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD},
            "already exists",
        ),
    ],
)
def test_a_bad_choice_keeps_the_invitation(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    fields: dict[str, str],
    message: str,
) -> None:
    url = invitation_url(app)
    response = post(client, url, fields)
    assert response.status_code in (400, 409, 422)
    page = html(response)
    assert message in page and 'aria-invalid="true"' in page
    assert GOOD_PASSWORD not in page
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.name == "nadia")) is None
    assert client.get(url).status_code == 200
    assert client.get("/console/").status_code == 302


# --- signing in with a password ---------------------------------------------------------


def test_password_sign_in_rotates_the_session(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with_password(app, "tariq")
    before = csrf_token(client)
    response = sign_in(client, "tariq", GOOD_PASSWORD)
    assert response.status_code == 303
    assert client.get("/console/").status_code == 200
    # The session is new: the form token of the page signed out no longer works.
    stale = client.post("/console/sign-out", data={"csrf_token": before})
    assert stale.status_code == 400
    assert csrf_token(client, "/console/") != before


def test_a_wrong_password_is_refused_and_logged(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with_password(app, "tariq")
    wrong = sign_in(client, "tariq", "not the right password", REMOTE_ADDR="192.0.2.7")
    assert wrong.status_code == 401
    assert "The name or the password is not right." in html(wrong)
    unknown = sign_in(client, "nobody", GOOD_PASSWORD)
    assert unknown.status_code == 401
    no_password = sign_in(client, "siti", GOOD_PASSWORD)
    assert no_password.status_code == 401
    token = post(client, "/console/sign-in", {"token": "tj_guess"})
    assert token.status_code == 401
    assert client.get("/console/").status_code == 302
    failed = actions(app, "user.sign_in_failed")
    assert [e.after["reason"] for e in failed if e.after] == [
        "wrong-password",
        "unknown-user",
        "no-password",
        "invalid-token",
    ]
    assert failed[0].after is not None and failed[0].after["client"] == "192.0.2.7"
    assert [e.after["name"] for e in failed[:3] if e.after] == ["tariq", "nobody", "siti"]
    assert all(e.actor_id is None for e in failed)
    assert all(GOOD_PASSWORD not in str(e.after) for e in failed)


def test_a_deactivated_person_cannot_sign_in(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with_password(app, "tariq")
    with app.app_context():
        identity.update_user("tariq", {"active": False}, None)
    assert sign_in(client, "tariq", GOOD_PASSWORD).status_code == 401


def test_a_hash_with_old_parameters_is_redone_at_sign_in(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8192)
    with_password(app, "tariq")
    with app.app_context():
        old = identity.get_user("tariq").password_hash
    assert old is not None and "m=8192,t=1,p=1" in old
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=passwords.MEMORY_COST)
    assert sign_in(client, "tariq", GOOD_PASSWORD).status_code == 303
    with app.app_context():
        new = identity.get_user("tariq").password_hash
    assert new is not None and new != old
    assert f"m={passwords.MEMORY_COST},t=2,p=1" in new
    assert sign_in(app.test_client(), "tariq", GOOD_PASSWORD).status_code == 303


def test_tokens_still_sign_in(client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in_with_token(client, people["reviewer"])
    assert client.get("/console/review").status_code == 200


# --- ending sessions --------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with_password(app, "tariq")
    laptop, phone, by_token = app.test_client(), app.test_client(), app.test_client()
    sign_in(laptop, "tariq", GOOD_PASSWORD)
    sign_in(phone, "tariq", GOOD_PASSWORD)
    sign_in_with_token(by_token, people["translator"])
    other = app.test_client()
    sign_in_with_token(other, people["reviewer"])
    assert all(c.get("/console/").status_code == 200 for c in (laptop, phone, by_token, other))
    assert laptop.get("/console/account").status_code == 200
    response = post(laptop, "/console/account/sign-out-everywhere")
    assert response.status_code == 303
    for ended in (laptop, phone, by_token):
        assert ended.get("/console/").status_code == 302
    assert other.get("/console/").status_code == 200
    assert [e.action for e in actions(app, "user.sessions_ended")] == ["user.sessions_ended"]
    # The API token itself keeps working.
    assert client.get("/api/v1/me", headers=people["translator"].headers).status_code == 200


def test_deactivating_ends_sessions_and_tokens_at_once(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with_password(app, "tariq")
    by_password, by_token = app.test_client(), app.test_client()
    sign_in(by_password, "tariq", GOOD_PASSWORD)
    sign_in_with_token(by_token, people["translator"])
    admin = app.test_client()
    sign_in_with_token(admin, people["admin"])
    response = post(
        admin, "/console/people/tariq", {"role": "translator", "locales": ["ar", "ms"], "email": ""}
    )
    assert response.status_code == 303
    for ended in (by_password, by_token):
        assert ended.get("/console/").status_code == 302
    refused = client.get("/api/v1/me", headers=people["translator"].headers)
    assert refused.status_code == 401


def test_a_new_password_ends_other_sessions(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with_password(app, "tariq")
    elsewhere = app.test_client()
    sign_in(elsewhere, "tariq", GOOD_PASSWORD)
    with app.test_request_context():
        url = f"/console/reset-password/{invitations.password_reset('tariq', None).token}"
    assert "For <bdi>tariq</bdi>" in html(client.get(url))
    new = GOOD_PASSWORD + " again"
    response = post(client, url, {"password": new, "password_again": new})
    assert response.status_code == 303
    assert client.get("/console/").status_code == 200
    assert elsewhere.get("/console/").status_code == 302
    assert sign_in(app.test_client(), "tariq", GOOD_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "tariq", new).status_code == 303


# --- throttling -------------------------------------------------------------------------


class TestThrottledSignIns:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "1000 per minute",
            "AUTH_FAILURE_LIMIT": "4 per minute",
            "ACCOUNT_SIGN_IN_FAILURE_LIMIT": "3 per minute",
        }

    def test_one_account_from_many_addresses(
        self, app: Flask, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        with_password(app, "tariq")
        for number in range(3):
            address = f"192.0.2.{10 + number}"
            assert (
                sign_in(app.test_client(), "tariq", "wrong guess", REMOTE_ADDR=address).status_code
                == 401
            )
        fresh = app.test_client()
        fresh.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
        refused = sign_in(fresh, "tariq", GOOD_PASSWORD, REMOTE_ADDR="192.0.2.99")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        page = html(refused)
        assert "Trop de requêtes" in page
        assert refused.headers["Retry-After"] in page
        # Another account from the same address is not held back by it.
        with_password(app, "siti")
        assert (
            sign_in(app.test_client(), "siti", GOOD_PASSWORD, REMOTE_ADDR="192.0.2.99").status_code
            == 303
        )

    def test_one_address_trying_many_accounts(
        self, app: Flask, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        with_password(app, "rania")
        for name in ("tariq", "siti", "rahim", "fanny"):
            assert sign_in(client, name, "wrong guess", REMOTE_ADDR="192.0.2.50").status_code == 401
        refused = sign_in(client, "rania", GOOD_PASSWORD)
        assert refused.status_code == 429
        # The same count as bad tokens on the API: that address is refused there too.
        api = client.get(
            "/api/v1/me",
            headers=people["reviewer"].headers,
            environ_base={"REMOTE_ADDR": "192.0.2.50"},
        )
        assert api.status_code == 429
        assert api.headers["Content-Type"] == "application/problem+json"
        assert (
            sign_in(app.test_client(), "rania", GOOD_PASSWORD, REMOTE_ADDR="192.0.2.51").status_code
            == 303
        )


# --- people pages -----------------------------------------------------------------------


def test_the_people_pages_are_for_admins(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in_with_token(client, people["reviewer"])
    assert "/console/people" not in html(client.get("/console/"))
    assert client.get("/console/people").status_code == 403
    assert client.get("/console/people/tariq").status_code == 403
    assert (
        post(
            client, "/console/people/invite", {"email": "x@example.org", "role": "admin"}
        ).status_code
        == 403
    )
    assert post(client, "/console/people/tariq", {"role": "admin"}).status_code == 403
    with app.app_context():
        assert identity.get_user("tariq").role == "translator"


def test_an_admin_invites_from_the_console(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in_with_token(client, people["admin"])
    page = client.get("/console/people")
    assert page.status_code == 200 and "tariq" in html(page)
    bad = post(client, "/console/people/invite", {"email": "nobody", "role": "translator"})
    assert bad.status_code == 422 and "not a valid email address" in html(bad)
    response = post(
        client,
        "/console/people/invite",
        {
            "email": "omid@example.org",
            "role": "reviewer",
            "locales": ["fa", "ur"],
            "expires_in_days": "7",
        },
    )
    assert response.status_code == 200
    found = re.search(r'id="account-link"[^>]* value="([^"]+)"', html(response))
    assert found, html(response)
    url = found.group(1)
    assert url.startswith("http://localhost/console/join/")
    listing = html(client.get("/console/people"))
    assert "omid@example.org" in listing and token_of(url) not in listing
    invitation_id = int(re.search(r"/console/invitations/(\d+)/revoke", listing).group(1))  # type: ignore[union-attr]
    assert post(client, f"/console/invitations/{invitation_id}/revoke").status_code == 303
    assert app.test_client().get(url).status_code == 410


def test_an_admin_changes_someone_and_makes_a_password_link(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in_with_token(client, people["admin"])
    assert "Role, locales and access" in html(client.get("/console/people/siti"))
    bad = post(
        client, "/console/people/siti", {"role": "reviewer", "email": "siti at home", "active": "y"}
    )
    assert bad.status_code == 422 and "not a valid email address" in html(bad)
    response = post(
        client,
        "/console/people/siti",
        {"role": "reviewer", "locales": ["ms", "id"], "email": "siti@example.org", "active": "y"},
    )
    assert response.status_code == 303
    with app.app_context():
        siti = identity.get_user("siti")
        assert (siti.role, siti.locales, siti.email, siti.is_active) == (
            "reviewer",
            ["id", "ms"],
            "siti@example.org",
            True,
        )
    last = post(client, "/console/people/ada", {"role": "reviewer", "active": "y"})
    assert last.status_code == 409 and "At least one active admin must remain." in html(last)
    link = post(client, "/console/people/siti/password-reset")
    assert link.status_code == 200
    assert "/console/reset-password/" in html(link)


class TestThrottledBehindProxies:
    """Behind a trusted proxy, sign-ins count against the client it names, not the proxy."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "1000 per minute",
            "AUTH_FAILURE_LIMIT": "3 per minute",
            "ACCOUNT_SIGN_IN_FAILURE_LIMIT": "100 per minute",
            "TRUSTED_PROXIES": ["192.0.2.1"],
        }

    def test_the_client_behind_the_proxy_is_throttled(
        self, app: Flask, people: dict[str, Person]
    ) -> None:
        with_password(app, "rania")

        def through_proxy(client_address: str) -> FlaskClient:
            client = app.test_client()
            client.environ_base.update(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=client_address)
            return client

        guesser = through_proxy("198.51.100.7")
        for name in ("tariq", "siti", "rahim"):
            assert sign_in(guesser, name, "wrong guess").status_code == 401
        assert sign_in(guesser, "rania", GOOD_PASSWORD).status_code == 429
        # Another client through the same proxy signs in.
        assert sign_in(through_proxy("198.51.100.8"), "rania", GOOD_PASSWORD).status_code == 303
        logged = actions(app, "user.sign_in_failed")
        assert {e.after["client"] for e in logged if e.after} == {"198.51.100.7"}
