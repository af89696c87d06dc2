"""What the outbox works with: its settings from the process, and a delivery rendered for sending
(detached from the database session)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.domain.facilitators import AdminLookup
from bot.domain.settings import MeetingsSection, MembershipSection, ProposalsSection


@dataclass
class Outgoing:
    """A delivery rendered and ready to send, detached from the database session."""

    delivery_id: int
    kind: str
    chat_id: int
    group_id: int
    meeting_id: int | None
    person_telegram_id: int | None
    attempts: int
    text: str = ""
    markup: InlineKeyboardMarkup | None = None
    poll: dict[str, Any] | None = None
    stop_poll_message_id: int | None = None  # closed (stopPoll) before the text is sent
    reply_to: int | None = None
    document_id: str | None = None  # a file Telegram has (its id): sent with the text as caption
    pin: bool = False  # pinned once sent, when the bot may pin in that chat
    subject_id: int | None = None  # the row the message is about (its id is recorded once sent)
    tail: str = ""  # what the text carries besides its state, kept for the edits that follow it
    sms_to: str | None = None  # an SMS: the number (E.164) the gateway sends the text to


@dataclass(frozen=True)
class OutboxSettings:
    """What expansion and rendering need from the process (bot/services.py builds it)."""

    meetings: MeetingsSection
    proposals: ProposalsSection
    admins: AdminLookup
    bot_username: str = ""
    link_secret: bytes = b""
    membership: MembershipSection = field(default_factory=MembershipSection)
    # The administrators of a chat who remain anonymous: never named in what the group reads.
    anonymous: AdminLookup = field(default=lambda chat_id: _nobody())
    sms: bool = False  # [sms] enabled: reminders also go by SMS to the members who agreed
    sms_monthly_limit: int = 0  # SMS sent in a calendar month, at most (then none until the next)
    mail: bool = False  # [mail] enabled: the answer links also go by mail to the addressee
    dashboard_url: str = ""  # where the answer links point (the dashboard's public address)
    # Told when a decision-maker's deadline passes: the configuration's list itself, as it is then.
    coordinators: Sequence[int] = ()


async def _nobody() -> frozenset[int]:
    return frozenset()
