"""Mail: notifications sent by the worker through ``SMTP_URL``, with ``smtplib``.

Each mail is plain text with an HTML alternative, in its recipient's interface language
(``language_of``) and direction, with links into the console under ``PUBLIC_BASE_URL``
and ``List-Unsubscribe`` with ``List-Unsubscribe-Post`` (RFC 8058) that turn off what it
reports. Its ``Message-ID`` comes from what it reports, never from the attempt, so a mail
sent again after a worker died mid-send is the same message (delivery is at least once).
A mail the server refuses for good fails at once; one it could not take (down, busy, a
4xx answer) is tried again on ``MAIL_RETRY_SCHEDULE``.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email import policy
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from typing import cast
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, render_template, url_for
from flask_babel import force_locale, gettext

from api import i18n
from api.extensions import db
from api.models import Event, Notification, User
from api.models.types import utcnow
from api.services import jobs
from api.services.notify.derive import DIGEST_JOB, INSTANT_JOB
from api.services.notify.describe import Item, describe
from api.services.notify.settings import (
    DAILY,
    REVIEWED,
    SOURCE_CHANGED,
    Unsubscribe,
    unsubscribe_token,
)

__all__ = ["DIGEST_JOB", "INSTANT_JOB", "LEASE", "retry_after", "send_digest", "send_instant"]

LEASE = 60.0
retry_after = jobs.scheduled_retry("MAIL_RETRY_SCHEDULE")


# --- what a mail says ------------------------------------------------------------------


def language_of(user: User) -> str:
    """The language mail to ``user`` is written in: the console language they last chose,
    else the first locale they work in, else the server's default."""
    offered = i18n.registry().offered
    for code in (user.interface_locale, *i18n.ordered(user.locales)):
        if code in offered:
            return code
    return i18n.registry().default


def _subject(notes: Sequence[Notification], language: str, digest: bool) -> str:
    if digest:
        return gettext("Your daily Tarjuma digest")
    first = notes[0]
    name = i18n.display_name(first.locale, language)
    if first.kind == SOURCE_CHANGED:
        return gettext("New text to translate into %(language)s", language=name)
    if first.kind == REVIEWED:
        return gettext("Your translation into %(language)s was reviewed", language=name)
    return gettext("Work waits for your review in %(language)s", language=name)


def _grouped(items: list[Item]) -> list[tuple[tuple[str, str], list[Item]]]:
    """Items by essay and locale, in the order each group first appears."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault((item.essay, item.locale), []).append(item)
    return list(groups.items())


@contextmanager
def writing_in(language: str) -> Iterator[str]:
    """Links under ``PUBLIC_BASE_URL``, messages in ``language``."""
    base = current_app.config["PUBLIC_BASE_URL"]
    with current_app.test_request_context(base_url=base), force_locale(language):
        yield language


def compose(
    user: User,
    notes: Sequence[Notification],
    message_id: str,
    unsubscribe: Unsubscribe,
    digest: bool = False,
) -> Message:
    """The mail that tells ``user`` of ``notes``."""
    with writing_in(language_of(user)) as language:
        items = describe(notes, language)
        subject = _subject(notes, language, digest)
        unsubscribe_url = url_for(
            "shared.unsubscribe", token=unsubscribe_token(unsubscribe), _external=True
        )
        context = {
            "subject": subject,
            "groups": _grouped(items),
            "language": language,
            "direction": i18n.direction_of(language),
            "language_name": lambda code: i18n.display_name(code, language),
            "settings_url": url_for("console.notification_settings", _external=True),
            "unsubscribe_url": unsubscribe_url,
            "footer": gettext(
                "You get this mail because of your notification settings."
                " Change them, or stop these mails:"
            ),
        }
        text = render_template("mail/notification.txt", **context)
        html = render_template("mail/notification.html", **context)
    return mail(
        to=cast(str, user.email),  # only people with an address are mailed (_unmailed)
        subject=subject,
        language=language,
        text=text,
        html=html,
        message_id=message_id,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


_HEADERS_AS_GIVEN = policy.compat32.clone(max_line_length=998)  # RFC 5322's longest line


def mail(
    *,
    to: str,
    subject: str,
    language: str,
    text: str,
    html: str,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> Message:
    """A mail from ``MAIL_FROM`` to ``to``: plain text with an HTML alternative.

    Built with the classic MIME classes (policy compat32), which store headers as given: the
    modern ``EmailMessage`` parses and refolds every header it is given, which cost a worker
    about a fifth of its rate. A subject beyond ASCII is written as RFC 2047 encoded words;
    other lines are not folded (a folded ``List-Unsubscribe`` is one some clients misread).
    """
    message = MIMEMultipart("alternative", policy=_HEADERS_AS_GIVEN)
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    message["From"] = _sender()
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message["Content-Language"] = language
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
    return message


def _sender() -> str:
    """``MAIL_FROM`` as a header: a display name beyond ASCII as RFC 2047 encoded words, an
    address beyond ASCII as written (it travels over SMTPUTF8)."""
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    return formataddr((name, address)) if address.isascii() else current_app.config["MAIL_FROM"]


def message_id(local: str) -> str:
    """A Message-ID in the sender's domain: the same for the same ``local`` part."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    return f"<{local}@{domain}>"


# --- sending ---------------------------------------------------------------------------

# Each worker thread keeps its connection open between mails: a backlog of mail is sent
# over one session, not one connection per message.
_connections = threading.local()


