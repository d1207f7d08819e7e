"""Schemas of the PO catalog endpoints: the upload's options and its report."""

from __future__ import annotations

from marshmallow import fields, validate

from api.schemas import ArgsSchema, BaseSchema


class CatalogUploadArgs(ArgsSchema):
    approve = fields.Boolean(
        load_default=False,
        metadata={
            "description": (
                "Reviewers only: publish each new version at once. The review rules apply, so a"
                " deployment that forbids self-review refuses it (403)."
            )
        },
    )


class CatalogExportArgs(ArgsSchema):
    pending = fields.Boolean(
        load_default=False,
        metadata={
            "description": (
                "Signed-in translators: add your versions still waiting for review as fuzzy"
                " entries, each with a comment naming the version. Uploading the file as it is"
                " creates nothing; an entry you edit (and unmark fuzzy) becomes a new version."
                " Such a catalog is private: it is never cached."
            )
        },
    )


class CatalogWarningSchema(BaseSchema):
    key = fields.String(required=True, metadata={"description": "The unit (section key)."})
    field = fields.String(allow_none=True, validate=validate.OneOf(["heading", "body"]))
    code = fields.String(
        required=True,
        metadata={
            "description": (
                "A quality check's code for a created version, or why entries were left out:"
                " ``fuzzy``, ``missing_field``, ``unknown_source``; ``outdated`` when a version"
                " was made from an older source text."
            )
        },
    )
    message = fields.String(required=True)
    line = fields.Integer(allow_none=True, metadata={"description": "Line in the uploaded file."})
    translation = fields.Integer(metadata={"description": "The version the warning is about."})


class CatalogImportSchema(BaseSchema):
    created = fields.Integer(required=True, metadata={"description": "Versions submitted."})
    unchanged = fields.Integer(
        required=True,
        metadata={
            "description": "Units whose entries match what is published or your pending version."
        },
    )
    skipped = fields.Integer(
        required=True, metadata={"description": "Units left out; ``warnings`` says why."}
    )
    warnings = fields.List(fields.Nested(CatalogWarningSchema), required=True)
    translations = fields.List(
        fields.Integer(), required=True, metadata={"description": "Ids of the created versions."}
    )


class CatalogProblemSchema(BaseSchema):
    """An RFC 9457 problem document, with the members catalog errors add."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    line = fields.Integer(metadata={"description": "The line of the file at fault."})
    available_locales = fields.List(fields.String())
