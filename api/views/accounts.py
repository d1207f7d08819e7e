"""People and invitations over HTTP (admins: the services check who may)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from api.models import User
from api.schemas import PageArgs
from api.schemas.accounts import (
    InvitationInSchema,
    InvitationPageSchema,
    IssuedLinkSchema,
    UserChangeSchema,
    UserPageSchema,
    UserSchema,
)
from api.services.accounts import identity, invitations
from api.services.paging import paginate
from api.views.common import Blueprint, current_user

blp = Blueprint(
    "accounts",
    __name__,
    url_prefix="/api/v1",
    description=(
        "People and invitations, for admins. An invitation or a password reset is a"
        " single-use link that expires; it is shown once, and the person opens it in a"
        " browser to choose a password."
    ),
)


def issued_link(issued: invitations.IssuedLink) -> dict[str, Any]:
    endpoint = (
        "console.join" if issued.link.purpose == invitations.INVITATION else "console.new_password"
    )
    return {
        "id": issued.link.id,
        "url": url_for(endpoint, token=issued.token, _external=True),
        "expires_at": issued.link.expires_at,
        "emailed": issued.emailed,
    }


@blp.route("/invitations")
class Invitations(MethodView):
    @blp.arguments(InvitationInSchema)
    @blp.response(201, IssuedLinkSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Invite someone: a single-use link, shown once, with which they join."""
        issued = invitations.invite(
            data["email"], data["role"], data["locales"], current_user(), data["expires_in_days"]
        )
        return issued_link(issued)

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InvitationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Invitations not withdrawn, newest first: pending, used and expired."""
        statement = invitations.invitations(current_user())
        return paginate(statement, args["page"], args["per_page"])


@blp.route("/invitations/<int(max=2147483647):invitation_id>")
class InvitationResource(MethodView):
    @blp.response(204)
    def delete(self, invitation_id: int) -> None:
        """Withdraw an invitation: its link answers 410 from now on."""
        invitations.revoke_invitation(invitation_id, current_user())


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Everyone with an account, by name."""
        statement = identity.users_statement(current_user())
        return paginate(statement, args["page"], args["per_page"])


@blp.route("/users/<string(maxlength=80):name>")
class UserResource(MethodView):
    @blp.arguments(UserChangeSchema)
    @blp.response(200, UserSchema)
    def patch(self, data: dict[str, Any], name: str) -> User:
        """Change a person's role, locales, email, or whether they may sign in.

        Deactivating someone ends their console sessions and revokes their tokens at once.
        """
        return identity.update_user(name, data, current_user())


@blp.route("/users/<string(maxlength=80):name>/password-reset")
class PasswordReset(MethodView):
    @blp.response(201, IssuedLinkSchema)
    def post(self, name: str) -> dict[str, Any]:
        """A single-use link, shown once, with which the person chooses a new password."""
        return issued_link(invitations.password_reset(name, current_user()))
