"""What the views share: the caller, and the blueprint flavour they are written with."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import g, request

from api.models import User
from api.security import authenticate

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


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
    """The authenticated caller; 401 problem when there is none."""
    user = g.get("user")
    if user is None:
        user = authenticate(request.headers.get("Authorization"))
        g.user = user
    return user
