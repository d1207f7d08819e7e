"""Schemas of search."""

from __future__ import annotations

from marshmallow import fields

from api.schemas import NOT_BLANK, BaseSchema, PageArgs, PageSchema
from api.schemas.validation import locale_field
from api.services.search.query import MAX_QUERY


class SearchArgs(PageArgs):
    # Checked by the search itself, for a problem that says what is wrong with the query.
    q = fields.String(
        required=True,
        metadata={
            **NOT_BLANK,
            "minLength": 1,
            "maxLength": MAX_QUERY,
            "description": "Words to find, in any of their inflected forms.",
        },
    )
    locale = locale_field(
        "offered",
        check=False,
        metadata={
            "description": "The reader's locale (BCP 47, served by an offered locale): its"
            " sections are searched as its readers get them, fallbacks included."
        },
    )


class SearchItemSchema(BaseSchema):
    essay = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "The section's key."})
    locale = fields.String(
        required=True,
        metadata={"description": "The locale the section is written in (a fallback's own)."},
    )
    direction = fields.String(required=True, metadata={"enum": ["ltr", "rtl"]})
    heading = fields.String(required=True, allow_none=True)
    snippet = fields.String(
        required=True, metadata={"description": "Plain text around the words found."}
    )
    highlights = fields.List(
        fields.List(fields.Integer(), metadata={"minItems": 2, "maxItems": 2}),
        required=True,
        metadata={
            "description": "[start, end) offsets of the words found in ``snippet``, in"
            " characters (Unicode code points)."
        },
    )
    score = fields.Float(required=True, metadata={"description": "Higher is better."})


class SearchPageSchema(PageSchema):
    items = fields.List(fields.Nested(SearchItemSchema), required=True)
