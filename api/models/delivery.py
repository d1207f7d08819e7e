"""The change feed and webhooks: what readers and subscribers are told, in commit order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, one_of, utcnow

DELIVERY_STATES = ("pending", "succeeded", "failed")


class FeedCounter(db.Model):  # type: ignore[name-defined]
    """The one row that hands out feed positions.

    position: the last position handed out. A writer raises it under the row's lock,
        which it holds until it commits, so positions are handed out in commit order and
        a rolled-back writer's position is handed out again: the feed has no gaps.
    """

    __tablename__ = "feed_counter"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    position: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
    )


class Change(db.Model):  # type: ignore[name-defined]
    """One item of the public change feed, derived from a public event.

    position: the item's place in the feed (commit order, no gaps); its cursor.
    type: the feed type (``translation.published``, ``source.updated``…).
    locale: the locale a locale filter matches, or None for a change that concerns
        every locale (an essay created or archived, its source text edited).
    data: the item as readers see it (essay, unit, locale, version, revision, heading,
        body), written when the change commits; published text never changes afterwards.
    """

    __tablename__ = "changes"

    position: so.Mapped[int] = so.mapped_column(
        sa.BigInteger, primary_key=True, autoincrement=False
    )
    event_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), unique=True
    )
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    type: so.Mapped[str] = so.mapped_column(sa.String(40))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(35))
    data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)

    __table_args__ = (
        sa.CheckConstraint("position >= 1", name="position_positive"),
        sa.Index("ix_changes_locale_position", "locale", "position"),
    )


class Webhook(db.Model):  # type: ignore[name-defined]
    """A subscriber's endpoint.

    events: the event types it receives; locales: the locales it receives (empty: all;
        changes that concern every locale always go).
    secret: the signing secret, encrypted with a key derived from ``SECRET_KEY``
        (Fernet); it is shown once, when the webhook is created or its secret rotated.
    previous_secret: after a rotation, the secret it replaced (encrypted the same way),
        which signs beside the new one until ``previous_secret_expires_at``, so that a
        receiver can switch without refusing a message.
    enabled: false after an admin switches it off, after the receiver answered 410, or
        after every delivery failed for ``WEBHOOK_DISABLE_AFTER``; ``disabled_reason`` says
        which.
    consecutive_failures: failed attempts since the last one that succeeded.
    failing_since: when the first of them failed (None while the webhook is healthy).
    last_failure_at, last_failure_reason: the latest of them, and why it failed.
    A successful attempt, or an admin enabling the webhook again, clears all four.
    """

    __tablename__ = "webhooks"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    url: so.Mapped[str] = so.mapped_column(sa.String(2000))
    description: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    events: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    locales: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    secret: so.Mapped[str] = so.mapped_column(sa.Text)
    previous_secret: so.Mapped[str | None] = so.mapped_column(sa.Text)
    previous_secret_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    disabled_reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    consecutive_failures: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    failing_since: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_failure_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_failure_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        sa.CheckConstraint("consecutive_failures >= 0", name="consecutive_failures_not_negative"),
    )

    @property
    def last_failure(self) -> dict[str, Any] | None:
        """The latest failed attempt since the last success: when, and why."""
        if self.last_failure_at is None:
            return None
        return {"at": self.last_failure_at, "reason": self.last_failure_reason}

    deliveries: so.Mapped[list[Delivery]] = so.relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True
    )


class Delivery(db.Model):  # type: ignore[name-defined]
    """One message to one webhook, written in the transaction of the change it reports.

    message_id: the ``webhook-id`` header, the same on every attempt (receivers dedupe on it).
    payload: the exact body sent, frozen when the change committed.
    state: ``pending`` until an attempt succeeds (``succeeded``) or the retry schedule
        runs out, or the webhook is gone (``failed``).
    attempts: how many attempts were made, over all rounds (a redelivery starts a round).
    """

    __tablename__ = "webhook_deliveries"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    webhook_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    message_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    event_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL")
    )
    type: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[str] = so.mapped_column(sa.Text)
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_status: so.Mapped[int | None]
    next_attempt_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    webhook: so.Mapped[Webhook] = so.relationship(back_populates="deliveries")
    attempt_log: so.Mapped[list[DeliveryAttempt]] = so.relationship(
        back_populates="delivery",
        order_by="DeliveryAttempt.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        sa.CheckConstraint(one_of("state", DELIVERY_STATES), name="state"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
    )


class DeliveryAttempt(db.Model):  # type: ignore[name-defined]
    """One try at sending a delivery.

    status_code: the receiver's answer (None when there was none: refused, timed out).
    duration_ms: from connecting to the end of the answer (or the failure).
    error: why the attempt failed, in a few words (never a secret).
    response_body: the start of the receiver's answer (``WEBHOOK_RESPONSE_BODY_LIMIT``).
    next_retry_at: when the next attempt is due, or None when there is none.
    """

    __tablename__ = "webhook_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    delivery_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    status_code: so.Mapped[int | None]
    duration_ms: so.Mapped[int] = so.mapped_column(default=0)
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    response_body: so.Mapped[str | None] = so.mapped_column(sa.Text)
    next_retry_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    delivery: so.Mapped[Delivery] = so.relationship(back_populates="attempt_log")
