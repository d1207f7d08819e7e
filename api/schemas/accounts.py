"""Schemas of people and invitations."""

from __future__ import annotations

from marshmallow import fields

from api.models import ROLES
from api.schemas import BaseSchema, InputSchema, PageSchema
from api.schemas.validation import EmailAddress, Length, OneOf, Range, locale_field
from api.schemas.workflow import UTCDateTime
from api.services.accounts import identity, invitations

ROLE = {"description": "``translator``, ``reviewer`` or ``admin``."}
EMAIL = {
    "description": "An email address (stored in lower case).",
    "pattern": identity.EMAIL_PATTERN,
}


def _email(**kwargs: object) -> fields.String:
    return fields.String(
        validate=[Length(min=3, max=identity.MAX_EMAIL), EmailAddress()],
        metadata=EMAIL,
        **kwargs,  # type: ignore[arg-type]
    )


def _locales(**kwargs: object) -> fields.List:
    return fields.List(
        locale_field("offered-exact", check=False),
        validate=Length(max=50),
        metadata={"description": "Locales the person works in (admins work in all)."},
        **kwargs,  # type: ignore[arg-type]
    )


class InvitationInSchema(InputSchema):
    email = _email(required=True)
    role = fields.String(required=True, validate=OneOf(list(ROLES)), metadata=ROLE)
    locales = _locales(load_default=list)
    expires_in_days = fields.Integer(
        load_default=invitations.DEFAULT_DAYS,
        validate=Range(min=1, max=invitations.MAX_DAYS),
        metadata={"description": "Days until the link stops working (default 7)."},
    )


class IssuedLinkSchema(BaseSchema):
    id = fields.Integer(required=True)
    url = fields.String(
        required=True,
        metadata={"description": "The link, absolute and single use. It is shown once."},
    )
    expires_at = UTCDateTime(required=True)
    emailed = fields.Boolean(
        required=True,
        metadata={"description": "Whether the server mails the link (it has ``SMTP_URL``)."},
    )


class InvitationSchema(BaseSchema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    locales = fields.List(fields.String(), required=True)
    state = fields.Function(
        lambda link: invitations.state(link),
        required=True,
        metadata={"description": "``pending``, ``used`` or ``expired``.", "type": "string"},
    )
    invited_by = fields.Function(
        lambda link: link.created_by.name if link.created_by else None,
        allow_none=True,
        metadata={"type": "string"},
    )
    user = fields.Function(
        lambda link: link.user.name if link.user else None,
        allow_none=True,
        metadata={"description": "The account made with it, once used.", "type": "string"},
    )
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(required=True)


class InvitationPageSchema(PageSchema):
    items = fields.List(fields.Nested(InvitationSchema), required=True)


class UserSchema(BaseSchema):
    name = fields.String(required=True)
    role = fields.String(required=True)
    locales = fields.List(fields.String(), required=True)
    active = fields.Boolean(attribute="is_active", required=True)
    email = fields.String(allow_none=True, required=True)
    has_password = fields.Function(
        lambda user: user.password_hash is not None,
        required=True,
        metadata={
            "description": "Whether the person can sign in with a password.",
            "type": "boolean",
        },
    )
    created_at = UTCDateTime(required=True)


class UserPageSchema(PageSchema):
    items = fields.List(fields.Nested(UserSchema), required=True)


class UserChangeSchema(InputSchema):
    role = fields.String(validate=OneOf(list(ROLES)), metadata=ROLE)
    locales = _locales()
    active = fields.Boolean(
        metadata={"description": "false ends the person's sessions and revokes their tokens."}
    )
    email = _email(allow_none=True)
