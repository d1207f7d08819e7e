"""Tarjuma: an open multilingual content API with a translation workflow behind it."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, i18n, errors, then the blueprints."""
    from api import cli, console, docs, errors, i18n, proxies, security, views
    from api.config import load, normalise_database_url
    from api.extensions import api, babel, db, limiter, migrate
    from api.services import changes, edge, memory, webhooks  # noqa: F401 - derivers register

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load(overrides))
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        from pathlib import Path

        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.mimetype = "application/json; charset=utf-8"  # type: ignore[attr-defined]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))
    i18n.init_app(app)
    babel.init_app(app, locale_selector=i18n.babel_locale)
    limiter.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    views.register(app, api)
    console.init_app(app)
    docs.init_app(app)
    edge.init_app(app)
    cli.register(app)
    # Last, so that it is the outermost layer: every other one sees the client's address.
    proxies.init_app(app)
    return app
