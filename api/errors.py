"""Domain errors and the one handler that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any, NamedTuple

from flask import Flask, Response, has_request_context, json, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"


class DomainError(Exception):
    """An error the client can act on: a status, a type, a title and a detail."""

    status = 400
    slug = "bad-request"
    title: Any = _l("Bad request")
    headers: dict[str, str] = {}  # noqa: RUF012 - read-only defaults

    def __init__(self, detail: Any = None, **extensions: Any) -> None:
        super().__init__(str(detail) if detail is not None else str(self.title))
        self.detail = detail
        self.extensions = extensions


class InvalidInput(DomainError):
    status = 400
    slug = "invalid-input"
    title = _l("Invalid input")


class MalformedLocaleError(DomainError):
    status = 400
    slug = "malformed-locale"
    title = _l("Malformed locale")


class LocaleNotOfferedError(DomainError):
    status = 400
    slug = "locale-not-offered"
    title = _l("Locale not offered")


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = _l("Authentication required")
    headers = {"WWW-Authenticate": 'Bearer realm="tarjuma"'}  # noqa: RUF012


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = _l("Not allowed")


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = _l("Not found")


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = _l("Conflict")


class Gone(DomainError):
    status = 410
    slug = "gone"
    title = _l("Gone")


class PreconditionFailed(DomainError):
    status = 412
    slug = "precondition-failed"
    title = _l("Precondition failed")


class PreconditionRequired(DomainError):
    status = 428
    slug = "precondition-required"
    title = _l("Precondition required")


class Unprocessable(DomainError):
    status = 422
    slug = "unprocessable"
    title = _l("The request could not be processed")


class _Status(NamedTuple):
    slug: str
    title: Any


# The problem type (its slug) and title of each status an error without a domain class of
# its own may have.
_HTTP: dict[int, _Status] = {
    400: _Status("bad-request", _l("Bad request")),
    401: _Status("unauthorized", _l("Authentication required")),
    403: _Status("forbidden", _l("Not allowed")),
    404: _Status("not-found", _l("Not found")),
    405: _Status("method-not-allowed", _l("Method not allowed")),
    406: _Status("not-acceptable", _l("Not acceptable")),
    409: _Status("conflict", _l("Conflict")),
    410: _Status("gone", _l("Gone")),
    411: _Status("length-required", _l("Length required")),
    412: _Status("precondition-failed", _l("Precondition failed")),
    413: _Status("request-too-large", _l("Request too large")),
    414: _Status("uri-too-long", _l("URI too long")),
    415: _Status("unsupported-media-type", _l("Unsupported media type")),
    422: _Status("unprocessable", _l("The request could not be processed")),
    428: _Status("precondition-required", _l("Precondition required")),
    429: _Status("too-many-requests", _l("Too many requests")),
    431: _Status("request-headers-too-large", _l("Request headers too large")),
    500: _Status("internal-error", _l("Internal server error")),
    503: _Status("service-unavailable", _l("Service unavailable")),
}

# A request the schema refuses (webargs' 400 for parameters, 422 for bodies), field by field.
VALIDATION_FAILED = "validation-failed"

_HTTP_DETAILS: dict[int | str, Any] = {
    "query": _l("Some query parameters are malformed or out of range."),
    404: _l("There is nothing at this address."),
    405: _l("This method is not allowed here."),
    413: _l("The request body is larger than this server accepts."),
    415: _l("The request body's media type is not supported here."),
    422: _l("Some fields are missing or invalid."),
    429: _l("Too many requests: slow down and try again later."),
    500: _l("Something went wrong on our side. The error has been logged."),
}
_DATABASE_UNAVAILABLE = _l(
    "The database is busy or out of reach for a moment; nothing was changed. Try again."
)


def problem(
    status: int,
    title: Any,
    detail: Any = None,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """Build a problem+json response in the negotiated message locale."""
    body: dict[str, Any] = {
        "type": problem_type(slug or _slug_of(status)),
        "title": str(title),
        "status": status,
        "detail": str(detail if detail is not None else title),
        "instance": request.path if has_request_context() else None,
    }
    body.update({key: value for key, value in extensions.items() if value is not None})
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE
    )
    locale = get_locale() if has_request_context() else None
    response.headers["Content-Language"] = str(locale or "en").replace("_", "-")
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _slug_of(status: int) -> str:
    known = _HTTP.get(status)
    return known.slug if known is not None else f"http-{status}"


def problem_type(slug: str) -> str:
    """The URI of a problem type: every problem the API answers has one of its own."""
    return f"urn:tarjuma:problem:{slug}"


def _flatten_messages(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location (``{"json": {"field": [...]}}``); clients want fields."""
    out: dict[str, list[str]] = {}

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list | tuple):
            if all(isinstance(item, str | LazyString) for item in value):
                out.setdefault(prefix or "_schema", []).extend(str(v) for v in value)
            else:
                for index, inner in enumerate(value):
                    add(f"{prefix}.{index}", inner)
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    if isinstance(messages, dict):
        for location, fields in messages.items():
            if location in {"json", "query", "form", "files", "headers", "view_args", "path"}:
                add("", fields)
            else:
                add(str(location), fields)
    return out


def problem_body(error: DomainError) -> dict[str, Any]:
    """The problem document of a domain error, for embedding (as bulk results do)."""
    body = {
        "type": problem_type(error.slug),
        "title": str(error.title),
        "status": error.status,
        "detail": str(error.detail if error.detail is not None else error.title),
    }
    body.update({k: v for k, v in error.extensions.items() if v is not None})
    return body


def handle_domain_error(error: DomainError) -> Response:
    return problem(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        headers=error.headers,
        **error.extensions,
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    title = _HTTP[status].title if status in _HTTP else error.name
    detail = _HTTP_DETAILS.get(status, title)
    extensions: dict[str, Any] = {}
    headers: dict[str, str] = {}
    slug = None
    data = getattr(error, "data", None) or {}
    if status in (400, 422) and "messages" in data:
        slug = VALIDATION_FAILED
        extensions["errors"] = _flatten_messages(data["messages"])
        if status == 400:
            detail = _HTTP_DETAILS["query"]
    if valid := getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(valid))
    return problem(status, title, detail, slug=slug, headers=headers, **extensions)


def handle_database_unavailable(error: OperationalError) -> Response:
    """The database refused or dropped the connection, or stayed locked past its timeout.

    Not a bug in the request: its transaction rolled back, and it may simply be tried again.
    SQLite reports its own errors (a missing table, bad SQL) as operational too: those are
    bugs, and stay 500s.
    """
    if isinstance(error.orig, sqlite3.OperationalError) and not _SQLITE_BUSY.search(
        str(error.orig)
    ):
        return handle_unexpected(error)
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
    return problem(503, _HTTP[503].title, _DATABASE_UNAVAILABLE, headers={"Retry-After": "1"})


_SQLITE_BUSY = re.compile(r"locked|busy|unable to open")


def handle_unexpected(error: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return problem(500, _HTTP[500].title, _HTTP_DETAILS[500])


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
