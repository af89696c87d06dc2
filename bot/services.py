"""What handlers and jobs share: settings, database, clock. One instance per running bot."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext

from bot.clock import Clock
from bot.config import Settings
from bot.metrics import Metrics
from bot.outages import Outage
from bot.outbox.after_commit import ChatSender
from bot.outbox.claims import WORKER_ID
from bot.outbox.refresh import Refresher
from bot.outbox.rights import Rights
from bot.outbox.sms_gateway import SmsGateway
from bot.outbox.topics import Topics

log = logging.getLogger(__name__)
SERVICES = "relais.services"

# The session of the update or job being processed: one transaction per update or job run.
current_session: contextvars.ContextVar[AsyncSession] = contextvars.ContextVar("relais_session")


@dataclass(frozen=True)
class Administrators:
    """A chat's administrators as Telegram lists them."""

    ids: frozenset[int] = frozenset()
    anonymous: frozenset[int] = frozenset()  # those who remain anonymous: never named to the group
    bots: frozenset[int] = frozenset()  # those that are bots (Relais, when it is one)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    bot_username: str = ""
    dashboard_url: str = ""  # where the dashboard's login links point (set once the web server listens)
    link_secret: bytes = b""
    admin_cache: dict[int, tuple[float, Administrators]] = field(default_factory=dict)  # chat id -> (until, ...)
    dispatch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # False in tests and the demo, which run the dispatcher themselves at chosen (fake) times.
    auto_dispatch: bool = True
    # Asks the dispatcher to run at these moments; the scheduler installs it when it starts.
    wake_at: Callable[[Iterable[datetime]], None] = lambda moments: None
    # Sends what updates said once they committed (the runtime starts it with the bot).
    sender: ChatSender | None = None
    # Edits messages that follow a state, spaced (started with the bot).
    refresher: Refresher | None = None
    # The database or Telegram away at run time: reported once, retried with growing waits.
    database_outage: Outage = field(default_factory=lambda: Outage("database"))
    telegram_outage: Outage = field(default_factory=lambda: Outage("Telegram"))
    metrics: Metrics = field(default_factory=Metrics)  # this process's figures, for GET /metrics
    # This process among those sharing the database (and Telegram's rate): bot/outbox/workers.py.
    worker_name: str = field(default_factory=lambda: f"{WORKER_ID[:50]}-{uuid.uuid4().hex[:6]}")
    # Where Relais' own messages go in forum groups (the bot reads it at every send).
    topics: Topics = field(init=False)
    rights: Rights = field(init=False)  # refusals for lack of rights, told to facilitators once
    sms: SmsGateway | None = None  # [sms] enabled: the gateway, paced (the runtime makes it)
    _writer: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.database_outage.on_failure = self.metrics.database_errors.inc
        self.topics = Topics(self.sessionmaker, self.clock.now)
        self.rights = Rights(self.sessionmaker, self.clock.now)

    def update_turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """SQLite has one writer: updates take turns for their transaction, which is short since
        nothing in it waits for Telegram's send limits. PostgreSQL runs them side by side."""
        if self.engine.dialect.name == "sqlite":
            return self._writer
        return contextlib.nullcontext()


def services(context: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The Services of the application behind a PTB context (or Application)."""
    application = getattr(context, "application", context)  # a context has one; an Application is one
    found: Services = application.bot_data[SERVICES]
    return found


def db() -> AsyncSession:
    """The session of the current update or job."""
    return current_session.get()


async def fetch_administrators(bot: Bot, svc: Services, chat_id: int) -> Administrators:
    """Telegram administrators of the chat, checked live and cached briefly."""
    cached = svc.admin_cache.get(chat_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        admins = await bot.get_chat_administrators(chat_id)
    except TelegramError as exc:
        log.warning("could not read administrators of chat %s: %s", chat_id, exc.__class__.__name__)
        return cached[1] if cached else Administrators()
    found = Administrators(
        ids=frozenset(member.user.id for member in admins),
        anonymous=frozenset(member.user.id for member in admins if getattr(member, "is_anonymous", False)),
        bots=frozenset(member.user.id for member in admins if member.user.is_bot),
    )
    svc.admin_cache[chat_id] = (time.monotonic() + svc.settings.bot.admin_cache_seconds, found)
    return found


async def fetch_admin_ids(bot: Bot, svc: Services, chat_id: int) -> frozenset[int]:
    """Telegram administrators of the chat."""
    return (await fetch_administrators(bot, svc, chat_id)).ids


async def fetch_anonymous_admin_ids(bot: Bot, svc: Services, chat_id: int) -> frozenset[int]:
    """The administrators of the chat who chose to remain anonymous: never named to the group."""
    return (await fetch_administrators(bot, svc, chat_id)).anonymous


async def fetch_member_count(bot: Bot, svc: Services, chat_id: int) -> int | None:
    """How many people Telegram counts in the group, bots aside (Relais, and the bots among the
    administrators; other bots are not known). None when Telegram cannot say."""
    try:
        total = await bot.get_chat_member_count(chat_id)
    except TelegramError as exc:
        log.warning("could not count the members of chat %s: %s", chat_id, exc.__class__.__name__)
        return None
    bots = (await fetch_administrators(bot, svc, chat_id)).bots | {bot.id}
    return max(0, total - len(bots))
