"""Notifications: who hears of what, in the console and by email.

Like everything after a change (``api.services.effects``), notifications are derived from
the event the change records: ``derive`` works out who asked to hear of it and, just
before the change commits, writes their notifications and the outbox jobs that mail them.
``flask worker`` sends the mail (``mail``): at once for ``instant`` settings, in one
digest a day at ``DIGEST_HOUR`` for ``daily`` ones. A rolled-back change notifies nobody;
a worker that dies mid-send leaves the job to be sent again, with the same Message-ID.
Invitations and password resets are mailed the same way (``links``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The deriver that writes notifications, and the worker's handlers that mail them."""
    from api.services import effects, jobs
    from api.services.notify import derive, links, mail

    effects.derivers(app).add(derive.derive)
    handlers = jobs.handlers(app)
    handlers.add(mail.INSTANT_JOB, mail.send_instant, retry=mail.retry_after, lease=mail.LEASE)
    handlers.add(mail.DIGEST_JOB, mail.send_digest, retry=mail.retry_after, lease=mail.LEASE)
    handlers.add(links.LINK_JOB, links.send, retry=mail.retry_after, lease=mail.LEASE)
