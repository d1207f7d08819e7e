"""Console routes for one's own API tokens: make one (shown once), see them, revoke one.
The rules live in ``api.services.accounts.tokens``; these shape forms and pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel import Locale
from babel.lists import format_list
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response

from api import i18n
from api.console import auth, console
from api.console.forms import TokenForm
from api.console.views import SEE_OTHER, Page, current_user, macro, sentence
from api.errors import DomainError
from api.services.accounts import tokens

if TYPE_CHECKING:
    from api.services.accounts.identity import IssuedToken

SCOPE_NAMES = {
    "read": lazy_gettext("read"),
    "translate": lazy_gettext("translate"),
    "review": lazy_gettext("review"),
    "admin": lazy_gettext("administer"),
}


def scope_names(scopes: list[str]) -> str:
    """Scopes by their names in the interface language, listed as that language lists."""
    names = [str(SCOPE_NAMES.get(scope, scope)) for scope in scopes]
    return format_list(names, locale=Locale.parse(i18n.message_locale(), sep="-"))


SCOPE_LABELS = {
    "read": lazy_gettext("Read: drafts, histories, the review queue and previews"),
    "translate": lazy_gettext("Translate: submit, withdraw, comment and upload catalogs"),
    "review": lazy_gettext(
        "Review: approve, reject, unpublish, release, preview links and the glossary"
    ),
    "admin": lazy_gettext("Administer: everything else, making and revoking tokens included"),
}


def render_tokens(
    form: TokenForm | None = None,
    error: DomainError | None = None,
    issued: IssuedToken | None = None,
    status: int = 200,
) -> tuple[str, int]:
    user = current_user()
    if form is None:
        form = TokenForm(formdata=None)
    form.scopes.choices = [(scope, SCOPE_LABELS[scope]) for scope in tokens.allowed_scopes(user)]
    messages = form.add_errors(error) if error is not None else []
    html = render_template(
        "console/tokens.html",
        tokens=tokens.owned(user),
        current_token=auth.session_token_id(),
        form=form,
        error=error,
        messages=messages,
        issued=issued,
        scope_names=scope_names,
    )
    return html, status


@console.route("/tokens", methods=["GET", "POST"], endpoint="tokens")
def token_list() -> Page:
    """The user's own API tokens: make one (shown once), see when each was used, revoke."""
    if request.method == "GET":
        return render_tokens()
    form = TokenForm()
    if not form.validate():
        return render_tokens(form, status=422)
    try:
        issued = tokens.create(
            current_user(),
            form.name.data or "",
            form.scopes.data or [],
            form.expires_in_days.data or 0,
        )
    except DomainError as error:
        return render_tokens(form, error=error, status=error.status)
    return render_tokens(issued=issued, status=201)


@console.post("/tokens/<int(max=2147483647):token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    """Revoke one of the user's tokens; it is refused from now on."""
    revoked = tokens.revoke(current_user(), token_id)
    flash(
        sentence(
            gettext("The token %(name)s is revoked."),
            name=macro("text", revoked.name or revoked.prefix),
        ),
        "success",
    )
    return redirect(url_for("console.tokens"), SEE_OTHER)
