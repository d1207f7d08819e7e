"""Translators' aids: the translation memory and the glossary."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, utcnow


class MemorySource(db.Model):  # type: ignore[name-defined]
    """A source sentence the memory knows, shared by every locale that translates it.

    locale: the source language of the sentence.
    text: the sentence as written; ``folded`` is its search form (case, accents,
        diacritics and spacing folded) and ``digest`` the SHA-256 of ``folded``.
    length: characters in ``folded``, to skip candidates too short or too long to match.
    """

    __tablename__ = "memory_sources"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    folded: so.Mapped[str] = so.mapped_column(sa.Text)
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    length: so.Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint("locale", "digest"),
        sa.CheckConstraint("length >= 0", name="length_not_negative"),
    )


class MemoryWord(db.Model):  # type: ignore[name-defined]
    """A folded word of a source sentence: the portable index candidates are found by."""

    __tablename__ = "memory_words"

    word: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    source_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memory_sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MemoryUnit(db.Model):  # type: ignore[name-defined]
    """One sentence pair: a source sentence and its approved rendering in one locale.

    translation_id: the approved version it comes from (its rows go when that version
        is unpublished); None for units imported from a TMX file (``imported``).
    position: the pair's place in its version, from 0.
    target_folded: the rendering's search form, as ``MemorySource.folded``;
        ``target_digest`` the SHA-256 of the rendering itself, to tell renderings apart
        from the index alone (one sentence may be stored for many essays).
    """

    __tablename__ = "memory_units"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    source_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memory_sources.id", ondelete="CASCADE")
    )
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    target: so.Mapped[str] = so.mapped_column(sa.Text)
    target_folded: so.Mapped[str] = so.mapped_column(sa.Text)
    target_digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    translation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("translation_versions.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    imported: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    source: so.Mapped[MemorySource] = so.relationship()

    __table_args__ = (
        sa.Index(
            "ix_memory_units_locale_source",
            "locale",
            "source_id",
            "target_digest",
            "imported",
            "id",
        ),
        sa.CheckConstraint("imported OR translation_id IS NOT NULL", name="origin_known"),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
    )


class GlossaryTerm(db.Model):  # type: ignore[name-defined]
    """A source-language term and how it must (and must not) be rendered in one locale.

    term: the term as written in the source language (``Islamic Nation``).
    locale: the target locale the renderings are in.
    translations: the allowed renderings, in dictionary form (at least one).
    forbidden: renderings that must not be used.
    note: guidance for translators.
    """

    __tablename__ = "glossary_terms"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    term: so.Mapped[str] = so.mapped_column(sa.String(200))
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    translations: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    forbidden: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        sa.UniqueConstraint("locale", "term"),
        sa.CheckConstraint("length(term) > 0", name="term_not_empty"),
    )
