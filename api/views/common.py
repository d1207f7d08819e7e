"""What the views share: the caller, the blueprint flavour, negotiation and paging.

Negotiation and paging live in ``api.i18n`` and ``api.services.paging``, where the
console finds them too; they are named here for the views' convenience.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import g, request

from api.i18n import negotiate
from api.models import User
from api.security import authenticate
from api.services.paging import paginate

__all__ = ["BEARER", "Blueprint", "current_user", "negotiate", "paginate"]

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
