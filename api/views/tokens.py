"""Personal tokens over HTTP: the caller makes, lists and revokes their own."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.schemas import PageArgs
from api.schemas.tokens import TokenCreatedSchema, TokenInSchema, TokenPageSchema
from api.services.accounts import tokens
from api.services.paging import paginate
from api.views.common import Blueprint, current_user

blp = Blueprint(
    "tokens",
    __name__,
    url_prefix="/api/v1",
    description=(
        "Personal tokens: each with a name, the scopes it carries (within its owner's role)"
        " and an expiry. A request outside a token's scopes is refused with 403 and"
        " ``required_scope``; an expired token with 401."
    ),
)


@blp.route("/me/tokens")
class Tokens(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TokenPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's tokens not revoked, newest first; never the tokens themselves."""
        statement = tokens.listing(current_user())
        return paginate(statement, args["page"], args["per_page"])

    @blp.arguments(TokenInSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Make a token; the response holds it, once. Scopes beyond the caller's role: 422."""
        issued = tokens.create(
            current_user(), data["name"], data["scopes"], data["expires_in_days"]
        )
        record = issued.record
        return {
            "id": record.id,
            "name": record.name,
            "token": issued.token,
            "prefix": record.prefix,
            "scopes": record.scope_list,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }


@blp.route("/me/tokens/<int(max=2147483647):token_id>")
class TokenResource(MethodView):
    @blp.response(204)
    def delete(self, token_id: int) -> None:
        """Revoke one of the caller's tokens: it is refused from now on."""
        tokens.revoke(current_user(), token_id)
