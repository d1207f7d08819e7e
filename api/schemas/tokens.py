"""Schemas of personal tokens: what a user asks for, and what they are shown."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError, fields, validate

from api.models import SCOPES
from api.schemas import BaseSchema, InputSchema, PageSchema
from api.schemas.validation import Length, OneOf, Range
from api.schemas.workflow import UTCDateTime
from api.services.accounts import tokens

# One line of text, with something besides spaces: the inside of the document's pattern,
# which the server checks as the document's reader does (the whole value, no other anchor).
_NAME_CORE = r"[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*"
_NAME = re.compile(_NAME_CORE)


class _OneLine(validate.Validator):
    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and _NAME.fullmatch(value):
            return value
        raise ValidationError(gettext("A name is one line of text, not only spaces."))


class TokenInSchema(InputSchema):
    name = fields.String(
        required=True,
        validate=[Length(min=1, max=tokens.MAX_NAME), _OneLine()],
        metadata={"description": "What the token is for.", "pattern": f"^{_NAME_CORE}$"},
    )
    scopes = fields.List(
        fields.String(validate=OneOf(list(SCOPES))),
        required=True,
        validate=Length(min=1, max=len(SCOPES)),
        metadata={
            "description": (
                "What the token may do, within the caller's role: ``read`` (every read"
                " behind a token, drafts and previews included), ``translate`` (submissions,"
                " withdrawals, comments, uploads), ``review`` (approvals, rejections,"
                " unpublishing, releases, preview links, the glossary), ``admin`` (the rest)."
            )
        },
    )
    expires_in_days = fields.Integer(
        load_default=tokens.DEFAULT_DAYS,
        validate=Range(min=1, max=tokens.MAX_DAYS),
        metadata={"description": "Days until the token stops working."},
    )


class TokenSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Null for a token made on the command line."},
    )
    prefix = fields.String(
        required=True, metadata={"description": "The token's first characters, to tell it by."}
    )
    scopes = fields.List(
        fields.String(),
        required=True,
        attribute="scope_list",
        metadata={"description": "A token made on the command line carries its whole role."},
    )
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(
        required=True, allow_none=True, metadata={"description": "Null: it never expires."}
    )
    last_used_at = UTCDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When it was last used, to the minute; null: never."},
    )


class TokenCreatedSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    token = fields.String(
        required=True,
        metadata={"description": "Shown once: send it as ``Authorization: Bearer <token>``."},
    )
    prefix = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(required=True)


class TokenPageSchema(PageSchema):
    items = fields.List(fields.Nested(TokenSchema), required=True)
