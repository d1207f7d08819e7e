"""The console's forms. Rules live in the services; these only shape and bound the input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length, Optional

from api.errors import DomainError
from api.services.accounts import invitations, passwords
from api.services.accounts.identity import MAX_EMAIL
from api.services.aids.glossary import MAX_TEXT, TermData
from api.services.translation.workflow import Submission


class ConsoleForm(FlaskForm):
    class Meta:
        # The blueprint checks the CSRF token of every POST before any view runs, so a
        # page with several forms carries one hidden token field per form and no clashing ids.
        csrf = False

    def add_errors(self, error: DomainError) -> list[str]:
        """Attach a problem's per-field messages to this form's fields; return the rest."""
        rest: list[str] = []
        for name, messages in (error.extensions.get("errors") or {}).items():
            field = self._fields.get(name)
            if field is None:
                rest.extend(messages)
            else:
                field.errors = [*field.errors, *messages]
        return rest


class SignInForm(ConsoleForm):
    token = PasswordField(_l("API token"), validators=[InputRequired(), Length(max=200)])
    next = HiddenField()


class TokenForm(ConsoleForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=80)])
    # The choices are the scopes of the user's role, set by the view; the service refuses
    # any other.
    scopes = SelectMultipleField(_l("What it may do"), validate_choice=False)
    expires_in_days = SelectField(
        _l("It works for"),
        coerce=int,
        choices=[
            SelectChoice(str(7), _l("7 days")),
            SelectChoice(str(30), _l("30 days")),
            SelectChoice(str(90), _l("90 days")),
            SelectChoice(str(180), _l("180 days")),
            SelectChoice(str(365), _l("one year")),
        ],
        default=90,
    )


class PasswordSignInForm(ConsoleForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=80)])
    password = PasswordField(
        _l("Password"), validators=[InputRequired(), Length(max=passwords.MAX_LENGTH)]
    )
    next = HiddenField()


class NewPasswordForm(ConsoleForm):
    password = PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=passwords.MAX_LENGTH)]
    )
    password_again = PasswordField(
        _l("The same password again"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class JoinForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=80)])


ROLE_CHOICES = [
    SelectChoice("translator", _l("translator")),
    SelectChoice("reviewer", _l("reviewer")),
    SelectChoice("admin", _l("admin")),
]


class InviteForm(ConsoleForm):
    email = StringField(_l("Email address"), validators=[InputRequired(), Length(max=MAX_EMAIL)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="translator")
    locales = SelectMultipleField(_l("Locales"), validate_choice=False)
    expires_in_days = SelectField(
        _l("The link works for"),
        coerce=int,
        choices=[
            SelectChoice("1", _l("one day")),
            SelectChoice(str(invitations.DEFAULT_DAYS), _l("one week")),
            SelectChoice(str(invitations.MAX_DAYS), _l("30 days")),
        ],
        default=invitations.DEFAULT_DAYS,
    )


class PersonForm(ConsoleForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    locales = SelectMultipleField(_l("Locales"), validate_choice=False)
    email = StringField(_l("Email address"), validators=[Optional(), Length(max=MAX_EMAIL)])
    active = BooleanField(_l("May sign in"))

    def changes(self) -> dict[str, object]:
        return {
            "role": self.role.data,
            "locales": list(self.locales.data or []),
            "email": (self.email.data or "").strip() or None,
            "active": bool(self.active.data),
        }


class TranslationForm(ConsoleForm):
    heading = StringField(_l("Heading"), validators=[Optional(), Length(max=2000)])
    body = TextAreaField(_l("Translation"), validators=[Length(max=200_000)])
    note = StringField(_l("Note for the reviewer (optional)"), validators=[Length(max=5000)])
    source_revision = IntegerField(validators=[Optional()])

    def submission(self, locale: str, has_heading: bool) -> Submission:
        return Submission(
            locale=locale,
            heading=(self.heading.data or "") if has_heading else None,
            body=self.body.data or "",
            source_revision=self.source_revision.data,
            note=self.note.data or None,
        )


class ApproveForm(ConsoleForm):
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=5000)])


class RejectForm(ConsoleForm):
    reason = TextAreaField(_l("Reason for rejecting"), validators=[Length(max=5000)])


class BulkForm(ConsoleForm):
    ids = SelectMultipleField(coerce=int, validate_choice=False)
    action = StringField(_l("Action"), validators=[AnyOf(["approve", "reject"])])
    text = TextAreaField(_l("Comment, or the reason when rejecting"), validators=[Length(max=5000)])


class UnpublishForm(ConsoleForm):
    reason = TextAreaField(_l("Reason for unpublishing"), validators=[Length(max=5000)])


class PreviewLinkForm(ConsoleForm):
    expires_in = SelectField(
        _l("The link works for"),
        coerce=int,
        choices=[
            SelectChoice(str(3600), _l("one hour")),
            SelectChoice(str(86400), _l("one day")),
            SelectChoice(str(7 * 86400), _l("one week")),
            SelectChoice(str(30 * 86400), _l("30 days")),
        ],
        default=7 * 86400,
    )


class ReleaseForm(ConsoleForm):
    state = HiddenField(validators=[AnyOf(["live", "staged"])])
    at = DateTimeLocalField(
        _l("At a set time (UTC, optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


class GlossaryForm(ConsoleForm):
    term = StringField(_l("Term"), validators=[InputRequired(), Length(max=MAX_TEXT)])
    translations = TextAreaField(
        _l("Renderings (one a line)"), validators=[InputRequired(), Length(max=5000)]
    )
    forbidden = TextAreaField(
        _l("Forbidden renderings (one a line)"), validators=[Length(max=5000)]
    )
    note = StringField(_l("Note (optional)"), validators=[Length(max=2000)])

    def term_data(self, locale: str) -> TermData:
        return TermData(
            term=self.term.data or "",
            locale=locale,
            translations=_lines(self.translations.data),
            forbidden=_lines(self.forbidden.data),
            note=self.note.data or None,
        )
