"""Schemas of the translators' aids: memory suggestions, concordance, TMX, glossary."""

from __future__ import annotations

from marshmallow import fields

from api.schemas import BaseSchema, PageArgs, PageSchema
from api.schemas.validation import Length, Range
from api.schemas.workflow import UTCDateTime


def _locale_field() -> fields.String:
    return fields.String(
        required=True,
        validate=Length(min=1, max=64),
        metadata={"description": "A target locale (``ar``, ``ar-EG``, ``ar_EG``)."},
    )


class MemoryLocaleArgs(BaseSchema):
    locale = _locale_field()


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


class SuggestionListSchema(BaseSchema):
    items = fields.List(fields.Nested(SuggestionSchema), required=True)
    min_score = fields.Integer(required=True)


class ConcordanceArgs(PageArgs):
    q = fields.String(
        required=True,
        validate=Length(min=1, max=200),
        metadata={"description": "Text to find in sources or translations (folded)."},
    )
    locale = _locale_field()


class ConcordanceItemSchema(BaseSchema):
    source = fields.String(required=True)
    translation = fields.String(required=True)
    origin = fields.Nested(OriginSchema, required=True)


class ConcordancePageSchema(PageSchema):
    items = fields.List(fields.Nested(ConcordanceItemSchema), required=True)


class TmxImportSchema(BaseSchema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


class GlossaryInSchema(BaseSchema):
    term = fields.String(required=True, validate=Length(min=1, max=200))
    locale = _locale_field()
    translations = fields.List(
        fields.String(validate=Length(min=1, max=200)),
        required=True,
        validate=Length(min=1, max=20),
        metadata={"description": "Allowed renderings, in dictionary form."},
    )
    forbidden = fields.List(
        fields.String(validate=Length(min=1, max=200)),
        load_default=list,
        validate=Length(max=20),
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
    locale = fields.String(validate=Length(min=1, max=64))
    q = fields.String(validate=Length(max=200))


class GlossaryPageSchema(PageSchema):
    items = fields.List(fields.Nested(GlossaryTermSchema), required=True)


class BadgeArgs(BaseSchema):
    locale = _locale_field()
