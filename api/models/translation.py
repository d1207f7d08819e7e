"""Translation versions and the comments on them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from api.models.content import Unit
    from api.models.identity import User

STATUSES = ("submitted", "approved", "rejected", "withdrawn", "superseded", "unpublished")


class TranslationVersion(db.Model):  # type: ignore[name-defined]
    """One translator's version of a unit in one locale.

    version: 1, 2, 3… per unit and locale, in order of submission.
    status: ``submitted``, ``approved`` (published: at most one per unit and locale,
        enforced by a partial unique index), ``rejected``, ``withdrawn``, ``superseded`` or
        ``unpublished`` (taken down by a reviewer; approving it again restores it).
    source_revision: the source revision it translates; ``source_hash`` is that
        revision's fingerprint, so the version is outdated exactly when the current
        source text differs from the text it was made from.
    checks: the quality-check results stored at submission (and refreshed on approval).
    approved_at: when it was last published.
    """

    __tablename__ = "translation_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    version: so.Mapped[int]
    heading: so.Mapped[str | None] = so.mapped_column(sa.Text)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="submitted")
    source_revision: so.Mapped[int]
    source_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reviewer_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    checks: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    reviewed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    approved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    unit: so.Mapped[Unit] = so.relationship(back_populates="translations")
    author: so.Mapped[User | None] = so.relationship(foreign_keys=[author_id])
    reviewer: so.Mapped[User | None] = so.relationship(foreign_keys=[reviewer_id])
    comments: so.Mapped[list[Comment]] = so.relationship(
        back_populates="translation", order_by="Comment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "locale", "version"),
        sa.ForeignKeyConstraint(
            ["unit_id", "source_revision"],
            ["source_revisions.unit_id", "source_revisions.revision"],
            name="fk_translation_versions_source_revision",
        ),
        sa.CheckConstraint(one_of("status", STATUSES), name="status"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint(
            "status != 'approved' OR approved_at IS NOT NULL", name="approved_has_time"
        ),
        sa.Index(
            "uq_translation_versions_published",
            "unit_id",
            "locale",
            unique=True,
            sqlite_where=sa.text("status = 'approved'"),
            postgresql_where=sa.text("status = 'approved'"),
        ),
        sa.Index("ix_translation_versions_queue", "locale", "status", "created_at"),
        sa.Index("ix_translation_versions_unit_locale", "unit_id", "locale", "status"),
        sa.Index("ix_translation_versions_status_created", "status", "created_at", "id"),
    )


class Comment(db.Model):  # type: ignore[name-defined]
    """A comment on a translation version, by its translator or a reviewer."""

    __tablename__ = "comments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    translation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("translation_versions.id", ondelete="CASCADE"), index=True
    )
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    translation: so.Mapped[TranslationVersion] = so.relationship(back_populates="comments")
    author: so.Mapped[User | None] = so.relationship()
