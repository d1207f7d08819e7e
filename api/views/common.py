"""What the views share: the caller, the blueprint flavour and uploads."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import flask_smorest
from flask import g, request

from api.errors import DomainError, Unprocessable
from api.models import User
from api.security import authenticate


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint; a query string that fails validation is a 400.

    A malformed query parameter is a bad request (400); a JSON body that is well-formed
    but invalid stays unprocessable (422).
    """

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        if location == "query":
            kwargs.setdefault("error_status_code", 400)
        return super().arguments(schema, location=location, **kwargs)


def current_user() -> User:
    """The authenticated caller; 401 problem when there is none, 403 when their token
    lacks the scope this endpoint needs (``api.scopes``)."""
    user = g.get("user")
    if user is None:
        user = authenticate(request.headers.get("Authorization"))
        g.user = user
    return user


def file_upload_body(description: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of an upload: the multipart field ``file``, or the file as
    the whole body in one of the media types of ``raw``."""
    return {
        "required": True,
        "description": description,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            **raw,
        },
    }


def uploaded_file(raw_types: Collection[str], missing: str, wrong_type: DomainError) -> bytes:
    """The uploaded file's bytes: the multipart field ``file`` (sent as a file or as text),
    or the whole body when its media type is one of ``raw_types``.

    A multipart body without the field is a 422 saying ``missing``; any other media type
    is ``wrong_type``.
    """
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is not None:
            return upload.read()
        if "file" in request.form:
            return request.form["file"].encode("utf-8")
        raise Unprocessable(missing, errors={"file": [missing]})
    if request.mimetype in raw_types:
        return request.get_data(cache=False)
    raise wrong_type
