"""Notifications (API.md: Notifications): settings, derived notifications, mail through a
real SMTP server (aiosmtpd), digests, unsubscribing, retries, and the console."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext

from api import i18n
from api.database import transaction
from api.extensions import db
from api.models import Job, Notification
from api.models.types import utcnow
from api.services import audit, jobs
from api.services.accounts import identity
from api.services.notify import mail
from api.services.notify.derive import DIGEST_JOB, INSTANT_JOB, next_digest
from tests.conftest import SLUG, Person
from tests.mailbox import Mailbox
from tests.test_console import html, post, sign_in
from tests.test_workflow import MALAY_INTRO, action, submit

SETTINGS = "/api/v1/me/notifications/settings"
NOTIFICATIONS = "/api/v1/me/notifications"
SECTION = f"/api/v1/essays/{SLUG}/sections/introduction"
FRENCH_INTRO = "Faire progresser la sécurité des nations islamiques est essentiel."


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    mail.hang_up()  # the connection this thread kept open for the next mail
    box.stop()


@pytest.fixture
def app_config(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "SMTP_URL": mailbox.url,
        "MAIL_FROM": "Tarjuma <tarjuma@example.org>",
        "PUBLIC_BASE_URL": "https://tarjuma.example.org",
        "MAIL_RETRY_SCHEDULE": "0,0",
        "SMTP_TIMEOUT": 5.0,
    }


def address(name: str) -> str:
    return f"{name}@example.org"


@pytest.fixture
def reachable(app: Flask, people: dict[str, Person]) -> dict[str, Person]:
    """Everyone of ``people`` with an email address."""
    with app.app_context():
        for person in people.values():
            identity.update_user(person.name, {"email": address(person.name)}, None)
        db.session.remove()
    return people


def run_jobs(app: Flask) -> int:
    with app.app_context():
        ran = jobs.run_due()
        db.session.remove()
        return ran


def choose(client: FlaskClient, person: Person, settings: dict[str, Any]) -> Any:
    response = client.put(SETTINGS, json={"settings": settings}, headers=person.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["settings"]


def edit_source(client: FlaskClient, admin: Person, body: str) -> None:
    etag = client.get(SECTION, query_string={"locale": "en"}).headers["ETag"]
    response = client.put(SECTION, json={"body": body}, headers={**admin.headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()


def publish_fr(client: FlaskClient, people: dict[str, Person]) -> int:
    version = submit(client, people["fr_translator"], locale="fr", body=FRENCH_INTRO)
    assert version.status_code == 201, version.get_json()
    version_id = int(version.get_json()["id"])
    assert action(client, people["fr_reviewer"], version_id, "approve").status_code == 200
    return version_id


def notifications_of(app: Flask, name: str) -> list[Notification]:
    with app.app_context():
        user = identity.get_user(name)
        rows = list(
            db.session.scalars(
                sa.select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
        )
        db.session.expunge_all()
        return rows


def unsubscribe_path(message: EmailMessage) -> str:
    found = re.fullmatch(r"<https://tarjuma\.example\.org(/\S+)>", message["List-Unsubscribe"])
    assert found, message["List-Unsubscribe"]
    return found.group(1)


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert text is not None and rich is not None
    return text.get_content(), rich.get_content()


# --- settings ----------------------------------------------------------------------------


def test_settings_have_role_defaults_per_locale_and_a_put_changes_only_what_it_names(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    tariq = people["translator"]
    got = client.get(SETTINGS, headers=tariq.headers).get_json()["settings"]
    assert set(got) == {"ar", "ms"}
    assert got["ms"] == {
        "source.changed": "daily",
        "translation.reviewed": "instant",
        "review.waiting": "off",
    }
    reviewer = client.get(SETTINGS, headers=people["reviewer"].headers).get_json()["settings"]
    assert reviewer["ar"]["review.waiting"] == "daily"
    changed = choose(client, tariq, {"ms": {"source.changed": "instant"}})
    assert changed["ms"]["source.changed"] == "instant"
    assert changed["ms"]["translation.reviewed"] == "instant"
    assert changed["ar"]["source.changed"] == "daily"
    assert client.get(SETTINGS, headers=tariq.headers).get_json()["settings"] == changed


@pytest.mark.parametrize(
    ("settings", "status"),
    [
        ({"fr": {"source.changed": "off"}}, 403),  # not a locale of Tariq's
        ({"ms": {"source.changed": "hourly"}}, 422),
        ({"ms": {"everything": "off"}}, 422),
    ],
)
def test_bad_settings_are_refused(
    client: FlaskClient, people: dict[str, Person], settings: dict[str, Any], status: int
) -> None:
    tariq = people["translator"]
    before = client.get(SETTINGS, headers=tariq.headers).get_json()
    response = client.put(SETTINGS, json={"settings": settings}, headers=tariq.headers)
    assert response.status_code == status
    assert client.get(SETTINGS, headers=tariq.headers).get_json() == before


# --- derived from the event ---------------------------------------------------------------


def test_a_source_edit_mails_each_translator_of_a_locale_who_asked_once(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    people = reachable
    choose(client, people["translator"], {"ms": {"source.changed": "instant"}})
    choose(client, people["fr_translator"], {"fr": {"source.changed": "instant"}})
    choose(client, people["translator2"], {"ms": {"source.changed": "off"}})
    edit_source(client, people["admin"], "Advancing the security of Islamic nations matters.")
    assert mailbox.messages == []  # sending is the worker's
    run_jobs(app)
    run_jobs(app)
    assert sorted(m["To"] for m in mailbox.messages) == [address("fanny"), address("tariq")]
    # Tariq asked in Malay only: his Arabic setting is still the daily default.
    tariq = notifications_of(app, "tariq")
    assert sorted((n.locale, n.mode) for n in tariq) == [("ar", "daily"), ("ms", "instant")]
    assert notifications_of(app, "siti") == []  # off
    assert notifications_of(app, "ada") == []  # the editor hears nothing of their own edit
    message = mailbox.to(address("tariq"))[0]
    text, rich = bodies(message)
    assert "https://tarjuma.example.org/console/translate/" + SLUG + "/ms" in text


def test_an_approval_mails_the_author_in_their_language(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    publish_fr(client, reachable)
    run_jobs(app)
    [message] = mailbox.to(address("fanny"))
    assert message["Content-Language"] == "fr"
    assert "approuvée" in message["Subject"] or "relue" in message["Subject"]
    text, rich = bodies(message)
    assert "approuvée" in text
    assert 'lang="fr"' in rich and 'dir="ltr"' in rich
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@example.org>")
    assert reachable["fr_translator"].token not in message.as_string()
    assert "Bearer" not in message.as_string()


def test_a_rejection_mails_an_arabic_speaker_right_to_left_with_the_reason(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    people = reachable
    version = submit(client, people["translator"], locale="ar", body="مقدمة جديدة للمقال.")
    reason = "المصطلحات غير متسقة"
    response = action(client, people["reviewer"], version.get_json()["id"], "reject", reason=reason)
    assert response.status_code == 200
    run_jobs(app)
    [message] = mailbox.to(address("tariq"))  # his first locale is Arabic
    assert message["Content-Language"] == "ar"
    text, rich = bodies(message)
    assert 'dir="rtl"' in rich and reason in text


def test_an_address_beyond_ascii_is_mailed_over_smtputf8_with_its_subject_intact(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    people = reachable
    with app.app_context():
        identity.update_user("tariq", {"email": "طارق@example.org"}, None)
        db.session.remove()
    version = submit(client, people["translator"], locale="ar", body="مقدمة جديدة للمقال.")
    action(client, people["reviewer"], version.get_json()["id"], "reject", reason="غير متسق")
    run_jobs(app)
    [message] = mailbox.to("طارق@example.org")
    assert mailbox.recipients[mailbox.messages.index(message)] == ["طارق@example.org"]
    with app.test_request_context(), force_locale("ar"):
        expected = gettext(
            "Your translation into %(language)s was reviewed",
            language=i18n.display_name("ar", "ar"),
        )
    assert message["Subject"] == expected and not expected.isascii()
    assert "غير متسق" in bodies(message)[0]


def test_a_sender_name_beyond_ascii_is_encoded_and_its_mail_needs_no_smtputf8(
    app: Flask, mailbox: Mailbox
) -> None:
    app.config["MAIL_FROM"] = "ترجمان Tarjuma <tarjuma@example.org>"
    with app.app_context():
        message = mail.mail(
            to="fanny@example.org",
            subject="Bonjour",
            language="fr",
            text="Texte.",
            html="<p>Texte.</p>",
            message_id=mail.message_id("check"),
        )
        assert str(message["From"]).isascii()  # written as RFC 2047 words
        mail.deliver(message)
    [received] = mailbox.to("fanny@example.org")
    assert received["From"].addresses[0].display_name == "ترجمان Tarjuma"
    assert received["From"].addresses[0].addr_spec == "tarjuma@example.org"


def test_a_rolled_back_change_notifies_nobody(
    app: Flask, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    with app.test_request_context():
        admin = identity.get_user("ada")
        with pytest.raises(RuntimeError), transaction():
            audit.record("source.edited", actor=admin, locale="en")
            raise RuntimeError("the change fails after its event")
        count = db.session.scalar(sa.select(sa.func.count(Notification.id)))
        assert count == 0
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_work_waiting_for_review_reaches_reviewers_of_that_locale_only(
    app: Flask, client: FlaskClient, reachable: dict[str, Person]
) -> None:
    people = reachable
    choose(client, people["fr_reviewer"], {"fr": {"review.waiting": "instant"}})
    assert submit(client, people["translator2"]).status_code == 201  # Malay
    assert [n.kind for n in notifications_of(app, "rania")] == ["review.waiting"]
    assert [n.kind for n in notifications_of(app, "rahim")] == ["review.waiting"]
    assert notifications_of(app, "florent") == []
    assert notifications_of(app, "tariq") == []  # a translator reviews nothing


# --- digests -------------------------------------------------------------------------------


def digest_due(app: Flask) -> None:
    """Bring the pending digests' time to now, as if ``DIGEST_HOUR`` had come."""
    with app.app_context():
        db.session.execute(sa.update(Job).where(Job.kind == DIGEST_JOB).values(run_at=utcnow()))
        db.session.commit()
        db.session.remove()


