"""Webhooks (API.md: Webhooks): admin API and CLI, the outbox, signing, retries, safety."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from api.extensions import db
from api.models import Delivery, DeliveryAttempt, Job, Webhook
from api.models.types import utcnow
from api.services import jobs
from api.services.outbound import client as outbound
from tests.conftest import Person
from tests.receiver import Receiver, free_port
from tests.test_workflow import MALAY_INTRO, action, submit

HOOKS = "/api/v1/webhooks"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "WEBHOOK_ALLOW_PRIVATE": True,
        "WEBHOOK_RETRY_SCHEDULE": "0,0",
        "WEBHOOK_TIMEOUT": 3.0,
        "WEBHOOK_RESPONSE_BODY_LIMIT": 64,
    }


def create(client: FlaskClient, admin: Person, url: str, **body: Any) -> Any:
    payload = {"url": url, "events": ["translation.published"], **body}
    return client.post(HOOKS, json=payload, headers=admin.headers)


def rotate(client: FlaskClient, who: Person, webhook_id: int, **body: Any) -> Any:
    return client.post(f"{HOOKS}/{webhook_id}/rotate-secret", json=body, headers=who.headers)


def publish_ms(client: FlaskClient, people: dict[str, Person], text: str = MALAY_INTRO) -> int:
    version = submit(client, people["translator"], body=text).get_json()
    response = action(client, people["reviewer"], version["id"], "approve")
    assert response.status_code == 200
    return int(version["id"])


def run_jobs(app: Flask) -> int:
    with app.app_context():
        ran = jobs.run_due()
        db.session.remove()
        return ran


def counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count(Webhook.id))) or 0,
            db.session.scalar(sa.select(sa.func.count(Delivery.id))) or 0,
            db.session.scalar(sa.select(sa.func.count(Job.id))) or 0,
        )


# --- admin API and CLI -------------------------------------------------------------------


def test_admin_creates_a_webhook_and_sees_the_secret_once(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    response = create(client, admin, "https://hooks.example.net/x", locales=["ms", "ar_EG"])
    assert response.status_code == 422  # ar-EG is not an offered locale as such
    response = create(
        client, admin, "https://hooks.example.net/x", locales=["ms"], description="site build"
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["locales"] == ["ms"]
    shown = client.get(f"{HOOKS}/{created['id']}", headers=admin.headers).get_json()
    assert "secret" not in shown and shown["events"] == ["translation.published"]
    listed = client.get(HOOKS, headers=admin.headers).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    with app.app_context():
        stored = db.session.get(Webhook, created["id"])
        assert stored is not None and secret not in stored.secret
        assert secret.removeprefix("whsec_") not in stored.secret
    patched = client.patch(
        f"{HOOKS}/{created['id']}",
        json={"enabled": False, "events": ["translation.published", "translation.submitted"]},
        headers=admin.headers,
    ).get_json()
    assert patched["enabled"] is False and "translation.submitted" in patched["events"]
    assert client.delete(f"{HOOKS}/{created['id']}", headers=admin.headers).status_code == 204
    assert client.get(f"{HOOKS}/{created['id']}", headers=admin.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.net/", "events": ["translation.exploded"]}, "events"),
        ({"url": "https://hooks.example.net/", "events": []}, "events"),
        ({"url": "not a url", "events": ["translation.published"]}, "url"),
        ({"url": "https://", "events": ["translation.published"]}, "url"),
        ({"url": "ftp://hooks.example.net/", "events": ["translation.published"]}, "url"),
        ({"url": "javascript:alert(1)", "events": ["translation.published"]}, "url"),
        ({"url": "https://hooks.example.net/", "events": ["essay.created"], "locales": ["xx"]}, ""),
    ],
)
def test_bad_webhooks_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, people: dict[str, Person], body: dict[str, Any], field: str
) -> None:
    response = client.post(HOOKS, json=body, headers=people["admin"].headers)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    if field:
        assert any(key.startswith(field) for key in response.get_json()["errors"])
    assert counts(app)[0] == 0


def test_only_admins_manage_webhooks(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    url = "https://hooks.example.net/"
    assert create(client, people["reviewer"], url).status_code == 403
    assert client.post(HOOKS, json={"url": url, "events": ["essay.created"]}).status_code == 401
    assert client.get(HOOKS, headers=people["translator"].headers).status_code == 403
    assert counts(app)[0] == 0


def test_cli_prints_the_secret_on_its_last_line(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["webhooks", "create", "https://hooks.example.net/", "--event", "essay.created"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("whsec_")
    bad = runner.invoke(args=["webhooks", "create", "gopher://x/", "--event", "essay.created"])
    assert bad.exit_code != 0
    bad = runner.invoke(args=["webhooks", "create", "https://x.example/", "--event", "nope"])
    assert bad.exit_code != 0
    assert counts(app)[0] == 1
    listed = runner.invoke(args=["webhooks", "list"])
    assert "whsec_" not in listed.output and "essay.created" in listed.output


def test_a_rotated_secret_signs_beside_the_new_one_until_it_expires(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    with Receiver() as receiver:
        hook = create(client, admin, receiver.url).get_json()
        rotated = rotate(client, admin, hook["id"])
        assert rotated.status_code == 200, rotated.get_json()
        fresh = rotated.get_json()
        assert fresh["secret"].startswith("whsec_") and fresh["secret"] != hook["secret"]
        assert fresh["previous_secret_expires_at"] is not None
        publish_ms(client, people)
        assert run_jobs(app) == 1
        [both] = receiver.wait_for(1)
        assert len(both.headers["webhook-signature"].split()) == 2
        for secret in (hook["secret"], fresh["secret"]):
            payload = Verifier(secret).verify(both.body, both.headers)
            assert payload["type"] == "translation.published"

        # A leaked secret stops signing at once.
        newest = rotate(client, admin, hook["id"], keep_previous_for=0).get_json()
        assert newest["previous_secret_expires_at"] is None
        publish_ms(client, people, text=MALAY_INTRO + " Lagi.")
        assert run_jobs(app) == 1
        only = receiver.wait_for(2)[1]
    assert len(only.headers["webhook-signature"].split()) == 1
    Verifier(newest["secret"]).verify(only.body, only.headers)
    for stale in (hook["secret"], fresh["secret"]):
        with pytest.raises(WebhookVerificationError):
            Verifier(stale).verify(only.body, only.headers)
    shown = client.get(f"{HOOKS}/{hook['id']}", headers=admin.headers).get_json()
    assert "secret" not in shown


def test_an_expired_previous_secret_no_longer_signs(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    with Receiver() as receiver:
        hook = create(client, admin, receiver.url).get_json()
        rotated = rotate(client, admin, hook["id"], keep_previous_for=60).get_json()
        with app.app_context():
            db.session.get(Webhook, hook["id"]).previous_secret_expires_at = utcnow()
            db.session.commit()
        publish_ms(client, people)
        assert run_jobs(app) == 1
        [item] = receiver.wait_for(1)
    assert len(item.headers["webhook-signature"].split()) == 1
    Verifier(rotated["secret"]).verify(item.body, item.headers)


@pytest.mark.parametrize(
    ("who", "webhook", "body", "status"),
    [
        ("reviewer", "known", {}, 403),
        ("admin", "unknown", {}, 404),
        ("admin", "known", {"keep_previous_for": -1}, 422),
        ("admin", "known", {"keep_previous_for": 8 * 86400}, 422),
        ("admin", "known", {"keep": 60}, 422),
    ],
)
def test_bad_rotations_change_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str,
    webhook: str,
    body: dict[str, Any],
    status: int,
) -> None:
    hook = create(client, people["admin"], "https://hooks.example.net/").get_json()
    with app.app_context():
        sealed = db.session.get(Webhook, hook["id"]).secret
    target = hook["id"] if webhook == "known" else hook["id"] + 1
    response = rotate(client, people[who], target, **body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        row = db.session.get(Webhook, hook["id"])
        assert (row.secret, row.previous_secret) == (sealed, None)


def test_cli_rotates_a_secret_and_prints_it_on_its_last_line(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["webhooks", "create", "https://hooks.example.net/", "--event", "essay.created"]
    )
    first = created.output.strip().splitlines()[-1]
    with app.app_context():
        webhook_id = db.session.scalar(sa.select(Webhook.id))
    rotated = runner.invoke(args=["webhooks", "rotate-secret", str(webhook_id)])
    assert rotated.exit_code == 0, rotated.output
    second = rotated.output.strip().splitlines()[-1]
    assert second.startswith("whsec_") and second != first
    assert "signs beside it until" in rotated.output
    refused = runner.invoke(args=["webhooks", "rotate-secret", str(webhook_id + 1)])
    assert refused.exit_code != 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_private_targets_are_refused(databases: Any, url: str) -> None:
    from tests.conftest import _make_app, make_person

    for app in _make_app(databases):
        admin = make_person(app, "ada", "admin")
        client = app.test_client()
        response = create(client, admin, url)
        assert response.status_code == 422, response.get_json()
        assert "url" in response.get_json()["errors"]
        assert counts(app)[0] == 0
        assert create(client, admin, "http://93.184.215.14/hook").status_code == 201


def test_outbound_checks_addresses_after_resolution() -> None:
    assert outbound.is_public("93.184.215.14")
    for address in ("127.0.0.1", "10.0.0.1", "fe80::1", "::1", "::ffff:10.0.0.1", "224.0.0.1"):
        assert not outbound.is_public(address), address
    answer = outbound.post(
        "http://localhost:9/hook", b"{}", {}, timeout=1, allow_private=False, max_body=10
    )
    assert answer.status is None and answer.error == outbound.PRIVATE_REFUSED
    assert "WEBHOOK_ALLOW_PRIVATE" in answer.error and not answer.retriable


# --- the outbox and sending --------------------------------------------------------------


def test_a_publication_is_delivered_signed_with_its_data(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver() as receiver:
        hook = create(client, people["admin"], receiver.url, locales=["ms"]).get_json()
        review = create(
            client, people["admin"], receiver.url, events=["translation.submitted"]
        ).get_json()
        _, deliveries_before, _ = counts(app)
        publish_ms(client, people)
        ar = submit(client, people["translator"], locale="ar", body="نص عربي.").get_json()
        action(client, people["reviewer"], ar["id"], "approve")
        # ms publication to the first; two submissions to the second; nothing for ar
        assert counts(app)[1] == deliveries_before + 3
        assert run_jobs(app) == 3
        received = receiver.wait_for(3)
    by_hook: dict[str, list[Any]] = {}
    ids: dict[str, str] = {}
    for item in received:
        for secret in (hook["secret"], review["secret"]):
            try:
                payload = Verifier(secret).verify(item.body, item.headers)
            except Exception:  # noqa: BLE001, S112 - signed with the other webhook's secret
                continue
            by_hook.setdefault(secret, []).append(payload)
            ids[secret] = item.headers["webhook-id"]
    published = by_hook[hook["secret"]]
    assert [p["type"] for p in published] == ["translation.published"]
    data = published[0]["data"]
    assert data["locale"] == "ms" and data["unit"] == "introduction"
    assert data["body"] == MALAY_INTRO and data["cursor"].startswith("c_")
    position = int(data["cursor"][2:], 16)
    feed = client.get("/api/v1/changes", query_string={"cursor": f"c_{position - 1:016x}"})
    assert feed.get_json()["items"][0] == data, "the data of the feed item"
    submitted = by_hook[review["secret"]]
    assert sorted(p["data"]["locale"] for p in submitted) == ["ar", "ms"]
    assert all(p["type"] == "translation.submitted" for p in submitted)
    assert all("body" in p["data"] and p["data"]["body"] is None for p in submitted)
    log = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers)
    (entry,) = log.get_json()["items"]
    assert entry["state"] == "succeeded" and entry["attempts"] == 1
    assert entry["attempt_log"][0]["status_code"] == 200
    assert entry["attempt_log"][0]["duration_ms"] >= 0
    assert entry["message_id"] == ids[hook["secret"]]


def test_the_delivery_is_part_of_the_change_transaction(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    from api.database import transaction
    from api.services import audit
    from api.services.content import get_essay
    from tests.conftest import SLUG

    create(client, people["admin"], "http://127.0.0.1:9/", events=["essay.archived"])
    before = counts(app)
    with app.app_context():
        with pytest.raises(LookupError), transaction():
            audit.record("essay.archived", actor=None, essay=get_essay(SLUG))
            raise LookupError
        assert counts(app) == before
        with transaction():
            audit.record("essay.archived", actor=None, essay=get_essay(SLUG))
    assert counts(app) == (before[0], before[1] + 1, before[2] + 1)


def test_failures_are_retried_with_the_same_id_then_succeed(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver(statuses=[500, 503]) as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        for _ in range(3):
            assert run_jobs(app) == 1
        received = receiver.wait_for(3)
        assert run_jobs(app) == 0
    ids = {item.headers["webhook-id"] for item in received}
    assert len(ids) == 1 and ids.pop().startswith("msg_")
    for item in received:
        Verifier(hook["secret"]).verify(item.body, item.headers)
    (entry,) = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers
    ).get_json()["items"]
    assert entry["state"] == "succeeded" and entry["attempts"] == 3
    log = entry["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 503, 200]
    assert log[0]["next_retry_at"] and log[0]["error"] == "HTTP 500"
    assert log[2]["next_retry_at"] is None and log[2]["error"] is None


def test_after_the_schedule_runs_out_the_delivery_has_failed(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver(statuses=[500] * 5, answer_body=b"x" * 5000) as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        while run_jobs(app):
            pass
        assert len(receiver.requests) == 3  # the first try and two retries
    (entry,) = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers
    ).get_json()["items"]
    assert entry["state"] == "failed" and entry["attempts"] == 3
    assert entry["attempt_log"][-1]["next_retry_at"] is None
    assert all(len(a["response_body"]) == 64 for a in entry["attempt_log"])
    with app.app_context():
        job = db.session.scalar(sa.select(Job).where(Job.kind == "webhook.deliver"))
        assert job is not None and job.state == "failed"

    # a finished delivery can be sent again, same id; another webhook's delivery cannot
    with Receiver() as receiver:
        client.patch(
            f"{HOOKS}/{hook['id']}", json={"url": receiver.url}, headers=people["admin"].headers
        )
        other = create(client, people["admin"], receiver.url).get_json()
        before = counts(app)
        wrong = client.post(
            f"{HOOKS}/{other['id']}/deliveries/{entry['id']}/redeliver",
            headers=people["admin"].headers,
        )
        assert wrong.status_code == 404 and counts(app) == before
        again = client.post(
            f"{HOOKS}/{hook['id']}/deliveries/{entry['id']}/redeliver",
            headers=people["admin"].headers,
        )
        assert again.status_code == 202 and again.get_json()["state"] == "pending"
        twice = client.post(
            f"{HOOKS}/{hook['id']}/deliveries/{entry['id']}/redeliver",
            headers=people["admin"].headers,
        )
        assert twice.status_code == 409
        assert run_jobs(app) == 1
        (item,) = receiver.wait_for(1)
    assert item.headers["webhook-id"] == entry["message_id"]
    Verifier(hook["secret"]).verify(item.body, item.headers)


def test_the_delivery_log_can_be_narrowed_to_one_state(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    with Receiver(statuses=[500, 500, 500]) as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)  # fails three times: failed
        while run_jobs(app):
            pass
        publish_ms(client, people, text=MALAY_INTRO + " Lagi.")  # succeeds
        assert run_jobs(app) == 1
    log = f"{HOOKS}/{hook['id']}/deliveries"
    everything = client.get(log, headers=admin).get_json()["items"]
    assert sorted(entry["state"] for entry in everything) == ["failed", "succeeded"]
    for state in ("failed", "succeeded"):
        [entry] = client.get(log, query_string={"state": state}, headers=admin).get_json()["items"]
        assert entry["state"] == state
    assert (
        client.get(log, query_string={"state": "pending"}, headers=admin).get_json()["items"] == []
    )
    bad = client.get(log, query_string={"state": "lost"}, headers=admin)
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_410_disables_the_webhook(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver(statuses=[410]) as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        assert run_jobs(app) == 1
        assert run_jobs(app) == 0, "no retry after 410"
        shown = client.get(f"{HOOKS}/{hook['id']}", headers=people["admin"].headers).get_json()
        assert shown["enabled"] is False and "410" in shown["disabled_reason"]
        before = counts(app)
        publish_ms(client, people, MALAY_INTRO + " Lagi.")
        assert counts(app)[1] == before[1], "a disabled webhook gets no deliveries"
        assert len(receiver.requests) == 1
    log = client.get(
        "/api/v1/events",
        query_string={"action": "webhook.updated"},
        headers=people["admin"].headers,
    ).get_json()["items"]
    [disabled] = log
    assert disabled["actor"] is None and disabled["after"]["enabled"] is False


def test_admins_changes_to_webhooks_are_in_the_event_log_without_secrets(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    url = "https://hooks.example.net/services/T0/B0/tokenpart?key=abc"
    hook = create(client, admin, url).get_json()
    client.patch(
        f"{HOOKS}/{hook['id']}",
        json={"events": ["translation.published", "essay.created"], "description": None},
        headers=admin.headers,
    )
    rotated = rotate(client, admin, hook["id"]).get_json()
    client.delete(f"{HOOKS}/{hook['id']}", headers=admin.headers)
    response = client.get("/api/v1/events", headers=people["reviewer"].headers)
    events = [e for e in response.get_json()["items"] if e["action"].startswith("webhook.")]
    assert [e["action"] for e in events] == [
        "webhook.deleted",
        "webhook.secret_rotated",
        "webhook.updated",
        "webhook.created",
    ]
    assert all(e["actor"] == admin.name for e in events)
    created, updated = events[3], events[2]
    assert created["after"]["url"] == "https://hooks.example.net/…"
    assert updated["before"] == {"webhook": hook["id"], "events": ["translation.published"]}
    assert updated["after"]["events"] == ["translation.published", "essay.created"]
    text = response.get_data(as_text=True)
    for secret in ("tokenpart", "key=abc", hook["secret"], rotated["secret"], "whsec_"):
        assert secret not in text


def test_redirects_are_not_followed(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver() as target, Receiver(statuses=[307] * 3) as redirecting:
        redirecting.headers_out["Location"] = target.url
        create(client, people["admin"], redirecting.url)
        publish_ms(client, people)
        while run_jobs(app):
            pass
        assert len(redirecting.requests) == 3 and target.requests == []


def test_a_receiver_that_is_down_gets_the_delivery_when_it_is_back(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    port = free_port()
    app.config["WEBHOOK_RETRY_SCHEDULE"] = "0,0,0,0"
    hook = create(client, people["admin"], f"http://127.0.0.1:{port}/hook").get_json()
    publish_ms(client, people)
    assert run_jobs(app) == 1 and run_jobs(app) == 1  # refused twice
    with Receiver(port=port) as receiver:
        assert run_jobs(app) == 1
        (item,) = receiver.wait_for(1)
    Verifier(hook["secret"]).verify(item.body, item.headers)
    (entry,) = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers
    ).get_json()["items"]
    assert entry["state"] == "succeeded"
    assert [a["status_code"] for a in entry["attempt_log"]] == [None, None, 200]
    assert entry["attempt_log"][0]["error"].startswith("connection failed")


def test_private_targets_are_refused_again_when_sending(
    app: Flask, client: FlaskClient, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    with Receiver() as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        with caplog.at_level(logging.DEBUG):
            assert run_jobs(app) == 1
            assert run_jobs(app) == 0, "refused for good: not retried"
        assert receiver.requests == []
    with app.app_context():
        attempts = db.session.scalars(sa.select(DeliveryAttempt)).all()
        assert [a.error for a in attempts] == [outbound.PRIVATE_REFUSED]
    secret = hook["secret"]
    assert not any(secret in r.getMessage() or secret[6:] in r.getMessage() for r in caplog.records)


def test_a_webhook_disabled_before_sending_gets_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    with Receiver() as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        client.patch(
            f"{HOOKS}/{hook['id']}", json={"enabled": False}, headers=people["admin"].headers
        )
        assert run_jobs(app) == 1
        assert receiver.requests == []
    (entry,) = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers
    ).get_json()["items"]
    assert entry["state"] == "failed"
    assert entry["attempt_log"][0]["error"] == "webhook disabled"


def test_a_slow_receiver_times_out_and_is_retried(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    with Receiver(delay=2) as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        assert run_jobs(app) == 1
        assert len(receiver.requests) == 1
    (entry,) = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers
    ).get_json()["items"]
    (attempt,) = entry["attempt_log"]
    assert entry["state"] == "pending" and attempt["status_code"] is None
    assert attempt["error"] == "timed out after 0.5 s" and attempt["next_retry_at"]
    assert attempt["duration_ms"] < 2000


# --- health: failing at once, failures counted, disabled after WEBHOOK_DISABLE_AFTER -------


def shown(client: FlaskClient, admin: Person, hook: dict[str, Any]) -> Any:
    return client.get(f"{HOOKS}/{hook['id']}", headers=admin.headers).get_json()


def test_a_private_address_is_refused_naming_the_setting_in_every_language(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    english = create(client, people["admin"], "http://127.0.0.1:9/hook").get_json()
    assert "WEBHOOK_ALLOW_PRIVATE" in english["detail"]
    french = client.post(
        HOOKS,
        json={"url": "http://10.0.0.7/", "events": ["translation.published"]},
        headers={**people["admin"].headers, "Accept-Language": "fr"},
    ).get_json()
    assert "WEBHOOK_ALLOW_PRIVATE" in french["detail"] and "refusées" in french["detail"]
    assert counts(app)[0] == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [("ftp://127.0.0.1/hook", "refused: scheme"), ("http://user@127.0.0.1/", "refused: malformed")],
)
def test_a_delivery_to_a_url_it_can_never_reach_fails_at_once(
    app: Flask, client: FlaskClient, people: dict[str, Person], url: str, reason: str
) -> None:
    """A URL saved before the rules were what they are now is refused without retries."""
    hook = create(client, people["admin"], "http://127.0.0.1:9/hook").get_json()
    with app.app_context():
        db.session.execute(sa.update(Webhook).values(url=url))
        db.session.commit()
    publish_ms(client, people)
    assert run_jobs(app) == 1
    assert run_jobs(app) == 0
    (entry,) = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=people["admin"].headers
    ).get_json()["items"]
    assert entry["state"] == "failed" and entry["attempts"] == 1
    assert entry["attempt_log"][0]["error"].startswith(reason)
    assert entry["attempt_log"][0]["next_retry_at"] is None
    with app.app_context():
        job = db.session.scalar(sa.select(Job).where(Job.kind == "webhook.deliver"))
        assert job is not None and job.state == "failed" and job.attempts == 1
    health = shown(client, people["admin"], hook)
    assert health["consecutive_failures"] == 1
    assert health["last_failure"]["reason"].startswith(reason)


def test_health_counts_failures_and_a_success_clears_it(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    with Receiver(statuses=[500, 503]) as receiver:
        hook = create(client, admin, receiver.url).get_json()
        assert hook["consecutive_failures"] == 0 and hook["last_failure"] is None
        publish_ms(client, people)
        assert run_jobs(app) == 1
        first = shown(client, admin, hook)
        assert first["consecutive_failures"] == 1
        assert first["last_failure"]["reason"] == "HTTP 500"
        assert first["failing_since"] == first["last_failure"]["at"]
        assert run_jobs(app) == 1
        second = shown(client, admin, hook)
        assert second["consecutive_failures"] == 2
        assert second["last_failure"]["reason"] == "HTTP 503"
        assert second["failing_since"] == first["failing_since"]
        assert second["last_failure"]["at"] >= first["last_failure"]["at"]
        listed = client.get(HOOKS, headers=admin.headers).get_json()["items"]
        assert listed[0]["consecutive_failures"] == 2
        assert run_jobs(app) == 1
        receiver.wait_for(3)
    healthy = shown(client, admin, hook)
    assert healthy["consecutive_failures"] == 0
    assert healthy["last_failure"] is None and healthy["failing_since"] is None
    assert healthy["enabled"] is True


def _failing_since(app: Flask, webhook_id: int, ago: timedelta) -> None:
    """As if the webhook's first failure since its last success was ``ago``."""
    with app.app_context():
        db.session.execute(
            sa.update(Webhook).where(Webhook.id == webhook_id).values(failing_since=utcnow() - ago)
        )
        db.session.commit()


