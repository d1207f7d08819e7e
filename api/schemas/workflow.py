"""Schemas of the translation workflow: submissions, versions, reviews, events."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import ValidationError, fields

from api.models import STATUSES
from api.schemas import (
    ESSAY_TEXT,
    NOT_BLANK,
    VISIBLE_TEXT,
    BaseSchema,
    InputSchema,
    PageArgs,
    PageSchema,
)
from api.schemas.validation import Length, OneOf, Range, locale_field
from api.services.translation.checks import CheckResult

# A name or key that may be missing (a deleted user, an event about no unit).
NAME = {"type": "string"}


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a ``Z``, as the contract writes times."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SubmissionSchema(InputSchema):
    locale = locale_field(
        "target",
        required=True,
        metadata={"description": "The locale translated into (an offered locale, not the source)."},
    )
    heading = fields.String(
        allow_none=True,
        validate=Length(max=2000),
        metadata={
            **ESSAY_TEXT,
            "description": (
                "Required when the source section has a heading, absent or null when it has none."
            ),
        },
    )
    body = fields.String(
        required=True,
        validate=Length(min=1, max=200_000),
        metadata={
            **VISIBLE_TEXT,
            "max_length": "MAX_TRANSLATION_LENGTH",
            "description": (
                "Markdown, without HTML or scripts; heading and body together within the limit."
            ),
        },
    )
    source_revision = fields.Integer(
        validate=Range(min=1, max=2**31 - 1),
        metadata={"description": "The source revision translated (default: the current one)."},
    )
    note = fields.String(allow_none=True, validate=Length(max=5000))


def _reason() -> fields.String:
    return fields.String(required=True, validate=Length(min=1, max=5000), metadata=NOT_BLANK)


def _ids() -> fields.List:
    return fields.List(
        fields.Integer(validate=Range(min=1, max=2**31 - 1)),
        required=True,
        validate=Length(min=1, max=100),
    )


class ApproveSchema(InputSchema):
    comment = fields.String(allow_none=True, validate=Length(max=5000))


class RejectSchema(InputSchema):
    reason = _reason()


class UnpublishSchema(InputSchema):
    reason = _reason()


class CommentInSchema(InputSchema):
    body = _reason()


class BulkApproveSchema(InputSchema):
    action = fields.String(required=True, validate=OneOf(["approve"]))
    ids = _ids()
    comment = fields.String(allow_none=True, validate=Length(max=5000))


class BulkRejectSchema(InputSchema):
    action = fields.String(required=True, validate=OneOf(["reject"]))
    ids = _ids()
    reason = _reason()


class BulkSchema(InputSchema):
    """Either of the bulk actions, told apart by ``action`` (``oneOf`` in the document)."""

    BRANCHES: dict[str, type[InputSchema]] = {
        "approve": BulkApproveSchema,
        "reject": BulkRejectSchema,
    }

    def load(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "action" in data:
            try:
                OneOf(list(self.BRANCHES))(data["action"])
            except ValidationError as error:
                raise ValidationError({"action": error.messages}) from None
            return self.BRANCHES[data["action"]]().load(data, **kwargs)
        return BulkApproveSchema().load(data, **kwargs)


BULK_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/BulkApprove"},
                    {"$ref": "#/components/schemas/BulkReject"},
                ],
                "discriminator": {
                    "propertyName": "action",
                    "mapping": {
                        "approve": "#/components/schemas/BulkApprove",
                        "reject": "#/components/schemas/BulkReject",
                    },
                },
            }
        }
    },
}


class HistoryArgs(PageArgs):
    locale = locale_field("target")


class ReviewArgs(PageArgs):
    locale = locale_field("target")
    status = fields.String(
        load_default="submitted",
        validate=OneOf(list(STATUSES)),
    )


class EventArgs(PageArgs):
    locale = locale_field("well-formed")
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
    author = fields.Function(
        lambda c: c.author.name if c.author else None, allow_none=True, metadata=NAME
    )
    body = fields.String(required=True)
    created_at = UTCDateTime(required=True)


class CheckList(fields.List):
    """A version's stored check results, each with its message in the caller's language."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(CheckSchema), dump_only=True, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        results = [CheckResult.from_dict(item) for item in value or []]
        return super()._serialize(
            [r.to_dict() | {"message": r.message} for r in results], attr, obj, **kwargs
        )


class TranslationSchema(BaseSchema):
    id = fields.Integer(required=True)
    essay = fields.Function(lambda v: v.unit.essay.slug, metadata={"type": "string"})
    section = fields.Function(lambda v: v.unit.key, required=True, metadata={"type": "string"})
    locale = fields.String(required=True)
    status = fields.String(required=True, validate=OneOf(list(STATUSES)))
    version = fields.Integer(required=True)
    source_revision = fields.Integer(required=True)
    outdated = fields.Function(
        lambda v: v.source_hash != v.unit.source_hash, metadata={"type": "boolean"}
    )
    author = fields.Function(
        lambda v: v.author.name if v.author else None, allow_none=True, metadata=NAME
    )
    reviewer = fields.Function(
        lambda v: v.reviewer.name if v.reviewer else None, allow_none=True, metadata=NAME
    )
    heading = fields.String(allow_none=True)
    body = fields.String(required=True)
    note = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime()
    reviewed_at = UTCDateTime(allow_none=True)
    approved_at = UTCDateTime(allow_none=True)
    checks = CheckList()
    comments = fields.List(fields.Nested(CommentSchema))


class SubmittedSchema(TranslationSchema):
    unchanged = fields.Boolean(
        required=True,
        metadata={
            "description": "True when the text was already pending from you or published:"
            " no version was created and this is the existing one."
        },
    )


class EventSchema(BaseSchema):
    id = fields.Integer(required=True)
    at = UTCDateTime(required=True)
    actor = fields.Function(
        lambda e: e.actor.name if e.actor else None, allow_none=True, metadata=NAME
    )
    action = fields.String(required=True)
    essay = fields.Function(lambda e: e.essay_slug, allow_none=True, metadata=NAME)
    unit = fields.Function(lambda e: e.unit_key, allow_none=True, metadata=NAME)
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
    changed = fields.Boolean(
        required=True,
        metadata={
            "description": "False when the version's text is the published text: it changes"
            " nothing readers get."
        },
    )


class ReviewPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReviewItemSchema), required=True)


class BulkResultSchema(BaseSchema):
    id = fields.Integer(required=True)
    status = fields.Integer(required=True)
    translation = fields.Nested(TranslationSchema, allow_none=True)
    problem = fields.Dict(allow_none=True)


class BulkOutSchema(BaseSchema):
    results = fields.List(fields.Nested(BulkResultSchema), required=True)