def test_a_daily_digest_groups_the_days_events_in_one_message(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    people = reachable
    assert submit(client, people["translator"]).status_code == 201
    assert submit(client, people["translator2"], key="title", body="Keselamatan").status_code == 201
    arabic = submit(client, people["translator"], locale="ar", body="مقدمة جديدة للمقال.")
    assert arabic.status_code == 201
    run_jobs(app)
    assert mailbox.to(address("rania")) == []  # daily: not before DIGEST_HOUR
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(Job.id)).where(Job.kind == DIGEST_JOB)) == 2
        )  # one for each reviewer, Rania and Rahim, however many events
    digest_due(app)
    run_jobs(app)
    [digest] = mailbox.to(address("rania"))
    text, rich = bodies(digest)
    assert text.count("\n- ") == 3
    assert rich.count("<h2>") == 2  # the essay in Malay, and in Arabic
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    digest_due(app)
    run_jobs(app)
    assert len(mailbox.to(address("rania"))) == 1  # nothing new, nothing sent


def test_the_next_digest_is_at_the_digest_hour() -> None:
    moment = utcnow().replace(hour=6, minute=59)
    assert next_digest(moment, 7) == moment.replace(hour=7, minute=0, second=0, microsecond=0)
    later = moment.replace(hour=7, minute=0, second=0, microsecond=0)
    assert next_digest(later, 7) == later + timedelta(days=1)


