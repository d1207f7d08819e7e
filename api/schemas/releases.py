"""Schemas of previews, preview links, per-locale releases and authoring."""

from __future__ import annotations

from marshmallow import fields

from api.models import RELEASE_STATES
from api.schemas import BaseSchema, LocaleArgs, ProgressSchema
from api.schemas.validation import Length, OneOf, Range
from api.schemas.workflow import UTCDateTime
from api.services.preview import MAX_EXPIRY, MIN_EXPIRY


class PreviewArgs(LocaleArgs):
    preview = fields.Boolean(
        metadata={
            "description": (
                "With a token allowed in the locale: the essay as it would read if the newest"
                " submitted version of each unit were approved (never cached)."
            )
        }
    )


class PreviewLinkInSchema(BaseSchema):
    locale = fields.String(required=True, validate=Length(min=1, max=64))
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


class LocaleStateInSchema(BaseSchema):
    state = fields.String(required=True, validate=OneOf(list(RELEASE_STATES)))
    at = fields.AwareDateTime(
        default_timezone=None,
        metadata={"description": "When to make the change (ISO 8601 with a time zone)."},
    )


class AuthoringArgs(BaseSchema):
    slug = fields.String(
        validate=Length(min=1, max=200),
        metadata={"description": "The new essay's slug (default: made from its title)."},
    )
