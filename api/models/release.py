"""Per-locale releases of an essay, and preview links for people without an account."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from api.models.content import Essay

RELEASE_STATES = ("live", "staged")


class EssayLocale(db.Model):  # type: ignore[name-defined]
    """The release state of one essay in one locale.

    state: ``live`` (approved translations are served) or ``staged`` (they are kept and
        shown in the console, but readers get the rest of the fallback chain). A locale
        without a row is live.
    scheduled_state / scheduled_at: a change of state waiting for its time; the worker
        applies it (see ``api.services.delivery.releases``). Both are set or both are empty.
    """

    __tablename__ = "essay_locales"

    essay_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("essays.id", ondelete="CASCADE"), primary_key=True
    )
    locale: so.Mapped[str] = so.mapped_column(sa.String(35), primary_key=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="live")
    scheduled_state: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    scheduled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    essay: so.Mapped[Essay] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(one_of("state", RELEASE_STATES), name="state"),
        sa.CheckConstraint(
            f"scheduled_state IS NULL OR {one_of('scheduled_state', RELEASE_STATES)}",
            name="scheduled_state",
        ),
        sa.CheckConstraint(
            "(scheduled_state IS NULL) = (scheduled_at IS NULL)", name="schedule_complete"
        ),
        sa.Index("ix_essay_locales_staged", "essay_id", "locale", "state"),
    )


class PreviewLink(db.Model):  # type: ignore[name-defined]
    """A link that shows one essay's preview in one locale to anyone who has it.

    token_hash: SHA-256 of the random token in the link; the token itself is shown once.
    expires_at: after it the link answers 410 Gone.
    revoked_at: set when revoked; a revoked link answers 404, like one that never existed.
    """

    __tablename__ = "preview_links"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    essay_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("essays.id", ondelete="CASCADE"), index=True
    )
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    essay: so.Mapped[Essay] = so.relationship()

    __table_args__ = (sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),)
