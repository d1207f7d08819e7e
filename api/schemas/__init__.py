"""marshmallow schemas for the HTTP surface, mirroring ``api.views``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load

from api.schemas.validation import Length, OneOf, Range, locale_field

# Marks an essay text (stored, served, exported to catalogs): it holds no control character
# but tabs and line breaks. A visible one must not be blank either. The document gives
# their patterns.
ESSAY_TEXT = {"text": "essay"}
VISIBLE_TEXT = {"text": "visible"}
# A reason or comment must have something besides whitespace.
NOT_BLANK = {"pattern": r"\S"}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    @pre_load
    def refuse_nul(self, data: Any, **_: Any) -> Any:
        """NUL characters are never text: no database stores them, so no field takes them."""
        if _has_nul(data if isinstance(data, Mapping) else {}):
            raise ValidationError(str(_l("Text must not contain NUL characters.")))
        return data


class ArgsSchema(BaseSchema):
    """Query parameters: one not named is ignored (a cache-buster, say)."""


class InputSchema(BaseSchema):
    """A request body: a member the schema does not name is refused, not ignored."""

    class Meta(BaseSchema.Meta):
        unknown = RAISE


class PageArgs(ArgsSchema):
    page = fields.Integer(load_default=1, validate=Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=Range(min=1, max=100))


class LocaleArgs(ArgsSchema):
    locale = locale_field(
        "readable",
        check=False,
        metadata={
            "description": (
                "BCP 47 locale (``ar``, ``ar-EG``, ``ar_EG``) served by an offered locale,"
                " or ``*`` for every locale."
            )
        },
    )


class EssayListArgs(PageArgs):
    locale = locale_field(
        "offered",
        check=False,
        metadata={"description": "BCP 47 locale served by an offered locale (``ar``, ``ar-EG``)."},
    )


class PageSchema(BaseSchema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class ProgressSchema(BaseSchema):
    total = fields.Integer(required=True)
    approved = fields.Integer(required=True)
    outdated = fields.Integer(required=True)
    submitted = fields.Integer(required=True)
    missing = fields.Integer()
    percent = fields.Float(required=True)


class LocaleSchema(BaseSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    native_name = fields.String(required=True)
    direction = fields.String(required=True, validate=OneOf(["ltr", "rtl"]))
    fallback = fields.List(fields.String(), required=True)
    is_source = fields.Boolean(required=True)
    progress = fields.Nested(ProgressSchema, required=True)
    states = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=OneOf(["live", "staged"])),
        metadata={"description": "Per essay (by slug): whether this locale is live or staged."},
    )


class LocalesSchema(BaseSchema):
    default = fields.String(required=True)
    source = fields.String()
    locales = fields.List(fields.Nested(LocaleSchema), required=True)


class UnitProgressSchema(BaseSchema):
    essay = fields.String(required=True)
    key = fields.String(required=True)
    kind = fields.String(required=True)
    state = fields.String(
        required=True,
        validate=OneOf(["approved", "outdated", "submitted", "missing"]),
    )
    published_version = fields.Integer(allow_none=True)
    submitted = fields.Integer(required=True)


class LocaleProgressSchema(BaseSchema):
    locale = fields.String(required=True)
    progress = fields.Nested(ProgressSchema, required=True)
    units = fields.List(fields.Nested(UnitProgressSchema), required=True)


DIRECTION = OneOf(["ltr", "rtl"])
REQUESTED_LOCALE = {
    "description": (
        "The ``?locale`` value as the client wrote it; null when the locale came from"
        " ``Accept-Language`` or the default."
    )
}
NEGOTIATED_LOCALE = {"description": "The locale negotiated for the request (``*``: every one)."}


class EssaySummarySchema(BaseSchema):
    slug = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    title_locale = fields.String(metadata={"description": "The locale the title is served in."})
    title_direction = fields.String(
        validate=DIRECTION, metadata={"description": "The writing direction of the title."}
    )
    source_locale = fields.String(required=True)
    sections = fields.List(fields.String(), required=True)


class EssayListSchema(PageSchema):
    items = fields.List(fields.Nested(EssaySummarySchema), required=True)


class TextSchema(BaseSchema):
    heading = fields.String(allow_none=True)
    body = fields.String(required=True)
    version = fields.Integer(required=True)
    outdated = fields.Boolean(required=True)
    approved_at = fields.String(allow_none=True)


class SectionSchema(BaseSchema):
    key = fields.String(required=True)
    position = fields.Integer(required=True)
    heading = fields.String(allow_none=True)
    body = fields.String()
    locale = fields.String(
        metadata={"description": "The locale served; absent with ?locale=* (see translations)."}
    )
    direction = fields.String(
        allow_none=True,
        validate=DIRECTION,
        metadata={
            "description": (
                "The writing direction of the locale served (absent with ?locale=*): set ``dir``"
                " from it, not from the essay's."
            )
        },
    )
    fallback = fields.Boolean()
    outdated = fields.Boolean()
    version = fields.Integer()
    approved_at = fields.String(allow_none=True)
    source_revision = fields.Integer(required=True)
    translations = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(TextSchema),
        metadata={"description": "With ?locale=*: the approved text of every locale."},
    )
    status = fields.String(
        validate=OneOf(["submitted", "approved"]),
        metadata={"description": "Previews only: a submitted draft, or approved text."},
    )


class EssaySchema(BaseSchema):
    slug = fields.String(required=True)
    requested_locale = fields.String(allow_none=True, required=True, metadata=REQUESTED_LOCALE)
    negotiated_locale = fields.String(required=True, metadata=NEGOTIATED_LOCALE)
    locale = fields.String(required=True, metadata=NEGOTIATED_LOCALE)
    direction = fields.String(
        allow_none=True,
        required=True,
        validate=DIRECTION,
        metadata={"description": "The writing direction of the negotiated locale."},
    )
    source_locale = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    title_locale = fields.String(metadata={"description": "The locale the title is served in."})
    title_direction = fields.String(
        validate=DIRECTION, metadata={"description": "The writing direction of the title."}
    )
    title_outdated = fields.Boolean()
    titles = fields.Dict(keys=fields.String(), values=fields.String())
    revision = fields.Integer(required=True)
    sections = fields.List(fields.Nested(SectionSchema), required=True)
    preview = fields.Boolean(metadata={"description": "Previews only: always true."})
    title_status = fields.String(
        validate=OneOf(["submitted", "approved"]),
        metadata={"description": "Previews only: whether the title shown is a draft."},
    )


class SectionDocumentSchema(SectionSchema):
    essay = fields.String(required=True)
    requested_locale = fields.String(allow_none=True, required=True, metadata=REQUESTED_LOCALE)
    negotiated_locale = fields.String(required=True, metadata=NEGOTIATED_LOCALE)
    revision = fields.Integer(required=True)


class SourceEditSchema(InputSchema):
    heading = fields.String(allow_none=True, validate=Length(max=2000), metadata=ESSAY_TEXT)
    body = fields.String(
        required=True,
        validate=Length(min=1, max=200_000),
        metadata={**VISIBLE_TEXT, "max_length": "MAX_TRANSLATION_LENGTH"},
    )


class MeSchema(BaseSchema):
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    locales = fields.List(fields.String(), required=True)


class HealthSchema(BaseSchema):
    status = fields.String(required=True)
    database = fields.String()
    migration = fields.String(allow_none=True)
