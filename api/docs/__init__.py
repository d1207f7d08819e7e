"""The API's reference at ``/api/docs``: Swagger UI, every file of it served by the app.

The viewer's files are the ones flask-swagger-ui ships (Swagger UI's own ``dist``, one
package version per Swagger UI release); the page that starts it is ours, with no inline
script, so it runs under the console's policy (this origin alone) and works on a network
with no way out.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Flask, Response, abort, render_template, send_from_directory, url_for

from api.console import CONTENT_SECURITY_POLICY as CONSOLE_POLICY
from api.extensions import api

SWAGGER_UI_FILES = resources.files("flask_swagger_ui") / "dist"
# What the page loads; the rest of the package (its OAuth redirect page, its own
# initialiser) is not served.
SWAGGER_UI_SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
# Swagger UI draws its icons from ``data:`` SVG images; nothing else comes from anywhere
# but the app.
CONTENT_SECURITY_POLICY = f"{CONSOLE_POLICY}; img-src 'self' data:"

docs = Blueprint(
    "docs",
    __name__,
    url_prefix="/api/docs",
    template_folder="templates",
    static_folder="static",
)


def init_app(app: Flask) -> None:
    app.register_blueprint(docs)


@docs.get("")
def page() -> Response:
    """Swagger UI on the OpenAPI document."""
    html = render_template(
        "docs/swagger_ui.html",
        title=api.spec.title,
        spec_url=url_for("api-docs.openapi_json"),  # flask-smorest serves the document
    )
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@docs.get("/swagger-ui/<filename>")
def swagger_ui(filename: str) -> Response:
    """One of Swagger UI's own files: its script, its stylesheet, its icon."""
    if filename not in SWAGGER_UI_SERVED:
        abort(404)
    return send_from_directory(str(SWAGGER_UI_FILES), filename)
