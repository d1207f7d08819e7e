"""Tarjuma: an open multilingual content API with a translation workflow behind it."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

from flask import Flask


class App(Flask):
    """Flask, with each hook's sync wrapper worked out once, not on every request.

    Flask asks ``ensure_sync`` of every hook and view on every request (about seventeen
    times for a read), and the answer depends only on the function: none of ours is async.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any] | None] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # A bound method is new on every access (a view's ``get``): keyed by its function.
        key = func.__func__ if isinstance(func, types.MethodType) else func
        if not isinstance(key, types.FunctionType):
            return super().ensure_sync(func)
        try:
            known = self._sync[key]
        except KeyError:
            known = self._sync[key] = None if inspect.iscoroutinefunction(key) else key
        return func if known is not None else super().ensure_sync(func)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, i18n, errors, then the blueprints."""
    from api import cli, console, docs, errors, i18n, observability, proxies, security, views
    from api.config import load
    from api.extensions import api, babel, db, limiter, migrate

    app = App(__name__, instance_relative_config=True)
    app.config.from_mapping(load(overrides))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        from pathlib import Path

        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.mimetype = "application/json; charset=utf-8"  # type: ignore[attr-defined]

    observability.init_app(app)  # first: its hook sees the request first, the response last
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))
    _follow_changes(app)
    i18n.init_app(app)
    babel.init_app(app, locale_selector=i18n.babel_locale)
    limiter.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    views.register(app, api)
    console.init_app(app)
    docs.init_app(app)
    cli.register(app)
    # Last, so that it is the outermost layer: every other one sees the client's address.
    proxies.init_app(app)
    return app


def _follow_changes(app: Flask) -> None:
    """What follows a change (``api.services.effects``): the derivers, in the order each
    recorded event meets them, and the jobs they leave for ``flask worker``.

    The feed comes first: it gives a public event its position and the item readers get,
    and webhooks send that very item, so they come after it (``add`` refuses the other
    order). The edge's purge and the translation memory read nothing the others write, and
    nothing reads what they write, so their place is free: they follow the two that depend
    on each other. Notifications read nothing the others write and write only rows of
    their own (just before the commit), so their place is free too. The search index adds
    its searches' tags to the change's one purge, which it starts if the edge's deriver
    has not yet. Every process built here (app servers, ``flask worker``, the workers
    ``flask edge run`` starts) gets the same derivers and handlers; importing a service
    registers nothing.
    """
    from api.services import effects, jobs, notify
    from api.services.aids import memory
    from api.services.delivery import releases
    from api.services.outbound import changes, edge, webhooks
    from api.services.search import index as search

    effects.init_app(app)
    jobs.init_app(app)
    changes.init_app(app)
    webhooks.init_app(app)
    edge.init_app(app)
    memory.init_app(app)
    notify.init_app(app)
    search.init_app(app)
    releases.init_app(app)
