"""Invitations and password resets by email, when the server has ``SMTP_URL``.

The link's token is stored only as a hash, so the worker cannot rebuild the link: the
service that makes it puts it in the outbox job sealed (``api.services.sealing``), in the
same transaction, and the worker unseals it to write the mail. A link used, revoked or
expired before the worker gets to it is not mailed.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from flask import current_app, render_template, url_for
from flask_babel import format_datetime, gettext

from api import i18n
from api.extensions import db
from api.models import AccountLink, User
from api.models.types import utcnow
from api.services import jobs, sealing
from api.services.notify.mail import language_of, mail, message_id, send_message, writing_in

LINK_JOB = "notify.link"
_PURPOSE = b"tarjuma mailed links"
INVITATION = "invitation"


def mailing() -> bool:
    """Whether links are mailed (``SMTP_URL`` is set)."""
    return bool(current_app.config["SMTP_URL"])


def enqueue(link: AccountLink, token: str) -> bool:
    """Inside the transaction that made ``link``: a job to mail it, when links are mailed
    and its person has an address. Whether one was written."""
    if not mailing() or _address(link) is None:
        return False
    sealed = sealing.fernet(_PURPOSE).encrypt(token.encode()).decode()
    jobs.enqueue(LINK_JOB, {"link": link.id, "token": sealed})
    return True


def _address(link: AccountLink) -> str | None:
    if link.purpose == INVITATION:
        return link.email
    user = link.user or (db.session.get(User, link.user_id) if link.user_id else None)
    return user.email if user is not None else None


def _language(link: AccountLink) -> str:
    if link.purpose != INVITATION and link.user is not None:
        return language_of(link.user)
    offered = i18n.registry().offered
    return next((code for code in link.locales if code in offered), i18n.registry().default)


def send(job: jobs.Claim) -> jobs.Outcome | None:
    """Mail one invitation or password reset, while it still works."""
    link = db.session.get(AccountLink, int(job.payload["link"]))
    now = utcnow()
    if link is None or link.used_at or link.revoked_at or link.expires_at <= now:
        return None
    address = _address(link)
    if address is None:
        return None
    try:
        token = sealing.fernet(_PURPOSE).decrypt(job.payload["token"].encode()).decode()
    except InvalidToken:
        return jobs.Outcome(error="the link cannot be unsealed (SECRET_KEY changed)", retry=False)
    language = _language(link)
    with writing_in(language):
        invitation = link.purpose == INVITATION
        endpoint = "console.join" if invitation else "console.new_password"
        context = {
            "url": url_for(endpoint, token=token, _external=True),
            "subject": gettext("You are invited to Tarjuma")
            if invitation
            else gettext("Choose a new Tarjuma password"),
            "lead": gettext(
                "Open this link to choose your name and password. It works once, until %(date)s:",
                date=format_datetime(link.expires_at, "medium"),
            )
            if invitation
            else gettext(
                "Open this link to choose a new password. It works once, until %(date)s:",
                date=format_datetime(link.expires_at, "medium"),
            ),
            "ignore": gettext("If you did not expect this mail, you can ignore it."),
            "language": language,
            "direction": i18n.direction_of(language),
        }
        text = render_template("mail/link.txt", **context)
        html = render_template("mail/link.html", **context)
    message = mail(
        to=address,
        subject=context["subject"],
        language=language,
        text=text,
        html=html,
        message_id=message_id(f"link.{link.id}"),
    )
    db.session.rollback()
    return send_message(message)
