"""Schemas of the change feed and of webhooks."""

from __future__ import annotations

from marshmallow import fields

from api.schemas import BaseSchema, PageArgs, PageSchema
from api.schemas.validation import Length, OneOf, Range
from api.schemas.workflow import UTCDateTime
from api.services.changes import PUBLIC_TYPES
from api.services.webhooks import EVENT_TYPES

CURSOR_PATTERN = "^c_[0-9a-f]{16}$"


class ChangeArgs(BaseSchema):
    cursor = fields.String(
        validate=Length(max=40),
        metadata={
            "description": "Resume after this item (``next_cursor`` of the last page).",
            "pattern": CURSOR_PATTERN,
        },
    )
    locale = fields.List(
        fields.String(validate=Length(max=64)),
        validate=Length(max=20),
        metadata={"description": "Only these locales (repeatable), plus essay-wide changes."},
    )
    per_page = fields.Integer(load_default=100, validate=Range(min=1, max=100))


class ChangeSchema(BaseSchema):
    cursor = fields.String(required=True, metadata={"pattern": CURSOR_PATTERN})
    at = fields.String(required=True, metadata={"format": "date-time"})
    type = fields.String(required=True, validate=OneOf(list(PUBLIC_TYPES)))
    essay = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    revision = fields.Integer(allow_none=True)
    heading = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    archived = fields.Boolean(
        metadata={"description": "On ``source.updated``: the section left the essay."}
    )
    units = fields.List(
        fields.String(),
        metadata={"description": "On ``locale.released``/``locale.staged``: the units it covers."},
    )


class ChangePageSchema(BaseSchema):
    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = fields.String(required=True, metadata={"pattern": CURSOR_PATTERN})
    has_more = fields.Boolean(required=True)


_EVENTS = fields.List(
    fields.String(validate=OneOf(list(EVENT_TYPES))),
    validate=Length(min=1, max=len(EVENT_TYPES)),
)


class WebhookInSchema(BaseSchema):
    url = fields.String(required=True, validate=Length(min=1, max=2000))
    events = fields.List(
        fields.String(validate=OneOf(list(EVENT_TYPES))),
        required=True,
        validate=Length(min=1, max=len(EVENT_TYPES)),
    )
    locales = fields.List(fields.String(validate=Length(max=64)), validate=Length(max=50))
    description = fields.String(allow_none=True, validate=Length(max=500))


class WebhookPatchSchema(BaseSchema):
    url = fields.String(validate=Length(min=1, max=2000))
    events = fields.List(
        fields.String(validate=OneOf(list(EVENT_TYPES))),
        validate=Length(min=1, max=len(EVENT_TYPES)),
    )
    locales = fields.List(fields.String(validate=Length(max=64)), validate=Length(max=50))
    description = fields.String(allow_none=True, validate=Length(max=500))
    enabled = fields.Boolean()


class WebhookSchema(BaseSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    locales = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        required=True, metadata={"description": "Shown once: keep it to verify signatures."}
    )


class WebhookPageSchema(PageSchema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(BaseSchema):
    at = UTCDateTime(required=True)
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    response_body = fields.String(allow_none=True)
    next_retry_at = UTCDateTime(allow_none=True)


class DeliverySchema(BaseSchema):
    id = fields.Integer(required=True)
    webhook_id = fields.Integer(required=True)
    message_id = fields.String(required=True, metadata={"description": "The ``webhook-id``."})
    type = fields.String(required=True)
    state = fields.String(required=True, validate=OneOf(["pending", "succeeded", "failed"]))
    attempts = fields.Integer(required=True)
    last_status = fields.Integer(allow_none=True)
    next_attempt_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime(required=True)
    finished_at = UTCDateTime(allow_none=True)
    payload = fields.Function(lambda d: d.payload, metadata={"type": "string"})
    attempt_log = fields.List(
        fields.Nested(AttemptSchema), data_key="attempt_log", metadata={"description": "Tries"}
    )


class DeliveryPageSchema(PageSchema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)


class DeliveryArgs(PageArgs):
    pass
