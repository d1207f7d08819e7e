"""The search index: the published text of each unit in each locale, analysed."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql

from api.extensions import db

# What each database's full-text index adds beside ``search_documents``; created by the
# migrations for that database alone, so the models leave them out (``outside_models``).
FTS_TABLE = "search_index"  # SQLite: an FTS5 table over the document's terms
GIN_INDEX = "ix_search_documents_terms"  # PostgreSQL: the GIN index on ``terms``
_OUTSIDE_MODELS = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")),
        GIN_INDEX,
    }
)


def outside_models(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: False for the full-text objects the models leave out."""
    return name not in _OUTSIDE_MODELS


class SearchDocument(db.Model):  # type: ignore[name-defined]
    """The text readers get of one unit in one locale, as search finds it.

    Kept by ``api.services.search.index`` in the transaction of every change readers can
    see, so that search is never behind reading: approved translations of live locales,
    and the source text, of units and essays that are not archived.

    locale: the locale the text is written in.
    source: the essay's source text (else an approved translation).
    version: the translation's version number, or the source revision.
    heading / body: the text as plain text, Markdown taken out: snippets are cut from it.
    fingerprint: of the text and the analyzer's rules; an unchanged one is not rewritten.
    heading_terms / body_terms: SQLite: the analysed terms, space-separated, which the
        FTS5 table ``search_index`` indexes (its tokenizer only splits at the spaces).
    terms: PostgreSQL: the analysed terms as a ``tsvector`` with positions and weights
        (the heading's weighed more), under a GIN index; the database's own parser
        never sees the text.
    """

    __tablename__ = "search_documents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    essay_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("essays.id", ondelete="CASCADE"), index=True
    )
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    source: so.Mapped[bool] = so.mapped_column(default=False)
    version: so.Mapped[int]
    heading: so.Mapped[str | None] = so.mapped_column(sa.Text)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    heading_terms: so.Mapped[str | None] = so.mapped_column(sa.Text)
    body_terms: so.Mapped[str | None] = so.mapped_column(sa.Text)
    terms: so.Mapped[str | None] = so.mapped_column(
        sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")
    )

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "locale"),
        sa.Index("ix_search_documents_locale", "locale", "source", "unit_id"),
    )


class SearchFallback(db.Model):  # type: ignore[name-defined]
    """A document that readers of another locale are served, their own having no text.

    Kept beside the documents by ``api.services.search.index``: a reader of ``reader`` is
    served the unit in ``locale``, the first locale of the reader's fallback chain (then
    the essay's source) that has text of it. A search for that reader looks in each such
    locale through these rows alone, never through the documents other readers are served.

    reader: the reader's locale (never ``locale`` itself: a reader's own text is always
        served).
    locale: the document's locale, so that a search lists a locale's rows from the key.
    document_id: the document served.
    """

    __tablename__ = "search_fallbacks"

    reader: so.Mapped[str] = so.mapped_column(sa.String(35), primary_key=True)
    locale: so.Mapped[str] = so.mapped_column(sa.String(35), primary_key=True)
    document_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
