"""Schemas of the translation workflow: submissions, versions, reviews, events."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import fields

from api.models import STATUSES
from api.schemas import BaseSchema, PageArgs, PageSchema
from api.schemas.validation import Length, OneOf, Range
from api.services.checks import CheckResult


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a ``Z``, as the contract writes times."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SubmissionSchema(BaseSchema):
    locale = fields.String(required=True, validate=Length(min=1, max=64))
    heading = fields.String(allow_none=True, validate=Length(max=2000))
    body = fields.String(required=True, validate=Length(max=200_000))
    source_revision = fields.Integer(
        validate=Range(min=1, max=2**31 - 1),
        metadata={"description": "The source revision translated (default: the current one)."},
    )
    note = fields.String(allow_none=True, validate=Length(max=5000))


class ApproveSchema(BaseSchema):
    comment = fields.String(allow_none=True, validate=Length(max=5000))


class RejectSchema(BaseSchema):
    reason = fields.String(required=True, validate=Length(max=5000))


class UnpublishSchema(BaseSchema):
    reason = fields.String(required=True, validate=Length(min=1, max=5000))


class CommentInSchema(BaseSchema):
    body = fields.String(required=True, validate=Length(max=5000))


class BulkSchema(BaseSchema):
    action = fields.String(required=True, validate=OneOf(["approve", "reject"]))
    ids = fields.List(
        fields.Integer(validate=Range(min=1, max=2**31 - 1)),
        required=True,
        validate=Length(min=1, max=100),
    )
    comment = fields.String(allow_none=True, validate=Length(max=5000))
    reason = fields.String(allow_none=True, validate=Length(max=5000))


class HistoryArgs(PageArgs):
    locale = fields.String(validate=Length(max=64))


class ReviewArgs(PageArgs):
    locale = fields.String(validate=Length(max=64))
    status = fields.String(
        load_default="submitted",
        validate=OneOf(list(STATUSES)),
    )


class EventArgs(PageArgs):
    locale = fields.String(validate=Length(max=64))
    unit = fields.String(validate=Length(max=120))
    user = fields.String(validate=Length(max=80))
    action = fields.String(validate=Length(max=40))
    since = fields.AwareDateTime(default_timezone=UTC)
    until = fields.AwareDateTime(default_timezone=UTC)


class CheckSchema(BaseSchema):
    code = fields.String(required=True)
    severity = fields.String(required=True, validate=OneOf(["error", "warning"]))
    field = fields.String(allow_none=True)
    params = fields.Dict()
    message = fields.String(required=True)


class CommentSchema(BaseSchema):
    id = fields.Integer(required=True)
    author = fields.Function(lambda c: c.author.name if c.author else None, allow_none=True)
    body = fields.String(required=True)
    created_at = UTCDateTime(required=True)


def _checks(version: Any) -> list[dict[str, Any]]:
    out = []
    for item in version.checks or []:
        result = CheckResult.from_dict(item)
        out.append(result.to_dict() | {"message": result.message})
    return out


class TranslationSchema(BaseSchema):
    id = fields.Integer(required=True)
    essay = fields.Function(lambda v: v.unit.essay.slug)
    section = fields.Function(lambda v: v.unit.key, required=True)
    locale = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    source_revision = fields.Integer(required=True)
    outdated = fields.Function(lambda v: v.source_hash != v.unit.source_hash)
    author = fields.Function(lambda v: v.author.name if v.author else None, allow_none=True)
    reviewer = fields.Function(lambda v: v.reviewer.name if v.reviewer else None, allow_none=True)
    heading = fields.String(allow_none=True)
    body = fields.String(required=True)
    note = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime()
    reviewed_at = UTCDateTime(allow_none=True)
    approved_at = UTCDateTime(allow_none=True)
    checks = fields.Function(_checks, metadata={"type": "array"})
    comments = fields.List(fields.Nested(CommentSchema))


class EventSchema(BaseSchema):
    id = fields.Integer(required=True)
    at = UTCDateTime(required=True)
    actor = fields.Function(lambda e: e.actor.name if e.actor else None, allow_none=True)
    action = fields.String(required=True)
    essay = fields.Function(lambda e: e.essay_slug, allow_none=True)
    unit = fields.Function(lambda e: e.unit_key, allow_none=True)
    locale = fields.String(allow_none=True)
    translation = fields.Integer(attribute="translation_id", allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class TranslationDetailSchema(TranslationSchema):
    events = fields.List(fields.Nested(EventSchema))


class TranslationPageSchema(PageSchema):
    items = fields.List(fields.Nested(TranslationSchema), required=True)


class EventPageSchema(PageSchema):
    items = fields.List(fields.Nested(EventSchema), required=True)


class TextVersionSchema(BaseSchema):
    id = fields.Integer()
    version = fields.Integer()
    heading = fields.String(allow_none=True)
    body = fields.String(allow_none=True)


class SourceTextSchema(BaseSchema):
    revision = fields.Integer(required=True)
    heading = fields.String(allow_none=True)
    body = fields.String(required=True)
    current_revision = fields.Integer(required=True)
    current_heading = fields.String(allow_none=True)
    current_body = fields.String()


class DiffOpSchema(BaseSchema):
    op = fields.String(required=True, validate=OneOf(["equal", "insert", "delete"]))
    text = fields.String(required=True)


class DiffSchema(BaseSchema):
    heading = fields.List(fields.Nested(DiffOpSchema))
    body = fields.List(fields.Nested(DiffOpSchema))


class ReviewItemSchema(TranslationSchema):
    source = fields.Nested(SourceTextSchema, required=True)
    published = fields.Nested(TextVersionSchema, allow_none=True)
    diff = fields.Nested(DiffSchema, required=True)
    source_diff = fields.Nested(DiffSchema, allow_none=True)


class ReviewPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReviewItemSchema), required=True)


class BulkResultSchema(BaseSchema):
    id = fields.Integer(required=True)
    status = fields.Integer(required=True)
    translation = fields.Nested(TranslationSchema, allow_none=True)
    problem = fields.Dict(allow_none=True)


class BulkOutSchema(BaseSchema):
    results = fields.List(fields.Nested(BulkResultSchema), required=True)
