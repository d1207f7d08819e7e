"""The append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from api.models.content import Essay, Unit
    from api.models.identity import User


class Event(db.Model):  # type: ignore[name-defined]
    """One thing that happened: a state change, a comment, a source edit, a token issued.

    Rows are only ever inserted. ``id`` grows monotonically, so it doubles as a cursor
    for anyone following changes. ``before`` and ``after`` hold the relevant state on
    each side of the change.
    """

    __tablename__ = "events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    essay_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("essays.id", ondelete="SET NULL")
    )
    unit_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("units.id", ondelete="SET NULL")
    )
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(35))
    translation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("translation_versions.id", ondelete="SET NULL")
    )
    before: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)

    actor: so.Mapped[User | None] = so.relationship()
    essay: so.Mapped[Essay | None] = so.relationship(viewonly=True)
    unit: so.Mapped[Unit | None] = so.relationship(viewonly=True)

    @property
    def essay_slug(self) -> str | None:
        return self.essay.slug if self.essay else None

    @property
    def unit_key(self) -> str | None:
        return self.unit.key if self.unit else None

    __table_args__ = (
        sa.Index("ix_events_locale_id", "locale", "id"),
        sa.Index("ix_events_unit_id_id", "unit_id", "id"),
        sa.Index("ix_events_actor_id_id", "actor_id", "id"),
        sa.Index("ix_events_translation_id_id", "translation_id", "id"),
        sa.Index("ix_events_action_id", "action", "id"),
    )
