"""Webhooks: subscriptions, the deliveries written beside each event, and sending them.

A delivery row is written by an effects deriver in the transaction of the change it
reports, with a job on the outbox (``api.services.jobs``) to send it: a crash at any
point loses nothing, and the worker that claims the job sends it. Each attempt is
recorded; a failed one raises, and the jobs layer retries it on
``WEBHOOK_RETRY_SCHEDULE``; when the schedule runs out the delivery is failed, and one
that retrying cannot mend (a refused address or scheme, a secret no key decrypts) fails
at once. A webhook keeps its health (failures since the last success, the latest and
why); a 410 answer, or every delivery failing for ``WEBHOOK_DISABLE_AFTER``, disables
it. Messages are signed as Standard Webhooks with the ``standardwebhooks`` package, with
the same ``webhook-id`` on every attempt.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from cryptography.fernet import InvalidToken, MultiFernet
from flask import Flask, current_app
from flask_babel import gettext
from standardwebhooks.webhooks import Webhook as Signer

from api import i18n, observability
from api.database import transaction
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.extensions import db
from api.models import Delivery, DeliveryAttempt, Event, User, Webhook
from api.models.types import utcnow
from api.services import audit, effects, jobs, sealing
from api.services.outbound import changes
from api.services.outbound import client as outbound

log = logging.getLogger(__name__)

JOB_KIND = "webhook.deliver"
# How long a worker holds a delivery before another may take it over; an attempt's
# timeout is kept well inside it, so a live worker is never overtaken.
LEASE = 60.0
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
MESSAGE_PREFIX = "msg_"

# Webhooks hear of everything the feed shows, and of the review steps before it.
REVIEW_TYPES = {
    "translation.submitted": "translation.submitted",
    "translation.rejected": "translation.rejected",
}
EVENT_TYPES: tuple[str, ...] = (*changes.PUBLIC_TYPES, *REVIEW_TYPES.values())


# --- secrets ---------------------------------------------------------------------------


def _fernet() -> MultiFernet:
    """The keys of webhook secrets at rest (``api.services.sealing``)."""
    return sealing.fernet(b"tarjuma webhook secrets")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


# --- validation ------------------------------------------------------------------------


def _unprocessable(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})


def _url(url: str) -> str:
    allow_private = bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    try:
        outbound.check(url, allow_private=allow_private)
    except outbound.TargetRefused as refused:
        if refused.reason == "scheme":
            raise _unprocessable("url", gettext("A webhook URL must use http or https.")) from None
        if refused.reason == "private address":
            raise _unprocessable(
                "url",
                gettext(
                    "Webhook URLs on loopback, link-local or private networks are refused"
                    " unless the server sets WEBHOOK_ALLOW_PRIVATE."
                ),
            ) from None
        raise _unprocessable("url", gettext("This is not a valid URL.")) from None
    return url


def _events(events: Sequence[str]) -> list[str]:
    if not events:
        raise _unprocessable("events", gettext("Name at least one event type."))
    for name in events:
        if name not in EVENT_TYPES:
            raise _unprocessable(
                "events",
                gettext(
                    "Unknown event type %(type)s; known types: %(types)s.",
                    type=name,
                    types=", ".join(EVENT_TYPES),
                ),
            )
    return list(dict.fromkeys(events))


def _locales(locales: Sequence[str]) -> list[str]:
    registry = i18n.registry()
    out = []
    for raw in locales:
        try:
            code = i18n.normalise_tag(raw)
        except i18n.MalformedLocale:
            code = raw
        if code not in registry.offered:
            raise Unprocessable(
                gettext("Locale %(code)s is not offered.", code=raw),
                errors={"locales": [gettext("Locale %(code)s is not offered.", code=raw)]},
                available_locales=list(registry.offered),
            )
        out.append(code)
    return list(dict.fromkeys(out))


def _ensure_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden(gettext("Only admins may manage webhooks."))


# --- commands --------------------------------------------------------------------------


_SETTINGS = ("url", "events", "locales", "description", "enabled")


def _settings(webhook: Webhook, names: Sequence[str] = _SETTINGS) -> dict[str, Any]:
    """What the event log keeps of a webhook: never its secret, and of its URL only the
    origin, since reviewers read the log and a receiver's path often holds a token."""
    settings = {name: getattr(webhook, name) for name in names}
    if "url" in settings:
        parts = urlsplit(settings["url"])
        settings["url"] = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"
    return settings


