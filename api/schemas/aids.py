"""Schemas of the translators' aids: memory suggestions, concordance, TMX, glossary."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from api.schemas import NOT_BLANK, ArgsSchema, BaseSchema, InputSchema, PageArgs, PageSchema
from api.schemas.validation import Length, Range, locale_field
from api.schemas.workflow import UTCDateTime
from api.services.aids.glossary import MAX_RENDERINGS, MAX_TEXT
from api.services.aids.memory import MAX_QUERY

TARGET = {"description": "A translated locale (``ar``, ``AR``; not the source)."}


class MemoryLocaleArgs(ArgsSchema):
    locale = locale_field("target", required=True, metadata=TARGET)


class OriginSchema(BaseSchema):
    essay = fields.String(allow_none=True, required=True)
    unit = fields.String(allow_none=True, required=True)
    version = fields.Integer(allow_none=True, required=True)
    imported = fields.Boolean(
        required=True, metadata={"description": "Imported from a TMX file, not approved here."}
    )


class SuggestionSchema(BaseSchema):
    segment = fields.String(
        required=True, metadata={"description": "The sentence of the section this matches."}
    )
    source = fields.String(required=True)
    translation = fields.String(required=True)
    score = fields.Integer(required=True, validate=Range(min=0, max=100))
    origin = fields.Nested(OriginSchema, required=True)
    from_locale = fields.String(
        allow_none=True,
        metadata={
            "description": "For the section's approved text in a related locale (its fallback"
            " chain first), that locale; null for the memory's own matches, which come first."
        },
    )


class SuggestionListSchema(BaseSchema):
    items = fields.List(fields.Nested(SuggestionSchema), required=True)
    min_score = fields.Integer(required=True)


class ConcordanceArgs(PageArgs):
    q = fields.String(
        required=True,
        validate=Length(min=1, max=MAX_QUERY),
        metadata={
            **NOT_BLANK,
            "description": "Text to find in sources or translations (folded).",
        },
    )
    locale = locale_field("target", required=True, metadata=TARGET)


class ConcordanceItemSchema(BaseSchema):
    source = fields.String(required=True)
    translation = fields.String(required=True)
    origin = fields.Nested(OriginSchema, required=True)


class ConcordancePageSchema(PageSchema):
    items = fields.List(fields.Nested(ConcordanceItemSchema), required=True)


class TmxImportSchema(BaseSchema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


def _words(**kwargs: Any) -> fields.String:
    return fields.String(validate=Length(min=1, max=MAX_TEXT), metadata=NOT_BLANK, **kwargs)


class GlossaryInSchema(InputSchema):
    term = _words(required=True)
    # The glossary service checks the locale, with its own problem.
    locale = locale_field("target", check=False, required=True, metadata=TARGET)
    translations = fields.List(
        _words(),
        required=True,
        validate=Length(min=1, max=MAX_RENDERINGS),
        metadata={"description": "Allowed renderings, in dictionary form."},
    )
    forbidden = fields.List(
        _words(),
        load_default=list,
        validate=Length(max=MAX_RENDERINGS),
    )
    note = fields.String(allow_none=True, validate=Length(max=2000))


class GlossaryUpdateSchema(GlossaryInSchema):
    locale = fields.String(
        validate=Length(min=1, max=64),
        metadata={"description": "Ignored: a term keeps its locale."},
    )


class GlossaryTermSchema(BaseSchema):
    id = fields.Integer(required=True)
    term = fields.String(required=True)
    locale = fields.String(required=True)
    translations = fields.List(fields.String(), required=True)
    forbidden = fields.List(fields.String(), required=True)
    note = fields.String(allow_none=True, required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class GlossaryArgs(PageArgs):
    locale = locale_field("target", metadata=TARGET)
    q = fields.String(validate=Length(max=MAX_TEXT))


class GlossaryPageSchema(PageSchema):
    items = fields.List(fields.Nested(GlossaryTermSchema), required=True)


class BadgeArgs(ArgsSchema):
    # Negotiated like a reader's ?locale=, with its problems.
    locale = locale_field(
        "offered",
        check=False,
        required=True,
        metadata={"description": "A locale served by an offered one (``ar``, ``ar-EG``)."},
    )
