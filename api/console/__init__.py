"""The translators' console: server-rendered screens over the same services as the API."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from flask_wtf.csrf import CSRFProtect

from api.i18n import CONSOLE_BLUEPRINT

console = Blueprint(
    CONSOLE_BLUEPRINT,
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
)
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Cookie sessions for the console only; the API authenticates with bearer tokens.

    Outside the console a request gets the null session: no cookie is read or set, and
    a read of the API pays nothing for a session it never uses.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        prefix = console.url_prefix or ""
        if request.path != prefix and not request.path.startswith(prefix + "/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Register the console, with CSRF protection for its forms only."""
    # The JSON API authenticates with bearer tokens, never cookies, so it needs no CSRF
    # tokens; the console checks every POST itself (see ``views.guard``).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A token lives as long as the session, so a long translation is never lost to it.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("CONSOLE_SESSION_LIFETIME", timedelta(hours=12))
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)
    import api.console.views  # noqa: F401 - registers the routes
    from api.console.shared import shared

    app.register_blueprint(console)
    app.register_blueprint(shared)


@console.after_request
def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin referrers are kept: Flask-WTF checks them on HTTPS form posts.
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != f"{CONSOLE_BLUEPRINT}.static":
        response.headers["Cache-Control"] = "no-store"
    return response
