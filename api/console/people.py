"""Console routes for accounts: invitations and password links, people, and one's own
sessions. The rules live in ``api.services.accounts``; these shape forms and pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from api import i18n
from api.console import auth, console
from api.console.forms import InviteForm, JoinForm, NewPasswordForm, PersonForm
from api.console.views import SEE_OTHER, Page, current_user, macro, sentence, signed_in
from api.errors import DomainError
from api.services.accounts import identity, invitations
from api.services.paging import paginate

if TYPE_CHECKING:
    from api.models import AccountLink, User


def _locale_choices() -> list[tuple[str, str]]:
    from api.console.views import locale_name

    reg = i18n.registry()
    return [(code, locale_name(code)) for code in i18n.ordered(reg.offered) if code != reg.source]


# --- opening a link ---------------------------------------------------------------------


@console.route("/join/<string(maxlength=200):token>", methods=["GET", "POST"])
def join(token: str) -> Page:
    """Accept an invitation: choose a name and a password, and be signed in."""
    form = JoinForm()
    return _link_page(
        "console/join.html",
        invitations.open_link(token, invitations.INVITATION),
        form,
        lambda: invitations.accept_invitation(
            token, (form.name.data or "").strip(), form.password.data or ""
        ),
    )


@console.route("/reset-password/<string(maxlength=200):token>", methods=["GET", "POST"])
def new_password(token: str) -> Page:
    """Choose a new password with a reset link; every other session of the user ends."""
    form = NewPasswordForm()
    return _link_page(
        "console/new_password.html",
        invitations.open_link(token, invitations.PASSWORD_RESET),
        form,
        lambda: invitations.reset_password(token, form.password.data or ""),
        done=gettext("Your new password is set."),
    )


def _link_page(
    template: str,
    link: AccountLink,
    form: JoinForm | NewPasswordForm,
    use: Callable[[], User],
    done: str | None = None,
) -> Page:
    """A single-use link's page: on a valid POST, ``use`` the link and sign its user in.

    A link that is used up or revoked meanwhile (410) is the link's own error page; any
    other refusal is shown beside the form.
    """
    error: DomainError | None = None
    messages: list[str] = []
    if request.method == "POST" and form.validate():
        try:
            user = use()
        except DomainError as caught:
            if caught.status == 410:
                raise
            error = caught
            messages = form.add_errors(caught)
        else:
            auth.start(user)
            if done:
                flash(done, "success")
            return signed_in(user, None)
    status = 200 if request.method == "GET" else (error.status if error else 422)
    html = render_template(template, form=form, link=link, error=error, messages=messages)
    return html, status


# --- one's own sessions -----------------------------------------------------------------


@console.get("/account")
def account() -> str:
    """The signed-in person's account: how they are signed in, and ending every session."""
    return render_template("console/account.html")


@console.post("/account/sign-out-everywhere")
def sign_out_everywhere() -> Response:
    """End every console session of the signed-in person, this one included."""
    identity.end_sessions(current_user().id)
    auth.sign_out()
    flash(gettext("You have signed out everywhere."), "success")
    return redirect(url_for("console.sign_in"), SEE_OTHER)


# --- people (admins) --------------------------------------------------------------------


def _admin() -> User:
    user = current_user()
    identity.require_admin(user)
    return user


def render_people(
    form: InviteForm | None = None, error: DomainError | None = None, status: int = 200
) -> tuple[str, int]:
    page = max(1, request.args.get("page", 1, type=int))
    listed = paginate(invitations.invitations(current_user()), page, 50)["items"]  # admins
    form = form or InviteForm(formdata=None)
    form.locales.choices = _locale_choices()
    messages = form.add_errors(error) if error is not None else []
    html = render_template(
        "console/people.html",
        users=identity.list_users(),
        invitations=listed,
        link_state=invitations.state,
        form=form,
        error=error,
        messages=messages,
    )
    return html, status


@console.get("/people")
def people() -> Page:
    """Everyone with an account, the invitations, and a form to invite someone (admins)."""
    return render_people()


def link_made(issued: invitations.IssuedLink, user: User | None = None) -> str:
    endpoint = (
        "console.join"
        if issued.link.purpose == invitations.INVITATION
        else ("console.new_password")
    )
    return render_template(
        "console/link_made.html",
        link=issued.link,
        person=user,
        url=url_for(endpoint, token=issued.token, _external=True),
    )


@console.post("/people/invite")
def invite() -> Page:
    """Make an invitation and show its link, once."""
    form = InviteForm()
    form.locales.choices = _locale_choices()
    if not form.validate():
        return render_people(form, status=422)
    try:
        issued = invitations.invite(
            form.email.data or "",
            form.role.data or "",
            list(form.locales.data or []),
            current_user(),
            form.expires_in_days.data or invitations.DEFAULT_DAYS,
        )
    except DomainError as error:
        return render_people(form, error, status=error.status)
    return link_made(issued)


@console.post("/invitations/<int(max=2147483647):invitation_id>/revoke")
def revoke_invitation(invitation_id: int) -> Response:
    """Withdraw an invitation: its link stops working."""
    invitations.revoke_invitation(invitation_id, current_user())
    flash(gettext("The invitation is withdrawn: its link no longer works."), "success")
    return redirect(url_for("console.people"), SEE_OTHER)


def _person(name: str) -> User:
    return identity.get_user(name)


def render_person(
    person: User,
    form: PersonForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> tuple[str, int]:
    form = form or PersonForm(
        formdata=None,
        role=person.role,
        locales=person.locales,
        email=person.email,
        active=person.is_active,
    )
    form.locales.choices = _locale_choices()
    messages = form.add_errors(error) if error is not None else []
    html = render_template(
        "console/person.html", person=person, form=form, error=error, messages=messages
    )
    return html, status


@console.route("/people/<string(maxlength=80):name>", methods=["GET", "POST"])
def person(name: str) -> Page:
    """One person: their role, locales, email and whether they may sign in (admins)."""
    actor = _admin()
    person = _person(name)
    if request.method == "GET":
        return render_person(person)
    form = PersonForm()
    form.locales.choices = _locale_choices()
    if not form.validate():
        return render_person(person, form, status=422)
    try:
        identity.update_user(name, form.changes(), actor)
    except DomainError as error:
        return render_person(_person(name), form, error, status=error.status)
    flash(sentence(gettext("%(name)s is saved."), name=macro("text", name)), "success")
    return redirect(url_for("console.person", name=name), SEE_OTHER)


@console.post("/people/<string(maxlength=80):name>/password-reset")
def password_reset(name: str) -> Page:
    """Make a link with which the person chooses a new password, and show it once."""
    issued = invitations.password_reset(name, current_user())
    return link_made(issued, _person(name))
