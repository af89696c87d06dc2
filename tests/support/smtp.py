"""A fake SMTP server on loopback (aiosmtpd): the mail Relais sends, as the addressee's mailbox
would receive it. It speaks real SMTP, so a malformed message or a refused command fails here as
it would at the department's relay."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from bot.simulator.harness import free_port


@dataclass
class Mailbox:
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, (_, rcpt) in zip(self.received, self.envelopes, strict=True) if address in rcpt]


class FakeSmtp:
    """`with FakeSmtp() as smtp:` a server on 127.0.0.1:smtp.port; `smtp.mailbox` what came."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> FakeSmtp:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def settings(self) -> dict[str, object]:
        return {
            "enabled": True,
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "sender": "Relais <relais@ain.fr>",
        }
