"""Console routes: each reads a page from ``pages`` or runs one workflow command."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import (
    flash,
    g,
    redirect,
    render_template,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime, gettext, lazy_gettext, ngettext
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import Field

from api import i18n, security
from api.console import auth, console, csrf, pages
from api.console.forms import (
    BulkForm,
    PasswordSignInForm,
    PreviewLinkForm,
    ReleaseForm,
    SignInForm,
    TranslationForm,
    UnpublishForm,
)
from api.console.shared import wants_json
from api.errors import DomainError, Unauthorized, handle_domain_error
from api.extensions import limiter
from api.services.accounts import identity
from api.services.delivery import preview, releases
from api.services.notify import inbox
from api.services.translation import workflow

if TYPE_CHECKING:
    from api.models import TranslationVersion, Unit, User

log = logging.getLogger(__name__)

# Pages of single-use links: open without an account; a program asking for JSON gets a
# problem document when the link cannot be used.
LINK_ENDPOINTS = frozenset({"console.join", "console.new_password"})
PUBLIC_ENDPOINTS = frozenset({"console.sign_in", "console.set_locale", *LINK_ENDPOINTS})
SEE_OTHER = 303

Page = Response | tuple[str, int] | tuple[str, int, dict[str, str]] | str


def current_user() -> User:
    """The signed-in user (every console page but sign-in has one)."""
    user: User = g.console_user
    return user


def safe_next(target: str | None) -> str:
    """A console path to return to; anything else (other hosts, schemes) goes home."""
    home = url_for("console.dashboard")
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return home
    parts = urlsplit(target)
    prefix = console.url_prefix or ""
    inside = parts.path == prefix or parts.path.startswith(prefix + "/")
    if parts.scheme or parts.netloc or not inside:
        return home
    return target


def _current_path() -> str:
    return request.full_path.rstrip("?")


@console.before_request
def guard() -> Response | None:
    """CSRF on every POST, then the signed-in user (checked again on every request) and
    the scopes their token carries."""
    if request.endpoint == "console.static":
        return None
    csrf.protect()
    signed = auth.signed_in()
    g.console_user = signed.user if signed is not None else None
    if signed is not None:
        security.permit(signed.granted)
        if signed.token is not None:
            identity.note_use(signed.token)
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.method == "GET":
        return redirect(url_for("console.sign_in", next=_current_path()))
    flash(gettext("Your session has ended. Sign in again."), "error")
    return redirect(url_for("console.sign_in"), SEE_OTHER)


def locale_name(code: str) -> str:
    """A locale's name in the interface language."""
    return i18n.display_name(code, i18n.message_locale())


PASSWORD_HINT = lazy_gettext(
    "At least 12 characters. Not a common password, and not your name. A few words you"
    " will remember make a good one."
)

ROLE_LABELS = {
    "translator": lazy_gettext("translator"),
    "reviewer": lazy_gettext("reviewer"),
    "admin": lazy_gettext("admin"),
}