def _connect(url: str, timeout: float) -> smtplib.SMTP:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout)
    else:
        smtp = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def _session() -> smtplib.SMTP:
    url = current_app.config["SMTP_URL"]
    known = getattr(_connections, "open", None)
    if known is not None and known[0] == url:
        smtp: smtplib.SMTP = known[1]
        return smtp
    hang_up()
    smtp = _connect(url, float(current_app.config["SMTP_TIMEOUT"]))
    _connections.open = (url, smtp)
    return smtp


def hang_up() -> None:
    """Close this thread's connection to the mail server, if it has one."""
    known = getattr(_connections, "open", None)
    _connections.open = None
    if known is not None:
        try:
            known[1].close()
        except OSError:
            pass


# An address beyond ASCII travels only as SMTPUTF8 (RFC 6531): its mail is written in UTF-8
# throughout, its header lines as composed (``send_message`` cannot re-encode compat32 mail).
_UTF8 = policy.SMTPUTF8.clone(max_line_length=None)


def _send(smtp: smtplib.SMTP, message: Message) -> None:
    sender, recipient = (parseaddr(str(message[name]))[1] for name in ("From", "To"))
    if sender.isascii() and recipient.isascii():
        smtp.send_message(message)
    else:
        smtp.sendmail(
            sender,
            [recipient],
            message.as_bytes(policy=_UTF8),
            mail_options=["SMTPUTF8", "BODY=8BITMIME"],
        )


def deliver(message: Message) -> None:
    """Send one message; a connection the server closed since the last is opened again."""
    for last in (False, True):
        try:
            _send(_session(), message)
            return
        except smtplib.SMTPServerDisconnected:
            hang_up()
            if last:
                raise
        except (OSError, smtplib.SMTPException):
            hang_up()
            raise


def send_message(
    message: Message, done: Callable[[so.Session], None] | None = None
) -> jobs.Outcome:
    """Send, and say what the job's outcome is: done, to be retried, or failed for good."""
    try:
        deliver(message)
    except smtplib.SMTPRecipientsRefused as refused:
        return jobs.Outcome(error=f"refused: {refused.recipients}", retry=False)
    except smtplib.SMTPResponseException as answer:
        permanent = 500 <= answer.smtp_code < 600
        return jobs.Outcome(
            error=f"SMTP {answer.smtp_code}: {answer.smtp_error!r}", retry=not permanent
        )
    except (OSError, smtplib.SMTPException) as error:
        return jobs.Outcome(error=f"{type(error).__name__}: {error}")
    return jobs.Outcome(record=done)


# A plain table update: the worker's session holds no notifications to keep in step.
_notifications = Notification.__table__
_MAILED = (
    sa.update(_notifications)
    .where(
        _notifications.c.id.in_(sa.bindparam("ids", expanding=True)),
        _notifications.c.mailed_at.is_(None),
    )
    .values(mailed_at=sa.bindparam("at"))
)


def _mailed(ids: list[int]) -> Callable[[so.Session], None]:
    def record(session: so.Session) -> None:
        session.execute(_MAILED, {"ids": ids, "at": utcnow()})

    return record


# What a mail says of a notification comes from its event's essay and unit: loaded with it.
_WITH_EVENT = (
    so.joinedload(Notification.event).joinedload(Event.unit),
    so.joinedload(Notification.event).joinedload(Event.essay),
)


def _unmailed(
    user_id: int, condition: sa.ColumnElement[bool]
) -> tuple[User | None, list[Notification]]:
    """A person who can be mailed (active, with an address) and those of their notifications
    ``condition`` names that were not mailed yet, in one query; nothing when either is none."""
    statement = (
        sa.select(User, Notification)
        .join(Notification, Notification.user_id == User.id)
        .options(so.joinedload(User.locale_grants), *_WITH_EVENT)
        .where(
            User.id == user_id,
            User.is_active,
            User.email.is_not(None),
            condition,
            Notification.mailed_at.is_(None),
        )
        .order_by(Notification.id)
    )
    rows = db.session.execute(statement).unique().all()
    return (rows[0].User, [row.Notification for row in rows]) if rows else (None, [])


def send_instant(job: jobs.Claim) -> jobs.Outcome | None:
    """Mail one person of what one change told them (one kind, one locale)."""
    ids = [int(n) for n in job.payload["notifications"]]
    user, notes = _unmailed(int(job.payload["user"]), Notification.id.in_(ids))
    if user is None:
        return None  # nobody to mail, or mailed already
    first = notes[0]
    message = compose(
        user,
        notes,
        message_id(f"notification.{ids[0]}"),
        Unsubscribe(user.id, first.kind, first.locale),
    )
    mailed = _mailed([note.id for note in notes])  # before the rollback expires them
    db.session.rollback()  # nothing is held while the mail server answers
    return send_message(message, mailed)


def send_digest(job: jobs.Claim) -> jobs.Outcome | None:
    """Mail one person their day's notifications, grouped by essay and locale; nothing
    when there is nothing new."""
    at = datetime.fromisoformat(job.payload["at"])
    user, notes = _unmailed(int(job.payload["user"]), Notification.digest_at == at)
    if user is None:
        return None
    message = compose(
        user,
        notes,
        message_id(f"digest.{user.id}.{at:%Y%m%d%H}"),
        Unsubscribe(user.id, DAILY),
        digest=True,
    )
    mailed = _mailed([note.id for note in notes])
    db.session.rollback()
    return send_message(message, mailed)
