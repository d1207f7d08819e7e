"""Schemas of the change feed and of webhooks."""

from __future__ import annotations

from marshmallow import fields

from api.models import DELIVERY_STATES
from api.schemas import ArgsSchema, BaseSchema, InputSchema, PageArgs, PageSchema
from api.schemas.validation import Length, OneOf, Range, locale_field
from api.schemas.workflow import UTCDateTime
from api.services.outbound.changes import PUBLIC_TYPES
from api.services.outbound.webhooks import DEFAULT_SECRET_OVERLAP, EVENT_TYPES, MAX_SECRET_OVERLAP

CURSOR_PATTERN = "^c_[0-9a-f]{16}$"


class ChangeArgs(ArgsSchema):
    cursor = fields.String(
        validate=Length(max=40),
        metadata={
            "description": (
                "Resume after this item (``next_cursor`` of the last page); empty or absent:"
                " from the start."
            ),
            # An empty cursor is the start, as no cursor is.
            "pattern": "^(?:c_[0-9a-f]{16})?$",
        },
    )
    locale = fields.List(
        locale_field("offered-exact", check=False),
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


def _locales() -> fields.List:
    return fields.List(
        locale_field("offered-exact", check=False),
        validate=Length(max=50),
        metadata={"description": "Only changes in these locales, plus essay-wide ones."},
    )


class WebhookInSchema(InputSchema):
    url = fields.String(required=True, validate=Length(min=1, max=2000))
    events = fields.List(
        fields.String(validate=OneOf(list(EVENT_TYPES))),
        required=True,
        validate=Length(min=1, max=len(EVENT_TYPES)),
    )
    locales = _locales()
    description = fields.String(allow_none=True, validate=Length(max=500))


class WebhookPatchSchema(InputSchema):
    url = fields.String(validate=Length(min=1, max=2000))
    events = fields.List(
        fields.String(validate=OneOf(list(EVENT_TYPES))),
        validate=Length(min=1, max=len(EVENT_TYPES)),
    )
    locales = _locales()
    description = fields.String(allow_none=True, validate=Length(max=500))
    enabled = fields.Boolean()


class FailureSchema(BaseSchema):
    at = UTCDateTime(required=True)
    reason = fields.String(required=True, metadata={"description": "Why the attempt failed."})


class WebhookSchema(BaseSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    locales = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(allow_none=True)
    previous_secret_expires_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "Until then the secret rotated out signs beside the new one."},
    )
    consecutive_failures = fields.Integer(
        required=True,
        metadata={"description": "Failed attempts since the last one that succeeded."},
    )
    failing_since = UTCDateTime(
        allow_none=True,
        metadata={
            "description": "When the first of those failed; a webhook whose every delivery"
            " fails for ``WEBHOOK_DISABLE_AFTER`` (default 5 days) is disabled."
        },
    )
    last_failure = fields.Nested(
        FailureSchema,
        allow_none=True,
        metadata={"description": "The latest failed attempt since the last success, if any."},
    )
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        required=True, metadata={"description": "Shown once: keep it to verify signatures."}
    )


class SecretRotationSchema(InputSchema):
    keep_previous_for = fields.Integer(
        load_default=int(DEFAULT_SECRET_OVERLAP.total_seconds()),
        validate=Range(min=0, max=int(MAX_SECRET_OVERLAP.total_seconds())),
        metadata={
            "description": "Seconds the old secret keeps signing beside the new one "
            "(0: it stops at once)."
        },
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
    state = fields.String(
        validate=OneOf(list(DELIVERY_STATES)),
        metadata={"description": "Only deliveries in this state (``failed``: what to look at)."},
    )
