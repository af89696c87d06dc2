"""What handlers and jobs share: settings, database, clock. One instance per running bot."""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings

SERVICES = "relais.services"

# The session of the update or job being processed: one transaction per update or job run.
current_session: contextvars.ContextVar[AsyncSession] = contextvars.ContextVar("relais_session")


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    bot_username: str = ""
    link_secret: bytes = b""
    admin_cache: dict[int, tuple[float, frozenset[int]]] = field(default_factory=dict)
    dispatch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # False in tests and the demo, which run the dispatcher themselves at chosen (fake) times.
    auto_dispatch: bool = True


def services(context: Any) -> Services:
    """The Services of the application behind a PTB context (or Application)."""
    application = getattr(context, "application", context)
    return application.bot_data[SERVICES]


def db() -> AsyncSession:
    """The session of the current update or job."""
    return current_session.get()
