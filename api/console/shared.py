"""Preview links: the one page anyone may open without an account, if they have the link."""

from __future__ import annotations

from flask import Blueprint, Response, json, render_template, request
from flask_babel import format_datetime

from api import i18n
from api.console import CONTENT_SECURITY_POLICY, pages
from api.errors import DomainError, handle_domain_error
from api.services.delivery import preview
from api.services.notify import settings

shared = Blueprint("shared", __name__)

JSON = "application/json; charset=utf-8"


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@shared.errorhandler(DomainError)
def link_error(error: DomainError) -> Response:
    """An expired or unknown link: a page for browsers, problem+json for programs."""
    if wants_json():
        return _private(handle_domain_error(error))
    ui = i18n.message_locale()
    html = render_template(
        "console/preview_link_error.html",
        error=error,
        ui_locale=ui,
        ui_dir=i18n.direction_of(ui),
    )
    response = Response(html, status=error.status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return _private(response)


@shared.get("/preview/<string:token>")
def preview_link(token: str) -> Response:
    """The preview a link names: HTML for browsers, JSON for ``Accept: application/json``."""
    link, document = preview.open_link(token)
    if wants_json():
        response = Response(json.dumps(document, ensure_ascii=False), content_type=JSON)
    else:
        from api.console.views import locale_name

        ui = i18n.message_locale()
        html = render_template(
            "console/preview_link.html",
            **pages.reader(document),
            ui_locale=ui,
            ui_dir=i18n.direction_of(ui),
            locale_name=locale_name,
            expires_at=link.expires_at,
            format_datetime=lambda value: format_datetime(value, "medium"),
        )
        response = Response(html, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Language"] = document["locale"]
    return _private(response)


@shared.route("/unsubscribe/<string(maxlength=300):token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Response:
    """A mail's unsubscribe link: GET asks, POST (the button, or a mail program's one-click
    request, RFC 8058) turns off what the signed token names."""
    settings.read_token(token)  # an unknown token: 404 before anything is shown
    done = request.method == "POST"
    if done:
        settings.unsubscribe(token)
    ui = i18n.message_locale()
    html = render_template(
        "console/unsubscribe.html",
        token=token,
        done=done,
        ui_locale=ui,
        ui_dir=i18n.direction_of(ui),
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    return _private(response)
