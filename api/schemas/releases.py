"""Schemas of previews, preview links, per-locale releases and authoring."""

from __future__ import annotations

from marshmallow import fields

from api.models import RELEASE_STATES
from api.schemas import ArgsSchema, BaseSchema, InputSchema, LocaleArgs, ProgressSchema
from api.schemas.validation import Length, OneOf, Range, locale_field
from api.schemas.workflow import UTCDateTime
from api.services.delivery.preview import MAX_EXPIRY, MIN_EXPIRY


class PreviewArgs(LocaleArgs):
    preview = fields.Boolean(
        metadata={
            "description": (
                "With a token allowed in the locale: the essay as it would read if the newest"
                " submitted version of each unit were approved (never cached). A preview is of"
                " one locale: with ``locale=*`` it is a 400 problem."
            )
        }
    )


class PreviewLinkInSchema(InputSchema):
    locale = locale_field(
        "offered-exact",
        check=False,
        required=True,
        metadata={"description": "The locale previewed, one the caller works in."},
    )
    expires_in = fields.Integer(
        required=True,
        validate=Range(min=MIN_EXPIRY, max=MAX_EXPIRY),
        metadata={"description": "Seconds until the link stops working: 60 to 30 days."},
    )


class PreviewLinkSchema(BaseSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    expires_at = UTCDateTime(required=True)


class ScheduleSchema(BaseSchema):
    state = fields.String(required=True)
    at = fields.String(required=True)


class LocaleStateSchema(BaseSchema):
    code = fields.String(required=True)
    state = fields.String(required=True, validate=OneOf(list(RELEASE_STATES)))
    is_source = fields.Boolean(required=True)
    scheduled = fields.Nested(ScheduleSchema, allow_none=True, required=True)
    progress = fields.Nested(ProgressSchema, required=True)


class EssayLocalesSchema(BaseSchema):
    essay = fields.String(required=True)
    source_locale = fields.String(required=True)
    locales = fields.List(fields.Nested(LocaleStateSchema), required=True)


class LocaleStateInSchema(InputSchema):
    state = fields.String(required=True, validate=OneOf(list(RELEASE_STATES)))
    at = fields.AwareDateTime(
        default_timezone=None,
        metadata={"description": "When to make the change (ISO 8601 with a time zone)."},
    )


# What ``content.create_essay`` takes as a slug.
SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$"


class AuthoringArgs(ArgsSchema):
    slug = fields.String(
        validate=Length(min=1, max=200),
        metadata={
            "description": "The new essay's slug (default: made from its title).",
            "pattern": SLUG_PATTERN,
        },
    )
