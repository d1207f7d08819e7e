"""Console routes for the glossary: reviewers add, change and remove a locale's terms.
The rules live in ``api.services.aids.glossary``; these shape forms and pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from api import i18n
from api.console import console, pages
from api.console.forms import GlossaryForm
from api.console.views import SEE_OTHER, Page, current_user, macro, sentence
from api.errors import DomainError
from api.services.aids import glossary

if TYPE_CHECKING:
    from api.models import GlossaryTerm


def render_glossary(
    locale: str | None,
    form: GlossaryForm | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = pages.glossary_page(current_user(), locale)
    form = form or GlossaryForm(formdata=None)
    messages = form.add_errors(error) if error is not None else []
    html = render_template(
        "console/glossary.html", page=page, form=form, error=error, messages=messages
    )
    return html, status


@console.route("/glossary", methods=["GET", "POST"])
def glossary_terms() -> Page:
    """The glossary of a locale; reviewers add terms here."""
    locale = request.args.get("locale")
    if request.method == "GET":
        return render_glossary(locale)
    form = GlossaryForm()
    if not form.validate():
        return render_glossary(locale, form=form, status=422)
    page = pages.glossary_page(current_user(), locale)
    try:
        entry = glossary.create(form.term_data(page.locale or ""), current_user())
    except DomainError as error:
        return render_glossary(locale, form=form, error=error, status=error.status)
    term = macro("text", entry.term, i18n.registry().source)
    flash(sentence(gettext("%(term)s is in the glossary."), term=term), "success")
    return redirect(url_for("console.glossary_terms", locale=entry.locale), SEE_OTHER)


@console.route("/glossary/<int(max=2147483647):term_id>", methods=["GET", "POST"])
def glossary_term(term_id: int) -> Page:
    """One term: reviewers of its locale change or remove it."""
    entry = glossary.get(term_id)
    if request.method == "GET":
        form = GlossaryForm(
            formdata=None,
            term=entry.term,
            translations="\n".join(entry.translations),
            forbidden="\n".join(entry.forbidden),
            note=entry.note,
        )
        return render_term(entry, form)
    if request.form.get("delete"):
        return _delete_term(entry)
    return _save_term(entry)


def render_term(
    entry: GlossaryTerm, form: GlossaryForm, error: DomainError | None = None, status: int = 200
) -> tuple[str, int]:
    messages = form.add_errors(error) if error is not None else []
    html = render_template(
        "console/glossary_term.html", entry=entry, form=form, error=error, messages=messages
    )
    return html, status


def _delete_term(entry: GlossaryTerm) -> Response:
    glossary.delete(entry.id, current_user())
    term = macro("text", entry.term, i18n.registry().source)
    flash(sentence(gettext("%(term)s is no longer in the glossary."), term=term), "success")
    return redirect(url_for("console.glossary_terms", locale=entry.locale), SEE_OTHER)


def _save_term(entry: GlossaryTerm) -> Page:
    form = GlossaryForm()
    if not form.validate():
        return render_term(entry, form, status=422)
    try:
        glossary.update(entry.id, form.term_data(entry.locale), current_user())
    except DomainError as error:
        return render_term(entry, form, error, error.status)
    term = macro("text", form.term.data, i18n.registry().source)
    flash(sentence(gettext("%(term)s is saved."), term=term), "success")
    return redirect(url_for("console.glossary_terms", locale=entry.locale), SEE_OTHER)
