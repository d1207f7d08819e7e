"""Protections every response and every caller gets: CORS, nosniff, throttled failed
sign-ins, and the one check of what a token may do (``permit``, against the table in
``api.scopes``).

CORS is decided per request by Flask-CORS, with one of two policies:

- a public read (``GET``/``HEAD`` of a public path, sent without credentials, and not a
  preview) answers any origin with ``Access-Control-Allow-Origin: *`` and exposes ``ETag`` and
  ``Content-Language``, so a browser client can revalidate and see the served language;
  the same bytes go to every origin, so caches keep one copy;
- everything else under ``/api/`` (writes, and any request that carries a token) answers
  only the origins listed in ``CORS_ORIGINS`` (none by default), preflight included.

Flask-CORS's own resources are chosen by path alone; here a path such as a section
(public ``GET``, admin ``PUT``) needs both, so the policy is picked by path and method
(the preflight's ``Access-Control-Request-Method``), then Flask-CORS writes the headers.
"""

from __future__ import annotations

import math
import re
import time
from functools import lru_cache
from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_cors.core import get_cors_headers, get_cors_options, set_cors_headers
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from werkzeug.datastructures import Headers

from api import scopes
from api.errors import DomainError, Unauthorized
from api.extensions import limiter
from api.models import ApiToken, User
from api.services.accounts import identity

# Public reads, by path. Patterns rather than a list of routes, so that public reads
# added later (the change feed, badges) are covered the day they are served.
PUBLIC_READ_PATHS = (
    r"/api/v1/openapi\.json",
    r"/api/v1/locales(?:/.*)?",
    r"/api/v1/essays",
    r"/api/v1/essays/[^/]+",
    r"/api/v1/essays/[^/]+/sections/[^/]+",
    r"/api/v1/essays/[^/]+/catalogs/[^/]+",
    r"/api/v1/essays/[^/]+/badge\.svg",
    r"/api/v1/essays/[^/]+/locales",
    r"/api/v1/changes",
    r"/api/v1/search",
)
# ``?preview=`` values that ask for a preview: built for its caller, never a public read.
PREVIEW_ON = frozenset({"true", "1"})
_PUBLIC = re.compile("|".join(f"(?:{path})" for path in PUBLIC_READ_PATHS))
READ_METHODS = frozenset({"GET", "HEAD"})
API_PREFIX = "/api/"

PUBLIC_CORS = {
    "origins": "*",
    "send_wildcard": True,
    "methods": ["GET", "HEAD", "OPTIONS"],
    "allow_headers": ["Accept-Language", "If-None-Match", "If-Modified-Since"],
    "expose_headers": ["ETag", "Content-Language"],
    "max_age": 86400,
}
TRUSTED_CORS = {
    "send_wildcard": False,
    "always_send": False,
    "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    "allow_headers": [
        "Authorization",
        "Content-Type",
        "Accept-Language",
        "If-Match",
        "If-None-Match",
    ],
    "expose_headers": ["ETag", "Content-Language", "Location", "Retry-After"],
    "max_age": 600,
}


def _is_public_read(req: Request | None = None) -> bool:
    if req is None:
        req = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    method = req.method
    if method == "OPTIONS":
        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").upper()
        asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        if any(name.strip().lower() == "authorization" for name in asked.split(",")):
            return False
    return (
        method in READ_METHODS
        and "HTTP_AUTHORIZATION" not in environ
        and _PUBLIC.fullmatch(req.path) is not None
        and not (
            "preview" in environ.get("QUERY_STRING", "") and req.args.get("preview") in PREVIEW_ON
        )
    )


def protect(response: Response) -> Response:
    """The one hook every response passes: browsers must take every body for the media type
    it is sent as (nosniff), and the API's answer cross-origin requests by its policy."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return cors(response)


def cors(response: Response) -> Response:
    """Answer cross-origin requests to the API as the policy of the request says."""
    # The request itself, once: every attribute read through the proxy costs a lookup.
    req = request._get_current_object()  # type: ignore[attr-defined]
    if not req.path.startswith(API_PREFIX):
        return response
    policies = current_app.extensions["tarjuma.cors"]
    if _is_public_read(req):
        if req.method == "OPTIONS":
            return set_cors_headers(response, policies["public"])
        # The same two headers for every origin and none: Flask-CORS worked them out once.
        response.headers.extend(policies["public_headers"])
        return response
    if policies["trusted"] is None:
        return response
    response.vary.add("Origin")
    return set_cors_headers(response, policies["trusted"])


# --- failed authentication --------------------------------------------------------------

FAILED_AUTHENTICATION = "failed-authentication"
FAILED_SIGN_IN = "failed-sign-in"


class TooManyFailedAttempts(DomainError):
    status = 429
    slug = "too-many-failed-authentications"
    title = _l("Too many requests")

    def __init__(self, retry_after: int, account: bool = False) -> None:
        detail = (
            gettext(
                "Too many failed sign-ins to this account. Try again in %(seconds)s seconds.",
                seconds=retry_after,
            )
            if account
            else gettext(
                "Too many failed sign-ins from your address. Try again in %(seconds)s seconds.",
                seconds=retry_after,
            )
        )
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


@lru_cache(maxsize=8)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def _limits_on() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED") and limiter.enabled)


Throttle = tuple[RateLimitItem, tuple[str, ...]]


def _throttle(
    counted: str = FAILED_AUTHENTICATION, who: str | None = None, limit: str = "AUTH_FAILURE_LIMIT"
) -> Throttle | None:
    """A failure limit (the setting ``limit``) and its key, when limits are on: by default
    this client's failed authentications, counted by address."""
    config = current_app.config
    if not _limits_on():
        return None
    key = (config["RATELIMIT_KEY_PREFIX"], counted, who or get_remote_address())
    return _limit(config[limit]), key