def test_a_webhook_that_fails_every_delivery_for_disable_after_is_disabled(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    assert app.config["WEBHOOK_DISABLE_AFTER"] == 5 * 86400
    app.config["WEBHOOK_RETRY_SCHEDULE"] = "0,0,0,0,0"
    with Receiver(statuses=[500] * 10) as receiver:
        hook = create(client, admin, receiver.url).get_json()
        publish_ms(client, people)
        assert run_jobs(app) == 1
        _failing_since(app, hook["id"], timedelta(days=4, hours=23))
        assert run_jobs(app) == 1
        assert shown(client, admin, hook)["enabled"] is True, "not five days yet"
        publish_ms(client, people, MALAY_INTRO + " Lagi.")  # a second delivery, due now
        _failing_since(app, hook["id"], timedelta(days=5, seconds=1))
        # The first delivery's third try fails and disables the webhook: it is not retried,
        # and the second, due after it, is not sent.
        assert run_jobs(app) == 2
        while run_jobs(app):
            pass
        assert len(receiver.requests) == 3, "nothing more is sent"
        before = counts(app)
        publish_ms(client, people, MALAY_INTRO + " Sekali lagi.")
        assert counts(app)[1] == before[1], "a disabled webhook gets no deliveries"
    health = shown(client, admin, hook)
    assert health["enabled"] is False
    assert "WEBHOOK_DISABLE_AFTER" in health["disabled_reason"]
    assert health["consecutive_failures"] == 3
    second, first = client.get(
        f"{HOOKS}/{hook['id']}/deliveries", headers=admin.headers
    ).get_json()["items"]
    assert first["state"] == second["state"] == "failed" and first["attempts"] == 3
    assert first["attempt_log"][-1]["next_retry_at"] is None
    assert [a["error"] for a in second["attempt_log"]] == ["webhook disabled"]
    [disabled] = client.get(
        "/api/v1/events", query_string={"action": "webhook.updated"}, headers=admin.headers
    ).get_json()["items"]
    assert disabled["actor"] is None
    assert disabled["after"]["enabled"] is False
    assert disabled["after"]["disabled_reason"] == health["disabled_reason"]

    # Enabled again by an admin, it starts from a clean bill of health.
    enabled = client.patch(f"{HOOKS}/{hook['id']}", json={"enabled": True}, headers=admin.headers)
    assert enabled.get_json()["consecutive_failures"] == 0
    assert enabled.get_json()["last_failure"] is None


def test_a_success_within_disable_after_keeps_the_webhook(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    with Receiver(statuses=[500]) as receiver:
        hook = create(client, admin, receiver.url).get_json()
        publish_ms(client, people)
        assert run_jobs(app) == 1
        _failing_since(app, hook["id"], timedelta(days=4))
        assert run_jobs(app) == 1  # succeeds
        receiver.wait_for(2)
    with Receiver(statuses=[500]) as receiver:
        client.patch(f"{HOOKS}/{hook['id']}", json={"url": receiver.url}, headers=admin.headers)
        publish_ms(client, people, MALAY_INTRO + " Lagi.")
        assert run_jobs(app) == 1
        receiver.wait_for(1)
    health = shown(client, admin, hook)
    assert health["enabled"] is True and health["consecutive_failures"] == 1
    assert health["failing_since"] == health["last_failure"]["at"], "counted afresh"


@pytest.mark.parametrize(
    ("value", "seconds"), [("432000", 432000), ("36h", 129600), ("90m", 5400), ("5d", 432000)]
)
def test_disable_after_takes_seconds_or_a_duration(value: str, seconds: float) -> None:
    from api.config import read

    assert read({"WEBHOOK_DISABLE_AFTER": value})["WEBHOOK_DISABLE_AFTER"] == seconds


def test_a_bad_disable_after_stops_the_process_naming_it() -> None:
    from api.config import ConfigError, read

    with pytest.raises(ConfigError, match="WEBHOOK_DISABLE_AFTER"):
        read({"WEBHOOK_DISABLE_AFTER": "five days"})


def test_the_migration_gives_existing_webhooks_a_clean_health(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    from flask_migrate import downgrade, upgrade

    from tests.conftest import ROOT, schema_differences

    hook = create(client, people["admin"], "https://hooks.example.net/x").get_json()
    with app.app_context():
        downgrade(directory=str(ROOT / "migrations"), revision="0007_webhook_secret_rotation")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("webhooks")}
        assert "consecutive_failures" not in columns
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as connection:
            assert schema_differences(connection) == []
        db.session.remove()
    health = shown(client, people["admin"], hook)
    assert health["consecutive_failures"] == 0 and health["last_failure"] is None
    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Webhook).values(consecutive_failures=-1))
        db.session.commit()
