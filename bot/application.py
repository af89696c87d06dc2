"""The python-telegram-bot Application: the subclass that gives one database transaction per update
(duplicates dropped, processed updates recorded for tests and the demo), and the builder that
registers every feature."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults, MessageHandler

from bot.services import SERVICES, Services, current_session
from handlers import (
    actions,
    carpool,
    errors,
    facilitators,
    follow_up,
    groups,
    help,
    meeting_changes,
    meetings,
    members,
    polls,
    priorities,
    privacy,
    proposals,
    rsvp,
    setup,
    start,
)
from handlers.common import dialogue_router

_REMEMBERED_UPDATES = 10_000
_STATE = "relais.updates"


@dataclass
class UpdateLog:
    """Which updates this process has taken in, handled, and seen fail."""

    seen: OrderedDict[int, None] = field(default_factory=OrderedDict)
    failed: set[int] = field(default_factory=set)
    processed: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class RelaisApplication(Application):
    """python-telegram-bot's Application with Relais' transaction and idempotency rules."""

    def update_log(self) -> UpdateLog:
        return self.bot_data.setdefault(_STATE, UpdateLog())

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update) or SERVICES not in self.bot_data:
            await super().process_update(update)
            return
        log = self.update_log()
        seen = log.seen
        if update.update_id in seen:  # Telegram re-sends a webhook update it got no 2xx for
            return
        seen[update.update_id] = None
        while len(seen) > _REMEMBERED_UPDATES:
            seen.popitem(last=False)
        sessionmaker = self.bot_data[SERVICES].sessionmaker
        try:
            async with sessionmaker() as session:
                token = current_session.set(session)
                try:
                    await super().process_update(update)
                    if update.update_id in log.failed:
                        await session.rollback()
                    else:
                        await session.commit()
                finally:
                    current_session.reset(token)
                    log.failed.discard(update.update_id)
        finally:
            log.processed = max(log.processed, update.update_id)
            log.changed.set()

    async def process_error(
        self, update: object | None, error: Exception, job: Any = None, coroutine: Any = None
    ) -> bool:
        if isinstance(update, Update):
            self.update_log().failed.add(update.update_id)
        return await super().process_error(update, error, job, coroutine)

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until every update up to `update_id` has been handled."""
        log = self.update_log()
        async with asyncio.timeout(timeout):
            while log.processed < update_id:
                log.changed.clear()
                await log.changed.wait()


# What Relais asks Telegram to deliver. chat_member needs the bot to be an administrator too.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
    Update.POLL,
    Update.POLL_ANSWER,
]
FEATURES = (
    members,
    groups,
    setup,
    facilitators,
    start,
    help,
    privacy,
    meetings,
    meeting_changes,
    rsvp,
    proposals,
    follow_up,
    polls,
    priorities,
    actions,
    carpool,
)


def rate_limiter(per_second: float, max_retries: int) -> AIORateLimiter:
    """Evenly paced overall (one message every 1/per_second s): PTB's default bucket lets 30 go
    at once, then 30 more within the same second, and Telegram answers that with 429s, each of
    which pauses every send. Groups keep PTB's 20 per minute."""
    return AIORateLimiter(
        overall_max_rate=1,
        overall_time_period=1 / per_second,
        group_max_rate=20,
        group_time_period=60,
        max_retries=max_retries,
    )


def build_application(services: Services, with_updater: bool = True) -> Application:
    settings = services.settings
    builder = (
        ApplicationBuilder()
        .application_class(RelaisApplication)
        .token(settings.require_token())
        .base_url(settings.telegram.api_base_url)
        .base_file_url(settings.telegram.api_file_url)
        .rate_limiter(rate_limiter(settings.telegram.messages_per_second, settings.telegram.max_retries))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[SERVICES] = services
    # Handler groups, in the order python-telegram-bot runs them for each update (within a group,
    # the first matching handler wins; every group gets its turn):
    #  -10  presence tracking (handlers/members.py): who is in which group, for every update;
    #    0  the features: commands, buttons, membership changes (one module each, FEATURES);
    #    1  the dialogue router (handlers/common/dialogue_router.py): a private message, or a reply in a group,
    #       goes to the dialogue open for that person in that chat, whatever feature owns it;
    #    0  last, the stale-button answer (handlers/errors.py): buttons no feature claimed.
    for feature in FEATURES:
        feature.register(application)
    application.add_handler(
        MessageHandler(dialogue_router.ANSWERS, dialogue_router.route), group=dialogue_router.HANDLER_GROUP
    )
    errors.register(application)  # last: its button fallback only sees what no feature claimed
    return application
