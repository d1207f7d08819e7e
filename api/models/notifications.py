"""Notifications: what each person asked to hear of, and what they were told."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from api.models.audit import Event

# What a person may hear of: new or changed source text in a locale they translate, their
# own work approved or rejected, and work waiting for their review.
NOTIFICATION_KINDS = ("source.changed", "translation.reviewed", "review.waiting")
# How: not at all, a mail at once, or one mail a day (the console shows all but ``off``).
NOTIFICATION_MODES = ("off", "instant", "daily")


class NotificationSetting(db.Model):  # type: ignore[name-defined]
    """A person's own choice for one kind in one locale; without a row, their role's
    default applies (``api.services.notify.settings.DEFAULTS``)."""

    __tablename__ = "notification_settings"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    locale: so.Mapped[str] = so.mapped_column(sa.String(35), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    mode: so.Mapped[str] = so.mapped_column(sa.String(16))

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", NOTIFICATION_KINDS), name="kind_known"),
        sa.CheckConstraint(one_of("mode", NOTIFICATION_MODES), name="mode_known"),
    )


class Notification(db.Model):  # type: ignore[name-defined]
    """One thing one person is told of, derived from one event in its transaction.

    kind: one of ``NOTIFICATION_KINDS``; locale: the locale it concerns.
    mode: ``instant`` (mailed by its own job) or ``daily`` (in the digest at ``digest_at``).
    read_at: when its person marked it read in the console or the API.
    mailed_at: when the mail that told of it was sent (None: not yet, or never: a person
        without an email address, a server without ``SMTP_URL``).
    """

    __tablename__ = "notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    event_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    mode: so.Mapped[str] = so.mapped_column(sa.String(16))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    digest_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    mailed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    event: so.Mapped[Event] = so.relationship(viewonly=True, lazy="joined")

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", NOTIFICATION_KINDS), name="kind_known"),
        sa.CheckConstraint("mode IN ('instant', 'daily')", name="mode_known"),
        # A person's list, newest first, and the unread count on every console page.
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        # A digest's notifications.
        sa.Index("ix_notifications_user_id_digest_at", "user_id", "digest_at"),
    )
