"""marshmallow's messages, localized: every message reaches the client in its language.

marshmallow writes plain English strings, formatted when a validator is built. Here the
field messages become lazy strings (rendered when the problem response is written, in
the negotiated locale) and the validators we use format their messages at call time.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from api import i18n

FIELD_MESSAGES: dict[type[fields.Field[Any]], dict[str, Any]] = {
    fields.Field: {
        "required": _l("Missing data for required field."),
        "null": _l("Field may not be null."),
        "validator_failed": _l("Invalid value."),
    },
    fields.String: {"invalid": _l("Not a valid string."), "invalid_utf8": _l("Not valid text.")},
    fields.Number: {"invalid": _l("Not a valid number."), "too_large": _l("Number too large.")},
    fields.Integer: {"invalid": _l("Not a valid integer.")},
    fields.Float: {"special": _l("Special numeric values (nan or infinity) are not permitted.")},
    fields.Boolean: {"invalid": _l("Not a valid boolean.")},
    fields.DateTime: {
        "invalid": _l("Not a valid date and time."),
        "invalid_awareness": _l("Not a valid date and time with a time zone."),
        "format": _l("This date and time cannot be formatted."),
    },
    fields.List: {"invalid": _l("Not a valid list.")},
    fields.Dict: {"invalid": _l("Not a valid mapping type.")},
    fields.Nested: {"type": _l("Invalid type.")},
}
SCHEMA_MESSAGES = {"type": _l("Invalid input type."), "unknown": _l("Unknown field.")}


def localize_marshmallow() -> None:
    """Swap marshmallow's English defaults for lazy, translatable ones (idempotent)."""
    for field_class, messages in FIELD_MESSAGES.items():
        field_class.default_error_messages = {
            **field_class.default_error_messages,
            **messages,
        }
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA_MESSAGES}


def _(message: str) -> str:
    """Mark a message for extraction; it is translated where it is formatted."""
    return message


def _number(value: Any) -> str:
    return format_decimal(value) if isinstance(value, int | float) else str(value)


def _bounds_message(low: Any, high: Any, between: str, at_least: str, at_most: str) -> str:
    """The message for a value outside ``[low, high]``, in the request's locale."""
    if low is not None and high is not None:
        return gettext(between, min=_number(low), max=_number(high))
    if low is not None:
        return gettext(at_least, min=_number(low))
    return gettext(at_most, max=_number(high))


class _LocalizedBounds:
    """Replaces a bounds validator's English message with one in the request's locale."""

    min: Any
    max: Any
    messages: tuple[str, str, str]  # between, at least, at most

    def __call__(self, value: Any) -> Any:
        try:
            return super().__call__(value)  # type: ignore[misc]
        except ValidationError:
            raise ValidationError(_bounds_message(self.min, self.max, *self.messages)) from None


class Range(_LocalizedBounds, validate.Range):
    """``validate.Range`` whose message is written in the request's locale."""

    messages = (
        _("Must be between %(min)s and %(max)s."),
        _("Must be at least %(min)s."),
        _("Must be at most %(max)s."),
    )


class Length(_LocalizedBounds, validate.Length):
    """``validate.Length`` whose message is written in the request's locale."""

    messages = (
        _("Length must be between %(min)s and %(max)s."),
        _("Shorter than the minimum length %(min)s."),
        _("Longer than the maximum length %(max)s."),
    )


class OneOf(validate.OneOf):
    """``validate.OneOf`` whose message is written in the request's locale."""

    def __call__(self, value: Any) -> Any:
        try:
            return super().__call__(value)
        except ValidationError:
            raise ValidationError(
                gettext("Must be one of: %(choices)s.", choices=", ".join(map(str, self.choices)))
            ) from None


localize_marshmallow()


class LocaleTag(validate.Validator):
    """A locale tag of one of ``i18n.LOCALE_KINDS``, exactly as the document's pattern says."""

    def __init__(self, kind: str) -> None:
        if kind not in i18n.LOCALE_KINDS:
            raise ValueError(f"Unknown kind of locale parameter {kind!r}")
        self.kind = kind

    def __call__(self, value: Any) -> Any:
        registry = i18n.registry()
        if isinstance(value, str) and registry.takes(self.kind, value):
            return value
        if self.kind == "well-formed":
            raise ValidationError(gettext("%(code)s is not a well-formed locale code.", code=value))
        codes = registry.targets if self.kind == "target" else registry.offered
        raise ValidationError(gettext("Must be one of: %(choices)s.", choices=", ".join(codes)))


def locale_field(kind: str, *, check: bool = True, **kwargs: Any) -> fields.String:
    """A locale parameter or member of one of ``i18n.LOCALE_KINDS``.

    The document states its pattern (``metadata["locale"]`` tells which); ``check=False``
    leaves the checking to the code that negotiates the locale, with its own problems.
    """
    validators: list[Any] = [Length(min=1, max=i18n.MAX_TAG_LENGTH)]
    if check:
        validators.append(LocaleTag(kind))
    metadata = {"locale": kind, **kwargs.pop("metadata", {})}
    return fields.String(validate=validators, metadata=metadata, **kwargs)


class EmailAddress(validate.Validator):
    """An email address by the accounts' rule (``identity.EMAIL_PATTERN``)."""

    def __call__(self, value: Any) -> Any:
        from api.services.accounts.identity import is_email

        if isinstance(value, str) and is_email(value):
            return value
        raise ValidationError(gettext("This is not a valid email address."))