def _log(
    action: str,
    webhook_id: int,
    actor: User | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """A change to a webhook, in the event log (``before`` and ``after`` name it)."""
    audit.record(
        action,
        actor=actor,
        before={"webhook": webhook_id, **(before or {})},
        after={"webhook": webhook_id, **(after or {})},
    )


@dataclass(frozen=True)
class Created:
    webhook: Webhook
    secret: str


def create(
    url: str,
    events: Sequence[str],
    locales: Sequence[str] = (),
    description: str | None = None,
    *,
    actor: User | None,
) -> Created:
    """A new webhook; its secret is returned here and never again."""
    if actor is not None:
        _ensure_admin(actor)
    data = {"url": _url(url), "events": _events(events), "locales": _locales(locales)}
    secret = new_secret()
    with transaction() as session:
        webhook = Webhook(**data, description=description, secret=seal(secret), enabled=True)
        session.add(webhook)
        session.flush()
        _log("webhook.created", webhook.id, actor, after=_settings(webhook))
    return Created(webhook, secret)


def get(webhook_id: int, actor: User | None = None) -> Webhook:
    if actor is not None:
        _ensure_admin(actor)
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(gettext("There is no webhook %(id)s.", id=webhook_id))
    return webhook


def listing(actor: User) -> sa.Select[tuple[Webhook]]:
    _ensure_admin(actor)
    return sa.select(Webhook).order_by(Webhook.id)


def update(webhook_id: int, changes_: dict[str, Any], actor: User) -> Webhook:
    """Switch a webhook on or off, or change its URL, events, locales or description.

    Switching a disabled webhook on clears its health: its failures start again from none.
    """
    _ensure_admin(actor)
    values: dict[str, Any] = {}
    if "url" in changes_:
        values["url"] = _url(changes_["url"])
    if "events" in changes_:
        values["events"] = _events(changes_["events"])
    if "locales" in changes_:
        values["locales"] = _locales(changes_["locales"])
    if "description" in changes_:
        values["description"] = changes_["description"]
    if "enabled" in changes_:
        values["enabled"] = bool(changes_["enabled"])
        values["disabled_reason"] = None if values["enabled"] else "disabled by an admin"
    with transaction():
        webhook = get(webhook_id)
        changed = [name for name, value in values.items() if getattr(webhook, name) != value]
        before = _settings(webhook, changed)
        if values.get("enabled") and not webhook.enabled:  # a fresh start, failures forgotten
            values.update(HEALTHY)
        for key, value in values.items():
            setattr(webhook, key, value)
        if changed:
            _log("webhook.updated", webhook.id, actor, before, _settings(webhook, changed))
    return webhook


def delete(webhook_id: int, actor: User | None) -> None:
    """Remove a webhook with its delivery log; pending deliveries are dropped."""
    if actor is not None:
        _ensure_admin(actor)
    with transaction() as session:
        webhook = get(webhook_id)
        _log("webhook.deleted", webhook.id, actor, before=_settings(webhook))
        session.delete(webhook)


# How long a rotated-out secret keeps signing beside the new one, unless told, and at most.
DEFAULT_SECRET_OVERLAP = timedelta(days=1)
MAX_SECRET_OVERLAP = timedelta(days=7)


def rotate_secret(webhook_id: int, keep_previous_for: timedelta, actor: User | None) -> Created:
    """A new secret for a webhook, returned here and never again.

    The secret it replaces keeps signing beside it for ``keep_previous_for`` (every message
    then carries both signatures), so the receiver can switch without refusing one; zero
    drops it at once, for a secret that leaked.
    """
    if actor is not None:
        _ensure_admin(actor)
    if not timedelta(0) <= keep_previous_for <= MAX_SECRET_OVERLAP:
        message = gettext(
            "The old secret may keep signing for 0 to %(limit)s seconds.",
            limit=int(MAX_SECRET_OVERLAP.total_seconds()),
        )
        raise _unprocessable("keep_previous_for", message)
    secret = new_secret()
    with transaction():
        webhook = get(webhook_id)
        if keep_previous_for:
            webhook.previous_secret = webhook.secret
            webhook.previous_secret_expires_at = utcnow() + keep_previous_for
        else:
            webhook.previous_secret = webhook.previous_secret_expires_at = None
        webhook.secret = seal(secret)
        until = webhook.previous_secret_expires_at
        _log(
            "webhook.secret_rotated",
            webhook.id,
            actor,
            after={"previous_secret_expires_at": until.isoformat() if until else None},
        )
    return Created(webhook, secret)


@dataclass(frozen=True)
class Resealed:
    resealed: int
    undecryptable: list[int]  # webhooks whose secret no key decrypts (left as they are)


def reseal() -> Resealed:
    """Encrypt every stored secret with the current ``SECRET_KEY``, so that the keys in
    ``SECRET_KEY_FALLBACKS`` can be dropped after a rotation; the secrets stay the same."""
    fernet = _fernet()
    resealed, undecryptable = 0, []
    with transaction() as session:
        for webhook in session.scalars(sa.select(Webhook).order_by(Webhook.id)):
            try:
                webhook.secret = fernet.rotate(webhook.secret.encode()).decode()
                if webhook.previous_secret:
                    previous = fernet.rotate(webhook.previous_secret.encode())
                    webhook.previous_secret = previous.decode()
            except InvalidToken:
                undecryptable.append(webhook.id)
            else:
                resealed += 1
    return Resealed(resealed, undecryptable)


def deliveries(
    webhook_id: int, actor: User, state: str | None = None
) -> sa.Select[tuple[Delivery]]:
    """A webhook's deliveries, newest first; only those in ``state`` when given."""
    get(webhook_id, actor)
    statement = sa.select(Delivery).where(Delivery.webhook_id == webhook_id)
    if state is not None:
        statement = statement.where(Delivery.state == state)
    return statement.order_by(Delivery.id.desc())


def redeliver(webhook_id: int, delivery_id: int, actor: User) -> Delivery:
    """Send a delivery again (same message and ``webhook-id``), in a new round of retries."""
    _ensure_admin(actor)
    with transaction():
        webhook = get(webhook_id)
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None or delivery.webhook_id != webhook.id:
            raise NotFound(
                gettext(
                    "Webhook %(webhook)s has no delivery %(delivery)s.",
                    webhook=webhook_id,
                    delivery=delivery_id,
                )
            )
        if delivery.state == "pending":
            raise Conflict(gettext("This delivery is still being attempted."))
        if not webhook.enabled:
            raise Conflict(gettext("This webhook is disabled: enable it first."))
        delivery.state = "pending"
        delivery.finished_at = None
        delivery.next_attempt_at = utcnow()
        jobs.enqueue(JOB_KIND, {"delivery": delivery.id})
    return delivery


# --- the outbox: deliveries derived from events -----------------------------------------


def _wants(webhook: Webhook, kind: str, locale: str | None) -> bool:
    if kind not in webhook.events:
        return False
    return not webhook.locales or locale is None or locale in webhook.locales


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _review_data(event: Event) -> dict[str, Any]:
    data = changes.describe(event)
    data["translation"] = event.translation_id
    if event.action == "translation.rejected":
        data["reason"] = (event.after or {}).get("reason")
    return data


def _derive(event: Event) -> None:
    """Write a delivery (and its job) for each webhook that wants this event."""
    item = changes.item_for(event)
    if item is not None:
        kind, locale, data = item["type"], item["locale"], item
        if changes.FEED_TYPES[event.action].every_locale:
            locale = None
    elif event.action in REVIEW_TYPES:
        kind, locale, data = REVIEW_TYPES[event.action], event.locale, None
    else:
        return
    session = db.session
    targets = [
        webhook
        for webhook in session.scalars(sa.select(Webhook).where(Webhook.enabled.is_(True)))
        if _wants(webhook, kind, locale)
    ]
    if not targets:
        return
    if data is None:
        data = _review_data(event)
    body = json.dumps(
        {"type": kind, "timestamp": _timestamp(event.at), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    for webhook in targets:
        delivery = Delivery(
            webhook_id=webhook.id,
            message_id=MESSAGE_PREFIX + secrets.token_hex(12),
            event_id=event.id,
            type=kind,
            payload=body,
            state="pending",
            attempts=0,
            next_attempt_at=event.at,
        )
        session.add(delivery)
        session.flush()
        jobs.enqueue(JOB_KIND, {"delivery": delivery.id}, event_id=event.id)


# --- sending ---------------------------------------------------------------------------


# Seconds before the next attempt after so many failed ones; None: give up.
retry_after = jobs.scheduled_retry("WEBHOOK_RETRY_SCHEDULE")


def signed_headers(
    secrets_: list[str], message_id: str, body: bytes, moment: datetime
) -> dict[str, str]:
    """Standard Webhooks headers for one attempt, with a signature by each secret."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "Tarjuma-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(
            Signer(secret).sign(message_id, moment, body) for secret in secrets_
        ),
    }


GONE = "the receiver answered 410 Gone"
# What a successful attempt, or an admin's enabling, makes of a webhook's health.
HEALTHY: dict[str, Any] = {
    "consecutive_failures": 0,
    "failing_since": None,
    "last_failure_at": None,
    "last_failure_reason": None,
}


# The worker's statements, built once: it runs them for every delivery.
_deliveries, _webhooks = Delivery.__table__, Webhook.__table__
_TO_SEND = (
    sa.select(
        _deliveries.c.state,
        _deliveries.c.message_id,
        _deliveries.c.payload,
        _webhooks.c.id,
        _webhooks.c.url,
        _webhooks.c.secret,
        _webhooks.c.previous_secret,
        _webhooks.c.previous_secret_expires_at,
        _webhooks.c.enabled,
    )
    .join(_webhooks, _webhooks.c.id == _deliveries.c.webhook_id)
    .where(_deliveries.c.id == sa.bindparam("delivery_id"))
)
_STILL_PENDING = sa.and_(
    _deliveries.c.id == sa.bindparam("delivery_id"), _deliveries.c.state == "pending"
)
_ATTEMPTED = (
    sa.update(_deliveries)
    .where(_STILL_PENDING)
    .values(
        state=sa.bindparam("state"),
        attempts=_deliveries.c.attempts + 1,
        last_status=sa.bindparam("status"),
        next_attempt_at=sa.bindparam("next_at"),
        finished_at=sa.bindparam("finished_at"),
    )
    .returning(_deliveries.c.id)
)
_ABANDONED = (
    sa.update(_deliveries)
    .where(_STILL_PENDING)
    .values(state="failed", next_attempt_at=None, finished_at=sa.bindparam("finished_at"))
    .returning(_deliveries.c.id)
)
_LOG_ATTEMPT = sa.insert(DeliveryAttempt.__table__)
_SUCCEEDED = (
    sa.update(_webhooks)
    .where(_webhooks.c.id == sa.bindparam("webhook_id"), _webhooks.c.consecutive_failures > 0)
    .values(HEALTHY)
)
_FAILED = (
    sa.update(_webhooks)
    .where(_webhooks.c.id == sa.bindparam("webhook_id"))
    .values(
        consecutive_failures=_webhooks.c.consecutive_failures + 1,
        failing_since=sa.func.coalesce(_webhooks.c.failing_since, sa.bindparam("at")),
        last_failure_at=sa.bindparam("at"),
        last_failure_reason=sa.bindparam("reason"),
    )
    .returning(_webhooks.c.failing_since)
)


def disable_after() -> timedelta | None:
    """How long every delivery may fail before the webhook is disabled (None: never)."""
    seconds = float(current_app.config["WEBHOOK_DISABLE_AFTER"])
    return timedelta(seconds=seconds) if seconds > 0 else None


def _failing_too_long(failing_since: datetime | None, now: datetime) -> str | None:
    """The reason to disable a webhook failing since ``failing_since``, if it is time."""
    limit = disable_after()
    if limit is None or failing_since is None or now - failing_since < limit:
        return None
    return f"every delivery failed since {_timestamp(failing_since)} (WEBHOOK_DISABLE_AFTER)"


def send(job: jobs.Claim) -> jobs.Outcome | None:
    """Send one delivery once; its attempt is recorded with the job's outcome."""
    delivery_id = int(job.payload["delivery"])
    config = current_app.config
    row = db.session.execute(_TO_SEND, {"delivery_id": delivery_id}).one_or_none()
    db.session.rollback()  # nothing is held while the receiver answers
    if row is None or row.state != "pending":
        return None
    message_id, webhook_id, body = row.message_id, row.id, row.payload.encode()
    if not row.enabled:
        return jobs.Outcome(record=_record(delivery_id, webhook_id, None, "failed"))
    now = utcnow()
    sealed = [row.secret]
    if row.previous_secret and row.previous_secret_expires_at > now:
        sealed.append(row.previous_secret)
    try:
        signing = [unseal(secret) for secret in sealed]
    except InvalidToken:
        reason = "secret cannot be decrypted (SECRET_KEY changed; see SECRET_KEY_FALLBACKS)"
        answer = outbound.Answer(None, None, 0, reason, retriable=False)
    else:
        answer = outbound.post(
            row.url,
            body,
            signed_headers(signing, message_id, body, now),
            timeout=min(float(config["WEBHOOK_TIMEOUT"]), LEASE / 2),
            allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE"]),
            max_body=int(config["WEBHOOK_RESPONSE_BODY_LIMIT"]),
        )
    log.info(
        "webhook delivery %s to webhook %s: %s in %d ms",
        message_id,
        webhook_id,
        answer.status or answer.error,
        answer.duration_ms,
    )
    if answer.status is not None and 200 <= answer.status < 300:
        return jobs.Outcome(record=_record(delivery_id, webhook_id, answer, "succeeded"))
    if answer.status == 410:
        return jobs.Outcome(record=_record(delivery_id, webhook_id, answer, "failed", None, GONE))
    delay = retry_after(job.attempts) if answer.retriable else None
    state = "failed" if delay is None else "pending"
    return jobs.Outcome(
        record=_record(delivery_id, webhook_id, answer, state, delay),
        error=answer.error or f"HTTP {answer.status}",
        retry=answer.retriable,
    )


def init_app(app: Flask) -> None:
    """Deliveries written beside each event, after the feed's deriver: a public event is
    sent as the feed item it became (``changes.item_for``); and the job that sends each."""
    effects.derivers(app).add(_derive, after=[changes.append])
    jobs.handlers(app).add(JOB_KIND, send, retry=retry_after, lease=LEASE)


def _disable(session: so.Session, webhook_id: int, reason: str) -> None:
    """Switch a webhook off for ``reason``, logged as an admin's change is (by no one)."""
    disabled = session.execute(
        sa.update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason[:200])
        .returning(Webhook.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if disabled is not None:
        _log(
            "webhook.updated",
            webhook_id,
            None,
            {"enabled": True, "disabled_reason": None},
            {"enabled": False, "disabled_reason": reason[:200]},
        )


def _record(
    delivery_id: int,
    webhook_id: int,
    answer: outbound.Answer | None,
    state: str,
    delay: float | None = None,
    disable: str | None = None,
) -> Callable[[so.Session], None]:
    """The attempt's log entry, the delivery's new state and the webhook's health,
    written with the job's.

    ``state`` is the delivery's: ``succeeded``, ``pending`` (retried after ``delay``) or
    ``failed``; ``disable`` is a reason to switch the webhook off (410 Gone). A failure
    that ends ``WEBHOOK_DISABLE_AFTER`` of failures switches it off too, and is not
    retried. No answer means the webhook was disabled before an attempt was made.
    """
    outcome = "disabled" if answer is None else "retrying" if state == "pending" else state
    observability.WEBHOOK_DELIVERIES.labels(outcome).inc()

    def record(session: so.Session) -> None:
        now = utcnow()
        next_at = now + timedelta(seconds=delay) if delay is not None else None
        finished_at = None if state == "pending" else now
        attempt: dict[str, Any]
        if answer is None:
            closed = session.execute(
                _ABANDONED, {"delivery_id": delivery_id, "finished_at": finished_at}
            )
            attempt = {"error": "webhook disabled"}
        else:
            closed = session.execute(
                _ATTEMPTED,
                {
                    "delivery_id": delivery_id,
                    "state": state,
                    "status": answer.status,
                    "next_at": next_at,
                    "finished_at": finished_at,
                },
            )
            attempt = {
                "status_code": answer.status,
                "duration_ms": answer.duration_ms,
                "response_body": answer.body,
                "next_retry_at": next_at,
                "error": answer.error
                or (None if state == "succeeded" else f"HTTP {answer.status}"),
            }
        if closed.scalar_one_or_none() is None:  # deleted with its webhook, or finished
            return
        reason = disable
        if answer is not None and state == "succeeded":
            session.execute(_SUCCEEDED, {"webhook_id": webhook_id})
        elif answer is not None:
            failing_since = session.execute(
                _FAILED, {"webhook_id": webhook_id, "at": now, "reason": attempt["error"][:500]}
            ).scalar_one()
            reason = reason or _failing_too_long(failing_since, now)
            if reason is not None and state == "pending":  # no retry for a disabled webhook
                session.execute(_ABANDONED, {"delivery_id": delivery_id, "finished_at": now})
                attempt["next_retry_at"] = None
        session.execute(_LOG_ATTEMPT, {"delivery_id": delivery_id, "at": now, **attempt})
        if reason is not None:
            _disable(session, webhook_id, reason)

    return record
