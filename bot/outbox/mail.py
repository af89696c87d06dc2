"""E-mail, the outbox's way to people outside Telegram (the decision-makers' answer links).

A mail is a row (`mails`) written in the transaction that decided it and sent after the commit by
the dispatcher's run, through aiosmtplib: claimed (so one process sends it), retried with growing
waits, failed after a few tries, and deleted a week after it went (it holds a work address).
SMTP has no "send once": a process that dies between the server's answer and the record sends
that one mail again after its claim lapses; its Message-ID is the same, which mail servers and
clients use to drop the second copy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Mail

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6
KEEP = timedelta(days=7)
AT_ONCE = 50


@dataclass(frozen=True)
class MailServer:
    """Where mail goes ([mail] in the configuration, read by the assembly)."""

    host: str
    port: int
    security: str  # starttls | tls | none
    username: str
    password: str
    sender: str
    timeout: float


def write_mail(
    session: AsyncSession, to: str, subject: str, body: str, now: datetime, proposal_id: int | None = None
) -> Mail:
    """A mail to send after this transaction commits."""
    mail = Mail(to_address=to, subject=subject, body=body, status="pending", attempts=0, due_at=now)
    mail.proposal_id = proposal_id
    session.add(mail)
    return mail


def _message(server: MailServer, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(server.sender)[1].rpartition("@")[2] or "relais.invalid"
    message["Message-ID"] = f"<relais-mail-{mail.id}@{domain}>"  # the same on a send again
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


async def send_due_mails(sessionmaker: async_sessionmaker[AsyncSession], server: MailServer, now: datetime) -> int:
    """Send what is due; returns how many went."""
    async with sessionmaker.begin() as session:
        due = list(
            await session.scalars(
                select(Mail)
                .where(
                    Mail.status == "pending",
                    Mail.due_at <= now,
                    or_(Mail.claimed_at.is_(None), Mail.claimed_at < now - LEASE),
                )
                .order_by(Mail.id)
                .limit(AT_ONCE)
                .with_for_update(skip_locked=True)
            )
        )
        for mail in due:
            mail.claimed_at, mail.attempts = now, mail.attempts + 1
        messages = [(mail.id, mail.attempts, _message(server, mail)) for mail in due]
        await session.execute(delete(Mail).where(Mail.status == "sent", Mail.sent_at < now - KEEP))
    sent = 0
    for mail_id, attempts, message in messages:
        error = await _send(server, message)
        async with sessionmaker.begin() as session:
            row = await session.get(Mail, mail_id)
            if row is None:
                continue
            row.claimed_at = None
            if error is None:
                row.status, row.sent_at, row.error = "sent", now, None
                sent += 1
            elif attempts >= MAX_ATTEMPTS:
                row.status, row.error = "failed", error
                log.warning("mail %s failed for good: %s", mail_id, error)
            else:
                row.due_at, row.error = now + timedelta(minutes=5 * 2 ** (attempts - 1)), error
    if messages:
        log.info("mail: %s sent of %s due", sent, len(messages))
    return sent


async def _send(server: MailServer, message: EmailMessage) -> str | None:
    """None once the server took it, else why not (never the address or the text)."""
    try:
        await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            username=server.username or None,
            password=server.password or None,
            use_tls=server.security == "tls",
            start_tls=server.security == "starttls",
            timeout=server.timeout,
        )
    except aiosmtplib.SMTPException as exc:
        return str(type(exc).__name__)[:64]
    except OSError as exc:
        return f"network: {exc.__class__.__name__}"[:64]
    return None
