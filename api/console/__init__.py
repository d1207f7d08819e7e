"""The translators' console: server-rendered screens over the same services as the API."""

from __future__ import annotations

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
    """Register the console, with CSRF protection for its forms only (its settings,
    ``WTF_CSRF_*`` and ``CONSOLE_SESSION_LIFETIME``, are in api/config.py)."""
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)
    import api.console.glossary  # noqa: F401 - registers the routes
    import api.console.notifications  # noqa: F401
    import api.console.people  # noqa: F401
    import api.console.tokens  # noqa: F401
    import api.console.views  # noqa: F401
    from api.console.shared import shared

    app.register_blueprint(console)
    app.register_blueprint(shared)


@console.after_request
def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    # Same-origin referrers are kept: Flask-WTF checks them on HTTPS form posts.
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != f"{CONSOLE_BLUEPRINT}.static":
        response.headers["Cache-Control"] = "no-store"
    return response