class InsufficientScope(DomainError):
    status = 403
    slug = "insufficient-scope"
    title = _l("Not allowed")

    def __init__(self, scope: str) -> None:
        super().__init__(
            gettext(
                "This token does not carry the %(scope)s scope, which this request needs.",
                scope=scope,
            ),
            required_scope=scope,
        )
        # RFC 6750's answer to a token that lacks a scope.
        self.headers = {
            "WWW-Authenticate": (
                f'Bearer realm="tarjuma", error="insufficient_scope", scope="{scope}"'
            )
        }


def permit(granted: frozenset[str] | None) -> None:
    """The one check of what a token may do: the scopes the request's endpoint needs
    (``api.scopes``), against those the token carries. A token that carries its user's
    whole role (``granted`` None) is left to the services' role rules."""
    if granted is None:
        return
    req = request._get_current_object()  # type: ignore[attr-defined]
    missing = scopes.need(req.endpoint, req.method).missing(granted, req.args)
    if missing is not None:
        raise InsufficientScope(missing)


def _refuse_when_over(throttle: Throttle, account: bool) -> None:
    item, key = throttle
    if not limiter.shared(lambda strategy: strategy.test(item, *key)):
        window = limiter.shared(lambda strategy: strategy.get_window_stats(item, *key))
        retry_after = max(1, math.ceil(window.reset_time - time.time()))
        raise TooManyFailedAttempts(retry_after, account=account)


def _count_failure(throttle: Throttle | None) -> None:
    if throttle is not None:
        item, key = throttle
        limiter.shared(lambda strategy: strategy.hit(item, *key))


def sign_in_with_password(name: str, password: str) -> User:
    """The user a name and password belong to, with failed attempts throttled twice over.

    Failures count against the client's address (the same count as bad tokens) and
    against the account name, so neither one address trying many names nor many addresses
    trying one name get far; past either limit every attempt is refused with 429 before
    the password is checked. Each failure is in the event log.
    """
    by_address = _throttle()
    # Per account name, whether or not it exists.
    by_account = _throttle(FAILED_SIGN_IN, name.casefold()[:80], "ACCOUNT_SIGN_IN_FAILURE_LIMIT")
    for throttle, account in ((by_address, False), (by_account, True)):
        if throttle is not None:
            _refuse_when_over(throttle, account)
    try:
        return identity.password_user(name, password, request.remote_addr)
    except Unauthorized:
        _count_failure(by_address)
        _count_failure(by_account)
        raise


def authenticate(header: str | None) -> User:
    """The user behind an ``Authorization`` header, if their token may make this request."""
    token = credential(header)
    permit(token.granted)
    identity.note_use(token)
    return token.user


def credential(header: str | None) -> ApiToken:
    """The token behind an ``Authorization`` header, with failed attempts throttled.

    Every invalid, revoked or expired token counts against the client's address (behind trusted
    proxies, the address they name: api/proxies.py). Past the limit, every token it sends
    is refused with 429 until the window ends, before any lookup, so guessing gains
    nothing. A request without credentials, and a valid token from a client under the
    limit, cost one check of the counter; anonymous reads never come here. The count is
    kept where the other limits are (shared, or in memory while the storage is lost).
    """
    if not header:
        return identity.authenticate(header)
    throttle = _throttle()
    if throttle is not None:
        _refuse_when_over(throttle, account=False)
    try:
        return identity.authenticate(header)
    except Unauthorized:
        _count_failure(throttle)
        raise


def init_app(app: Flask) -> None:
    origins = list(app.config.get("CORS_ORIGINS") or [])
    trusted: Any = get_cors_options(app, TRUSTED_CORS, {"origins": origins}) if origins else None
    public = get_cors_options(app, PUBLIC_CORS)
    app.extensions["tarjuma.cors"] = {
        "public": public,
        # A public read's answer does not depend on the request (wildcard, always sent).
        "public_headers": list(get_cors_headers(public, Headers(), "GET").items()),
        "trusted": trusted,
    }
    app.after_request(protect)
