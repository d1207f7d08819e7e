"""HTTP views: thin flask-smorest resources that call one service each."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


def register(app: Flask, api: Api) -> None:
    from api.views import aids, catalogs, delivery, operations, reading, releases, workflow
    from api.views.converters import KeyConverter

    app.url_map.converters["key"] = KeyConverter
    api.register_converter(
        KeyConverter, lambda _: {"type": "string", "pattern": f"^{KeyConverter.regex}$"}
    )

    for blueprint in (
        operations.blp,
        reading.blp,
        workflow.blp,
        releases.blp,
        catalogs.blp,
        delivery.blp,
        aids.blp,
    ):
        api.register_blueprint(blueprint)