# --- unsubscribing ---------------------------------------------------------------------------


def test_an_unsubscribe_post_turns_that_kind_off(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    publish_fr(client, reachable)
    run_jobs(app)
    [message] = mailbox.to(address("fanny"))
    path = unsubscribe_path(message)
    page = client.get(path)
    assert page.status_code == 200 and "<form" in html(page)
    one_click = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    fanny = reachable["fr_translator"]
    settings = client.get(SETTINGS, headers=fanny.headers).get_json()["settings"]
    assert settings["fr"]["translation.reviewed"] == "off"
    assert settings["fr"]["source.changed"] == "daily"
    assert client.post(path[:-3] + "xyz").status_code == 404


# --- retries and at-least-once -----------------------------------------------------------------


def test_with_the_mail_server_down_the_mail_is_retried_then_delivered(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    mailbox.stop()
    publish_fr(client, reachable)
    run_jobs(app)
    with app.app_context():
        job = db.session.scalars(sa.select(Job).where(Job.kind == INSTANT_JOB)).one()
        assert job.state == "pending" and job.last_error
    mailbox.start()
    mailbox.refuse = 1  # then busy once: 451
    run_jobs(app)
    run_jobs(app)
    [message] = mailbox.to(address("fanny"))
    assert [m["Message-ID"] for m in mailbox.refused] == [message["Message-ID"]]
    with app.app_context():
        assert db.session.scalars(sa.select(Job.state).where(Job.kind == INSTANT_JOB)).one() == (
            "done"
        )
    assert notifications_of(app, "fanny")[0].mailed_at is not None


def test_a_worker_that_dies_mid_send_leaves_the_mail_to_be_sent_again(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    publish_fr(client, reachable)
    with app.app_context():
        claimed = jobs.claim(10)
        assert [job.kind for job in claimed] == [INSTANT_JOB]
        # The worker dies: its lease runs out and nothing was recorded.
        db.session.execute(sa.update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    run_jobs(app)
    assert len(mailbox.to(address("fanny"))) == 1


def test_without_an_email_address_nothing_is_mailed_but_the_console_lists_it(
    app: Flask, client: FlaskClient, people: dict[str, Person], mailbox: Mailbox
) -> None:
    publish_fr(client, people)
    run_jobs(app)
    assert mailbox.messages == []
    assert [n.kind for n in notifications_of(app, "fanny")] == ["translation.reviewed"]


# --- the list, over the API and in the console -------------------------------------------------


def test_the_list_counts_unread_and_marks_read(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    rania = people["reviewer"]
    for key in ("introduction", "title"):
        assert submit(client, people["translator"], key=key, body=MALAY_INTRO).status_code == 201
    listed = client.get(NOTIFICATIONS, headers=rania.headers).get_json()
    assert listed["unread"] == 2 and listed["total"] == 2
    newest, oldest = listed["items"]
    assert newest["id"] > oldest["id"] and newest["kind"] == "review.waiting"
    assert newest["unit"] == "title" and newest["essay"] == SLUG and newest["read_at"] is None
    read = client.post(f"{NOTIFICATIONS}/read", json={"ids": [oldest["id"]]}, headers=rania.headers)
    assert read.get_json() == {"read": 1, "unread": 1}
    # Someone else's id is passed over.
    tariq = people["translator"]
    other = client.post(
        f"{NOTIFICATIONS}/read", json={"ids": [newest["id"]]}, headers=tariq.headers
    )
    assert other.get_json() == {"read": 0, "unread": 0}
    every = client.post(f"{NOTIFICATIONS}/read", json={"all": True}, headers=rania.headers)
    assert every.get_json() == {"read": 1, "unread": 0}


def test_the_console_shows_the_unread_count_on_every_page_and_marks_read(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    assert submit(client, people["translator"]).status_code == 201
    sign_in(client, people["reviewer"])
    for path in ("/console/", "/console/glossary", "/console/account"):
        assert "1 unread" in html(client.get(path)), path
    page = html(client.get("/console/notifications"))
    assert "waits for your review" in page
    found = re.search(r'name="id" value="(\d+)"', page)
    assert found
    done = post(client, "/console/notifications", {"id": found.group(1)})
    assert done.status_code == 303
    assert "unread" not in html(client.get("/console/"))


def test_the_console_settings_page_saves_what_is_chosen(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    tariq = people["translator"]
    sign_in(client, tariq)
    page = html(client.get("/console/notifications/settings"))
    assert 'name="ms:source.changed"' in page
    saved = post(
        client,
        "/console/notifications/settings",
        {"ms:source.changed": "instant", "ar:review.waiting": "daily"},
    )
    assert saved.status_code == 303
    settings = client.get(SETTINGS, headers=tariq.headers).get_json()["settings"]
    assert settings["ms"]["source.changed"] == "instant"
    assert settings["ar"]["review.waiting"] == "daily"
    refused = post(client, "/console/notifications/settings", {"fr:source.changed": "off"})
    assert refused.status_code == 403


def test_the_console_language_chosen_is_the_language_of_mail(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    sign_in(client, reachable["fr_translator"])
    assert post(client, "/console/interface-language", {"locale": "tr", "next": "/console/"})
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    publish_fr(app.test_client(), reachable)
    run_jobs(app)
    [message] = mailbox.to(address("fanny"))
    assert message["Content-Language"] == "tr"


# --- invitations and password resets by email --------------------------------------------------


def test_an_invitation_is_mailed_with_its_link_when_the_server_sends_mail(
    app: Flask, client: FlaskClient, people: dict[str, Person], mailbox: Mailbox
) -> None:
    response = client.post(
        "/api/v1/invitations",
        json={"email": "nadia@example.org", "role": "translator", "locales": ["ar"]},
        headers=people["admin"].headers,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["emailed"] is True
    run_jobs(app)
    [message] = mailbox.to("nadia@example.org")
    text, rich = bodies(message)
    path = body["url"].split("://", 1)[1].split("/", 1)[1]
    assert f"https://tarjuma.example.org/{path}" in text
    assert message["Content-Language"] == "ar" and 'dir="rtl"' in rich


def test_a_password_reset_is_mailed_in_its_persons_language(
    app: Flask, client: FlaskClient, reachable: dict[str, Person], mailbox: Mailbox
) -> None:
    response = client.post("/api/v1/users/fanny/password-reset", headers=reachable["admin"].headers)
    assert response.status_code == 201 and response.get_json()["emailed"] is True
    run_jobs(app)
    [message] = mailbox.to(address("fanny"))
    assert message["Content-Language"] == "fr"
    assert "/console/reset-password/" in bodies(message)[0]


def test_a_revoked_invitation_is_not_mailed(
    app: Flask, client: FlaskClient, people: dict[str, Person], mailbox: Mailbox
) -> None:
    admin = people["admin"]
    made = client.post(
        "/api/v1/invitations",
        json={"email": "nadia@example.org", "role": "translator", "locales": ["ar"]},
        headers=admin.headers,
    ).get_json()
    assert client.delete(f"/api/v1/invitations/{made['id']}", headers=admin.headers).status_code
    run_jobs(app)
    assert mailbox.messages == []


@pytest.mark.parametrize("email", ["nadia", "nadia@@example.org", "na dia@example.org"])
def test_a_malformed_address_is_refused_for_invitations_and_people(
    client: FlaskClient, people: dict[str, Person], mailbox: Mailbox, email: str
) -> None:
    admin = people["admin"]
    invited = client.post(
        "/api/v1/invitations",
        json={"email": email, "role": "translator", "locales": ["ar"]},
        headers=admin.headers,
    )
    assert invited.status_code == 422 and "email" in invited.get_json()["errors"]
    changed = client.patch("/api/v1/users/tariq", json={"email": email}, headers=admin.headers)
    assert changed.status_code == 422
    assert mailbox.messages == []
