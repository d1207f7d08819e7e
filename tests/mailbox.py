"""A real SMTP server in the test process (aiosmtpd), keeping what it is sent."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.receiver import free_port


class Mailbox:
    """An SMTP server on a free port of 127.0.0.1 that takes addresses beyond ASCII
    (SMTPUTF8), as Postfix and Exim do; ``refuse`` answers the next that many messages with
    a temporary failure (451), as a busy server does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []  # each message's envelope (RCPT TO)
        self.refused: list[EmailMessage] = []  # what it turned away, to compare retries
        self.refuse = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused.append(message)
                return "451 4.3.0 try again later"
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]
