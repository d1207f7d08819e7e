"""Schemas of notifications and their settings."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, pre_dump

from api.models import NOTIFICATION_KINDS, NOTIFICATION_MODES
from api.schemas import BaseSchema, InputSchema, PageSchema
from api.schemas.validation import Length, OneOf, Range, locale_field
from api.schemas.workflow import UTCDateTime


def _mode(**kwargs: Any) -> fields.String:
    return fields.String(validate=OneOf(list(NOTIFICATION_MODES)), **kwargs)


class ModesSchema(BaseSchema):
    @pre_dump
    def by_field(self, modes: dict[str, str], **_: Any) -> dict[str, str]:
        return {kind.replace(".", "_"): mode for kind, mode in modes.items()}

    source_changed = _mode(data_key="source.changed", required=True)
    translation_reviewed = _mode(data_key="translation.reviewed", required=True)
    review_waiting = _mode(data_key="review.waiting", required=True)


class ModesInSchema(InputSchema):
    """Some kinds of one locale, each ``off``, ``instant`` or ``daily``."""

    source_changed = _mode(data_key="source.changed")
    translation_reviewed = _mode(data_key="translation.reviewed")
    review_waiting = _mode(data_key="review.waiting")

    @post_load
    def by_kind(self, data: dict[str, str], **_: Any) -> dict[str, str]:
        return {
            kind: data[kind.replace(".", "_")]
            for kind in NOTIFICATION_KINDS
            if kind.replace(".", "_") in data
        }


_SETTINGS_DOC = (
    "Per locale the caller works in, for each of ``source.changed`` (new or changed text to"
    " translate), ``translation.reviewed`` (their work approved or rejected) and"
    " ``review.waiting`` (work waiting for their review): ``off``, ``instant`` (a mail at"
    " once) or ``daily`` (in one digest a day)."
)


class SettingsSchema(BaseSchema):
    settings = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ModesSchema),
        required=True,
        metadata={"description": _SETTINGS_DOC},
    )


class SettingsInSchema(InputSchema):
    settings = fields.Dict(
        keys=locale_field("target"),
        values=fields.Nested(ModesInSchema),
        required=True,
        metadata={"description": "Only what changes: the rest stays as it is."},
    )


class NotificationSchema(BaseSchema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "What it tells of."})
    action = fields.String(
        required=True,
        attribute="event.action",
        metadata={"description": "The event's action, e.g. ``translation.approved``."},
    )
    locale = fields.String(required=True)
    essay = fields.String(required=True, allow_none=True, attribute="event.essay_slug")
    unit = fields.String(required=True, allow_none=True, attribute="event.unit_key")
    translation = fields.Integer(required=True, allow_none=True, attribute="event.translation_id")
    mode = fields.String(required=True, metadata={"description": "``instant`` or ``daily``."})
    created_at = UTCDateTime(required=True)
    read_at = UTCDateTime(required=True, allow_none=True)


class NotificationPageSchema(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    unread = fields.Integer(required=True, metadata={"description": "How many are unread."})


class _StrictBoolean(fields.Boolean):
    """true or false, as the document says: not 0, 1 or "yes"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class ReadInSchema(InputSchema):
    ids = fields.List(
        fields.Integer(validate=Range(min=1, max=2147483647)),
        validate=Length(max=1000),
        load_default=list,
        metadata={"description": "The notifications to mark read."},
    )
    all = _StrictBoolean(load_default=False, metadata={"description": "Mark every one read."})


class ReadSchema(BaseSchema):
    read = fields.Integer(required=True, metadata={"description": "How many were marked."})
    unread = fields.Integer(required=True)
