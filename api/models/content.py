"""Essays and their translatable units, with every source revision kept."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from api.models.translation import TranslationVersion

UNIT_KINDS = ("title", "section")


def content_hash(heading: str | None, body: str) -> str:
    """A fingerprint of a unit's text: equal texts give equal hashes across revisions."""
    data = f"{heading or ''}\x1f{body}".encode()
    return hashlib.sha256(data).hexdigest()


class Essay(db.Model):  # type: ignore[name-defined]
    """An essay in its source locale.

    slug: the public identifier in URLs.
    source_locale: the locale the essay is written in; every fallback chain ends there.
    revision: a counter raised by every change to the essay's workflow state (a
        submission, a review, a publication, a source edit); the stamps in
        ``PublicationStamp`` are values of it, so readers can tell fresh from stale.
    archived_at: set when the essay is archived: readers get 404, its rows are kept.
    """

    __tablename__ = "essays"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    source_locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    revision: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    archived_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    units: so.Mapped[list[Unit]] = so.relationship(
        back_populates="essay", order_by="Unit.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("revision >= 1", name="revision_positive"),)


class Unit(db.Model):  # type: ignore[name-defined]
    """A translatable unit of an essay: its title, or one section.

    key: stable identifier within the essay (``title``, ``introduction``, a heading's slug).
    kind: ``title`` or ``section``; sections are what readers page through.
    position: order among the units of its kind, from 0.
    heading / body: the current source text, Markdown kept as Markdown.
    source_revision: raised by one whenever the source text changes.
    source_hash: fingerprint of the current source text (see ``content_hash``).
    source_changed_at: when the current source revision was made.
    archived_at: set when a re-import no longer has the unit: it is not served, and its
        translations are kept in case it comes back.
    """

    __tablename__ = "units"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    essay_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("essays.id", ondelete="CASCADE"), index=True
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    position: so.Mapped[int]
    heading: so.Mapped[str | None] = so.mapped_column(sa.Text)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    source_revision: so.Mapped[int] = so.mapped_column(default=1)
    source_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    source_changed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    archived_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    essay: so.Mapped[Essay] = so.relationship(back_populates="units")
    revisions: so.Mapped[list[SourceRevision]] = so.relationship(
        back_populates="unit", order_by="SourceRevision.revision", cascade="all, delete-orphan"
    )
    translations: so.Mapped[list[TranslationVersion]] = so.relationship(
        back_populates="unit", cascade="all, delete-orphan", viewonly=False
    )

    __table_args__ = (
        sa.UniqueConstraint("essay_id", "key"),
        sa.CheckConstraint("kind IN ('title', 'section')", name="kind"),
        sa.CheckConstraint("source_revision >= 1", name="source_revision_positive"),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
        sa.Index("ix_units_key", "key"),
    )


class SourceRevision(db.Model):  # type: ignore[name-defined]
    """One revision of a unit's source text, kept forever.

    revision: the unit's ``source_revision`` when this text was current.
    content_hash: fingerprint of heading and body, to tell when an edit returns to old text.
    author_id: the admin who edited it (None for imports).
    """

    __tablename__ = "source_revisions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    revision: so.Mapped[int]
    heading: so.Mapped[str | None] = so.mapped_column(sa.Text)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    unit: so.Mapped[Unit] = so.relationship(back_populates="revisions")

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "revision"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
    )


class PublicationStamp(db.Model):  # type: ignore[name-defined]
    """When (in essay revisions) the published text of one locale last changed.

    scope: ``""`` for the whole essay, or a unit's key for that unit alone.
    stamp: the essay's ``revision`` at that change.

    A reader's representation in locale L depends on the stamps of every locale in L's
    fallback chain, in its scope; its ETag is derived from them, so a publication or a
    source edit makes exactly the affected representations fresh, and reading them is
    one indexed query.
    """

    __tablename__ = "publication_stamps"

    essay_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("essays.id", ondelete="CASCADE"), primary_key=True
    )
    scope: so.Mapped[str] = so.mapped_column(sa.String(120), primary_key=True)
    locale: so.Mapped[str] = so.mapped_column(sa.String(35), primary_key=True)
    stamp: so.Mapped[int]
