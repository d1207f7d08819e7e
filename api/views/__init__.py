"""HTTP views: thin flask-smorest resources that call one service each."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from marshmallow import fields

from api import i18n
from api.schemas import NOT_BLANK, ArgsSchema, InputSchema
from api.services.text import REFUSED_ON_INPUT
from api.services.translation.check_text import blank_characters

# Locale schemas that hand-written parameters refer to, by kind (``i18n.LOCALE_KINDS``).
LOCALE_COMPONENTS = {
    "ReadableLocale": "readable",
    "ServedLocale": "offered",
    "OfferedLocale": "offered-exact",
    "TargetLocale": "target",
}


NUL = "\x00"
TAKEN = (InputSchema, ArgsSchema)


def register(app: Flask, api: Api) -> None:
    from api.schemas.workflow import BulkApproveSchema, BulkRejectSchema
    from api.views import (
        accounts,
        aids,
        caching,
        catalogs,
        delivery,
        edge,
        notifications,
        operations,
        reading,
        releases,
        search,
        tokens,
        workflow,
    )
    from api.views.converters import KeyConverter

    app.url_map.converters["key"] = KeyConverter
    api.register_converter(
        KeyConverter, lambda _: {"type": "string", "pattern": f"^{KeyConverter.regex}$"}
    )
    document_constraints(app, api)
    api.spec.components.schema("BulkApprove", schema=BulkApproveSchema)
    api.spec.components.schema("BulkReject", schema=BulkRejectSchema)

    for blueprint in (
        operations.blp,
        reading.blp,
        workflow.blp,
        releases.blp,
        catalogs.blp,
        delivery.blp,
        aids.blp,
        search.blp,
        tokens.blp,
        accounts.blp,
        notifications.blp,
    ):
        api.register_blueprint(blueprint)
    caching.init_app(app)
    edge.init_app(app)


def _owner(field: fields.Field[Any]) -> Any:
    """The schema a field belongs to, through the lists that hold it."""
    owner: Any = field.parent
    while isinstance(owner, fields.List):
        owner = owner.parent
    return owner


def document_constraints(app: Flask, api: Api) -> None:
    """Put in the document the constraints that depend on this deployment.

    Locale parameters take the offered locales of this app's configuration, and a text's
    length limit may be a setting: the schemas mark such fields in their metadata.
    """
    registry: i18n.LocaleRegistry = app.extensions["tarjuma.locales"]
    for name, kind in LOCALE_COMPONENTS.items():
        api.spec.components.schema(
            name,
            {"type": "string", "maxLength": i18n.MAX_TAG_LENGTH, "pattern": registry.pattern(kind)},
        )

    def deployment_constraints(
        converter: Any, field: fields.Field[Any], ret: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        keys = field.key_field if isinstance(field, fields.Dict) else None
        if keys is not None and (kind := keys.metadata.get("locale")):
            # A map by locale (notification settings): its keys are locales of that kind.
            out["propertyNames"] = {"type": "string", "pattern": registry.pattern(kind)}
        if kind := field.metadata.get("locale"):
            out["pattern"] = registry.pattern(kind)
        elif isinstance(field, fields.String) and isinstance(
            _owner(field), InputSchema | ArgsSchema
        ):
            # No text the API takes may hold NUL (see ``BaseSchema.refuse_nul``), and no
            # essay text other control characters (the ``control`` check); a text that must
            # not be blank needs one character that is neither blank nor refused.
            text = field.metadata.get("text")
            refused = REFUSED_ON_INPUT if text in ("essay", "visible") else NUL
            if text == "visible":
                out["pattern"] = f"^[^{refused}]*[^{blank_characters()}{refused}][^{refused}]*$"
            elif text == "essay":
                out["pattern"] = f"^[^{refused}]*$"
            elif ret.get("pattern") == NOT_BLANK["pattern"]:
                out["pattern"] = rf"^[^{NUL}]*[^\s{NUL}][^{NUL}]*$"
            elif "pattern" in ret:
                pass  # the field's own pattern (a cursor, a slug) takes no NUL either
            else:
                out["pattern"] = f"^[^{NUL}]*$"
        if setting := field.metadata.get("max_length"):
            out["maxLength"] = app.config[setting]
        return out

    api.ma_plugin.converter.add_attribute_function(deployment_constraints)