def field_attrs(field: Field, hint: bool = False, **attrs: Any) -> dict[str, Any]:
    """HTML attributes tying a control to its hint and its error messages."""
    described = [f"{field.id}-hint"] if hint else []
    if field.errors:
        described.append(f"{field.id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return attrs


def unit_label(unit: Unit) -> str:
    """How a unit is named on screen: its heading, or a readable form of its key."""
    if unit.kind == "title":
        return gettext("Title")
    return unit.heading or unit.key.replace("-", " ").replace("_", " ").capitalize()


_MACRO = '{% import "console/_macros.html" as m with context %}{{ m[name](*args) }}'


def macro(name: str, *args: Any) -> Markup:
    """One of the templates' macros (``_macros.html``) rendered for a message built here."""
    html = render_template_string(_MACRO, name=name, args=args)
    return Markup(html)  # noqa: S704 - an autoescaped template's output


def sentence(message: str, **values: Markup) -> Markup:
    """A translated message, its placeholders left unfilled, with HTML ``values`` put in."""
    return escape(message) % values


def _unread() -> int:
    """The signed-in user's unread notifications (one count, only where a page shows it)."""
    return inbox.badge(current_user().id)


@console.context_processor
def interface() -> dict[str, Any]:
    code = i18n.message_locale()
    return {
        "me": g.get("console_user"),
        "unread_count": _unread,
        "ui_locale": code,
        "ui_dir": i18n.direction_of(code),
        "interface_locales": list(i18n.registry().infos.values()),
        "current_path": _current_path(),
        "locale_name": locale_name,
        "direction_of": i18n.direction_of,
        "status_label": lambda status: workflow.STATUS_LABELS.get(status, status),
        "release_label": lambda state: releases.STATE_LABELS.get(state, state),
        "role_label": lambda role: ROLE_LABELS.get(role, role),
        "field_attrs": field_attrs,
        "unit_label": unit_label,
        # Glossary terms are written in the source language, whatever locale they are for.
        "term_locale": i18n.registry().source,
        "format_datetime": lambda value: format_datetime(value, "medium") if value else "",
        "password_hint": PASSWORD_HINT,
        "language_list": lambda codes: ", ".join(locale_name(code) for code in codes),
    }


# --- errors -----------------------------------------------------------------------------


def error_page(title: Any, detail: Any, status: int) -> tuple[str, int]:
    return render_template("console/error.html", title=title, detail=detail, status=status), status


@console.errorhandler(DomainError)
def domain_error(error: DomainError) -> Page:
    if request.endpoint in LINK_ENDPOINTS and wants_json():
        return handle_domain_error(error)
    return (*error_page(error.title, error.detail or error.title, error.status), error.headers)


@console.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    return error_page(
        gettext("The form has expired"),
        gettext(
            "The form was not sent from this site, or your session changed since the page"
            " was loaded. Go back, reload the page and try again."
        ),
        400,
    )


@console.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return error_page(error.name, error.description, status)


@console.errorhandler(Exception)
def unexpected(error: Exception) -> tuple[str, int]:
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return error_page(
        gettext("Something went wrong"),
        gettext("Something went wrong on our side. The error has been logged."),
        500,
    )


# --- session ----------------------------------------------------------------------------


def signed_in(user: User, target: str | None) -> Response:
    flash(sentence(gettext("Signed in as %(name)s."), name=macro("text", user.name)), "success")
    return redirect(safe_next(target), SEE_OTHER)


@console.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def sign_in() -> Page:
    """Sign in with a name and password, or with an API token."""
    target = request.args.get("next")
    with_token = request.method == "POST" and "token" in request.form
    form = SignInForm(next=target, formdata=request.form if with_token else None)
    password_form = PasswordSignInForm(
        next=target, formdata=request.form if request.method == "POST" and not with_token else None
    )

    def page(status: int, headers: dict[str, str] | None = None) -> Page:
        html = render_template("console/sign_in.html", form=form, password_form=password_form)
        return html, status, headers or {}

    if request.method == "GET":
        if g.console_user is not None:
            return redirect(safe_next(target))
        return page(200)
    if with_token:
        if not form.validate():
            return page(422)
        try:
            user = auth.sign_in(form.token.data or "")
        except Unauthorized as error:
            form.token.errors = [str(error.detail or error.title)]
            return page(401, error.headers)
        return signed_in(user, form.next.data)
    if not password_form.validate():
        return page(422)
    try:
        user = auth.sign_in_with_password(
            password_form.name.data or "", password_form.password.data or ""
        )
    except Unauthorized as error:
        password_form.password.errors = [str(error.detail or error.title)]
        return page(401)
    return signed_in(user, password_form.next.data)


@console.post("/sign-out")
def sign_out() -> Response:
    """End the session."""
    auth.sign_out()
    flash(gettext("You have signed out."), "success")
    return redirect(url_for("console.sign_in"), SEE_OTHER)


@console.post("/interface-language")
def set_locale() -> Response:
    """Choose the interface language (kept in the session)."""
    code = request.form.get("locale", "")
    if code in i18n.registry().offered:
        session[i18n.INTERFACE_LOCALE_KEY] = code
        user = g.get("console_user")
        if user is not None:  # mail to them is written in it too
            identity.set_interface_locale(user, code)
    return redirect(safe_next(request.form.get("next")), SEE_OTHER)


# --- dashboard and editor ---------------------------------------------------------------


@console.get("/")
def dashboard() -> str:
    """The user's locales with their progress, and what waits for them."""
    return render_template("console/dashboard.html", **pages.dashboard(current_user()))


@console.get("/translate/<key:slug>/<locale>")
def units(slug: str, locale: str) -> str:
    """The units of an essay in one locale, with their state."""
    return render_template("console/units.html", **pages.unit_list(current_user(), slug, locale))


def render_editor(
    slug: str,
    locale: str,
    key: str,
    form: TranslationForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
    submitted: int | None = None,
    unpublish_forms: dict[int, UnpublishForm] | None = None,
) -> tuple[str, int]:
    page = pages.editor(current_user(), slug, locale, key, submitted, unpublish_forms)
    if form is None:
        # The translator's own pending text, else the published one: what they revise.
        start = page.pending or page.published
        form = TranslationForm(
            formdata=None,
            heading=start.heading if start else None,
            body=start.body if start else None,
            source_revision=page.unit.source_revision,
        )
    else:
        page.pending = None
    messages = form.add_errors(error) if error is not None else []
    html = render_template(
        "console/editor.html",
        page=page,
        form=form,
        error=error,
        messages=messages,
    )
    return html, status


@console.route("/translate/<key:slug>/<locale>/<key:key>", methods=["GET", "POST"])
def editor(slug: str, locale: str, key: str) -> Page:
    """One unit: the source beside the translation, its history and the published text."""
    if request.method == "GET":
        return render_editor(slug, locale, key, submitted=request.args.get("submitted", type=int))
    page = pages.editor(current_user(), slug, locale, key)
    form = TranslationForm()
    if _copied_in(form, page):
        return render_editor(slug, locale, key, form=form)
    if not form.validate():
        return render_editor(slug, locale, key, form=form, status=422)
    try:
        version = workflow.submit(
            slug, key, form.submission(page.locale, page.unit.heading is not None), current_user()
        )
    except DomainError as error:
        return render_editor(slug, locale, key, form=form, error=error, status=error.status)
    return _back_after_submitting(slug, page.locale, key, version)


def _copied_in(form: TranslationForm, page: pages.EditorPage) -> bool:
    """Copy into ``form`` what the translator asked for instead of submitting: a memory
    suggestion added to their text (``use``), or a related locale's approved text in place
    of the heading and the body (``copy_from``). False when they asked for neither."""
    if (suggestion := request.form.get("use")) is not None:
        body = (form.body.data or "").rstrip()
        form.body.data = f"{body} {suggestion.strip()}" if body else suggestion.strip()
        return True
    if (code := request.form.get("copy_from")) is not None:
        related = next((r for r in page.related or [] if r.locale == code), None)
        if related is not None:
            if page.unit.heading is not None:
                form.heading.data = related.version.heading
            form.body.data = related.version.body
        return True
    return False


def _back_after_submitting(
    slug: str, locale: str, key: str, version: workflow.Submitted
) -> Response:
    """The editor again, saying what the submission made: a version, or none."""
    if version.unchanged:
        flash(
            gettext(
                "Version %(version)s already has this text: no new version was made.",
                version=version.version,
            ),
            "success",
        )
        return redirect(url_for("console.editor", slug=slug, locale=locale, key=key), SEE_OTHER)
    flash(
        gettext("Version %(version)s is submitted for review.", version=version.version),
        "success",
    )
    return redirect(
        url_for(
            "console.editor",
            slug=slug,
            locale=locale,
            key=key,
            submitted=version.id,
            _anchor="submitted",
        ),
        SEE_OTHER,
    )


def _editor_of(version_id: int) -> tuple[str, str, str]:
    version = workflow.get_version(version_id)
    return version.unit.essay.slug, version.locale, version.unit.key


@console.post("/translations/<int:version_id>/withdraw")
def withdraw(version_id: int) -> Page:
    """The author takes back a version nobody has reviewed yet."""
    slug, locale, key = _editor_of(version_id)
    try:
        version = workflow.withdraw(version_id, current_user())
    except DomainError as error:
        return render_editor(slug, locale, key, error=error, status=error.status)
    flash(gettext("Version %(version)s is withdrawn.", version=version.version), "success")
    return redirect(url_for("console.editor", slug=slug, locale=locale, key=key), SEE_OTHER)


@console.post("/translations/<int:version_id>/unpublish")
def unpublish(version_id: int) -> Page:
    """A reviewer takes a published version down; the reason is required."""
    slug, locale, key = _editor_of(version_id)
    form = UnpublishForm(prefix=f"unpublish-{version_id}")
    if not form.validate():
        return render_editor(slug, locale, key, status=422, unpublish_forms={version_id: form})
    try:
        version = workflow.unpublish(version_id, current_user(), form.reason.data or "")
    except DomainError as error:
        form.add_errors(error)
        return render_editor(
            slug, locale, key, error=error, status=error.status, unpublish_forms={version_id: form}
        )
    flash(
        gettext(
            "Version %(version)s is unpublished: readers get the fallback text.",
            version=version.version,
        ),
        "success",
    )
    return redirect(url_for("console.editor", slug=slug, locale=locale, key=key), SEE_OTHER)


# --- preview links and releases ---------------------------------------------------------


@console.post("/translate/<key:slug>/<locale>/preview-link")
def send_preview(slug: str, locale: str) -> Page:
    """Create a preview link for this essay and locale, and show it (once)."""
    form = PreviewLinkForm()
    if not form.validate():
        return error_page(gettext("Invalid input"), gettext("Choose how long the link works."), 422)
    issued = preview.create_link(slug, locale, form.expires_in.data or 0, current_user())
    url = url_for("shared.preview_link", token=issued.token, _external=True)
    return render_template(
        "console/preview_sent.html",
        essay=issued.link.essay,
        locale=issued.link.locale,
        url=url,
        expires_at=issued.link.expires_at,
    )


@console.post("/translate/<key:slug>/<locale>/release")
def release(slug: str, locale: str) -> Page:
    """Release or stage a locale of the essay, now or at a set time (admins)."""
    form = ReleaseForm()
    if not form.validate():
        return error_page(gettext("Invalid input"), gettext("Enter a valid date and time."), 422)
    at = form.at.data.replace(tzinfo=UTC) if form.at.data else None
    change = releases.set_state(slug, locale, form.state.data or "", at, current_user())
    state = change.locale
    language = locale_name(state["code"])
    if change.outcome == "unscheduled":
        message = gettext(
            "The scheduled change of %(language)s is cancelled; it stays as it is.",
            language=language,
        )
    elif change.outcome == "scheduled":
        when = format_datetime(at, "medium")
        message = (
            gettext("%(language)s will go live at %(date)s.", language=language, date=when)
            if state["scheduled"]["state"] == "live"
            else gettext("%(language)s will be staged at %(date)s.", language=language, date=when)
        )
    elif state["state"] == "live":
        message = gettext("%(language)s is now live in this essay.", language=language)
    else:
        message = gettext("%(language)s is now staged in this essay.", language=language)
    flash(message, "success")
    return redirect(url_for("console.units", slug=slug, locale=state["code"]), SEE_OTHER)


# --- review -----------------------------------------------------------------------------


def _review_filter() -> str | None:
    return request.args.get("locale") or None


def _review_page() -> int:
    return max(1, request.args.get("page", 1, type=int))


def render_review(
    forms: dict[int, Any] | None = None,
    error: DomainError | None = None,
    bulk: BulkForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    data = pages.review(current_user(), _review_filter(), _review_page(), forms)
    bulk = bulk or BulkForm(formdata=None)
    messages = bulk.add_errors(error) if error is not None and not forms else []
    html = render_template("console/review.html", **data, bulk=bulk, error=error, messages=messages)
    return html, status


def _back_to_review() -> Response:
    return redirect(
        url_for("console.review", locale=_review_filter(), page=_review_page()), SEE_OTHER
    )


@console.get("/review")
def review() -> Page:
    """Submitted versions in the reviewer's locales, with diffs against what is published."""
    return render_review()


@console.post("/review/<int:version_id>/approve")
def approve(version_id: int) -> Page:
    """Publish a submitted version, or restore a superseded one from a unit's history."""
    approve_form, reject_form = pages.review_forms(version_id)
    from_history = request.args.get("from") == "history"
    if not approve_form.validate():
        return render_review({version_id: (approve_form, reject_form)}, status=422)
    try:
        version = workflow.approve(version_id, current_user(), approve_form.comment.data or None)
    except DomainError as error:
        if from_history:
            return render_editor(*_editor_of(version_id), error=error, status=error.status)
        approve_form.add_errors(error)
        return render_review({version_id: (approve_form, reject_form)}, error, status=error.status)
    _flash_reviewed(gettext("Version %(version)s of %(unit)s is published."), version)
    if from_history:
        slug, locale, key = _editor_of(version_id)
        return redirect(url_for("console.editor", slug=slug, locale=locale, key=key), SEE_OTHER)
    return _back_to_review()


@console.post("/review/<int:version_id>/reject")
def reject(version_id: int) -> Page:
    """Refuse a submitted version; the reason is required."""
    approve_form, reject_form = pages.review_forms(version_id)
    if not reject_form.validate():
        return render_review({version_id: (approve_form, reject_form)}, status=422)
    try:
        version = workflow.reject(version_id, current_user(), reject_form.reason.data or "")
    except DomainError as error:
        reject_form.add_errors(error)
        return render_review({version_id: (approve_form, reject_form)}, error, status=error.status)
    _flash_reviewed(gettext("Version %(version)s of %(unit)s is rejected."), version)
    return _back_to_review()


def _flash_reviewed(message: str, version: TranslationVersion) -> None:
    """Say what a review did, naming the version and its unit."""
    flash(
        sentence(message, version=escape(version.version), unit=macro("unit_name", version.unit)),
        "success",
    )


@console.post("/review/bulk")
def bulk() -> Page:
    """Approve or reject every checked version; each follows the usual rules."""
    form = BulkForm()
    if not form.validate() or not form.ids.data:
        if not form.ids.data:
            form.ids.errors = [gettext("Choose at least one version.")]
        return render_review(bulk=form, status=422)
    try:
        outcomes = workflow.bulk(form.ids.data, current_user(), form.action.data, form.text.data)
    except DomainError as error:
        return render_review(error=error, bulk=form, status=error.status)
    done = [o for o in outcomes if o.problem is None]
    if done:
        message = (
            ngettext("%(num)s version approved.", "%(num)s versions approved.", len(done))
            if form.action.data == "approve"
            else ngettext("%(num)s version rejected.", "%(num)s versions rejected.", len(done))
        )
        flash(message, "success")
    for outcome in outcomes:
        if outcome.problem is not None:
            flash(
                gettext(
                    "Translation %(id)s: %(detail)s",
                    id=outcome.id,
                    detail=outcome.problem.detail or outcome.problem.title,
                ),
                "error",
            )
    return _back_to_review()


# --- reader's preview -------------------------------------------------------------------


@console.get("/preview/<key:slug>/<locale>", endpoint="preview")
def reader_preview(slug: str, locale: str) -> str:
    """The essay as a reader in this locale sees it, fallbacks and outdated text marked."""
    return render_template("console/preview.html", slug=slug, **pages.preview(slug, locale))


@console.get("/search")
def search() -> str:
    """Published sections matching words, as readers of one of the user's locales get them."""
    page = pages.search_page(
        current_user(), request.args.get("locale"), request.args.get("q", "").strip()
    )
    return render_template("console/search.html", page=page)
