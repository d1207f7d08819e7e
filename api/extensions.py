"""Extensions, created unbound and attached to an app in ``create_app``."""

from __future__ import annotations

import http
from collections.abc import Callable
from functools import partial
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
import sqlalchemy.orm as so
from apispec import BasePlugin
from flask import Flask, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy

from api.ratelimit import FallbackLimiter

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details; extension members such as ``errors`` may follow."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String(allow_none=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per field"},
    )
    available_locales = ma.fields.List(ma.fields.String())
    required_scope = ma.fields.String(
        metadata={"description": "The scope the token lacks (``insufficient-scope``)."}
    )


class ClientErrorPlugin(BasePlugin):
    """Documents ``4XX`` on every operation: a client error is always a problem document.

    ``default`` alone would also cover them, but it reads as "anything else", server
    errors included; clients generated from the document tell the two apart.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("4XX", ProblemApi.CLIENT_ERROR_RESPONSE_NAME)


class ProblemApi(Api):
    """flask-smorest's Api, documenting every error as ``application/problem+json``."""

    ERROR_SCHEMA = ProblemSchema
    PROBLEM_CONTENT_TYPE = "application/problem+json"
    CLIENT_ERROR_RESPONSE_NAME = "CLIENT_ERROR"

    def _init_spec(self, *, extra_plugins: Any = None, **options: Any) -> None:
        from api.scopes import ScopePlugin  # its table's vocabulary is the models'

        plugins = [*(extra_plugins or ()), ClientErrorPlugin(), ScopePlugin()]
        super()._init_spec(extra_plugins=plugins, **options)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, self.PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)
        response = {"description": "A client error (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.CLIENT_ERROR_RESPONSE_NAME, response, lazy=True)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
babel = Babel()
api = ProblemApi()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _is_read() -> bool:
    return request.method in SAFE_METHODS


class WriteLimiter(FallbackLimiter):
    """Flask-Limiter for writes: reads are never limited, and cost it nothing.

    Reads are cheap and cacheable, and a CDN in front of the API would otherwise be
    limited as one client. Skipping the check before it starts saves the read path the
    limiter's evaluation (about a quarter of a cached read's time in-process).
    """

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and _is_read():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def init_app(self, app: Flask) -> None:
        """Flask-Limiter's hooks, with those after a request left out on reads.

        They write the headers of the limit checked and forget it: a read checked none.
        """
        super().init_app(app)
        after = app.after_request_funcs.get(None, [])
        teardown = app.teardown_request_funcs.get(None, [])
        app.after_request_funcs[None] = [_on_writes(f) if _is_ours(self, f) else f for f in after]
        app.teardown_request_funcs[None] = [
            _on_writes(f) if _is_ours(self, f) else f for f in teardown
        ]


def _is_ours(limiter: Limiter, hook: Any) -> bool:
    bound = getattr(hook, "__self__", None)
    arguments = getattr(hook, "args", ())
    return bound is limiter or (isinstance(hook, partial) and arguments[:1] == (limiter,))


def _on_writes(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def on_writes(value: Any) -> Any:
        if request.method in SAFE_METHODS:
            return value
        return hook(value)

    return on_writes


limiter = WriteLimiter(key_func=get_remote_address, default_limits_exempt_when=_is_read)
