"""The python-telegram-bot Application: the subclass that gives one database transaction per update
(duplicates dropped, processed updates recorded for tests and the demo), and the builder that
registers every feature."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError
from telegram.ext import Application, ApplicationBuilder, Defaults, MessageHandler

from bot.aiohttp_request import AiohttpRequest
from bot.config import TelegramSection
from bot.outbox.group_budget import SharedGroupBudget
from bot.outbox.pacing import PriorityRateLimiter
from bot.outbox.relais_bot import RelaisBot
from bot.outbox.unit_of_work import Work, unit_of_work
from bot.services import SERVICES, Services, current_session
from bot.update_order import ChatOrderedProcessor
from handlers import (
    actions,
    attestation,
    card,
    carpool,
    charter,
    closing,
    costs,
    date_polls,
    errors,
    evaluation,
    facilitators,
    flyer,
    follow_up,
    groups,
    help,
    meeting_changes,
    meetings,
    members,
    minutes,
    needs,
    other_groups,
    places,
    polls,
    priorities,
    privacy,
    proposals,
    questions,
    reach,
    reports,
    roster,
    rsvp,
    setup,
    sms,
    start,
    terms,
)
from handlers.common import dialogue_router
from handlers.dashboard import command as dashboard
from storage.db import first_handling
from storage.sqlite_driver import in_the_loop

_REMEMBERED_UPDATES = 10_000
MAX_TRIES = 30  # an update the database refused this many times (about 25 minutes) is dropped
logger = logging.getLogger(__name__)
_STATE = "relais.updates"


@dataclass
class UpdateLog:
    """Which updates this process has handled (their transaction committed), is handling, and
    saw fail (with the error's class: a database or network failure is worth Telegram's retry)."""

    seen: OrderedDict[int, None] = field(default_factory=OrderedDict)
    in_flight: set[int] = field(default_factory=set)
    failed: dict[int, type[BaseException]] = field(default_factory=dict)
    # Updates that failed for a passing reason: the webhook answers 500 so that Telegram re-sends;
    # in long polling the update is handled again after a wait (`tries` counts).
    retry: set[int] = field(default_factory=set)
    tries: dict[int, int] = field(default_factory=dict)

    def handled(self, update_id: int) -> None:
        self.seen[update_id] = None
        while len(self.seen) > _REMEMBERED_UPDATES:
            self.seen.popitem(last=False)


# Failures that pass: the database or the network was away for a moment. An update that failed
# for one of these is worth handling again when Telegram re-sends it.
TRANSIENT = (DBAPIError, OSError, TimeoutError, NetworkError)


class RelaisApplication(Application):
    """python-telegram-bot's Application with Relais' transaction and idempotency rules."""

    def update_log(self) -> UpdateLog:
        return self.bot_data.setdefault(_STATE, UpdateLog())

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update) or SERVICES not in self.bot_data:
            await super().process_update(update)
            return
        log = self.update_log()
        kind = next((kind for kind in ALLOWED_UPDATES if getattr(update, kind, None) is not None), None)
        if kind is None:
            # A kind Relais never asks for (an edited message, a channel post, a join request):
            # nothing to do, and an edited command must not run twice.
            log.handled(update.update_id)
            return
        # Telegram re-sends a webhook update it got no 2xx for: one already handled (committed)
        # or being handled is dropped. One whose transaction failed is not marked, so a re-sent
        # copy is handled again.
        if update.update_id in log.seen or update.update_id in log.in_flight:
            return
        log.in_flight.add(update.update_id)
        log.retry.discard(update.update_id)
        svc: Services = self.bot_data[SERVICES]
        svc.telegram_outage.recovered()  # an update came: Telegram is reachable
        with unit_of_work(svc.sender, svc.refresher, svc.wake_at) as work:
            await self._handle_once(update, kind, svc, work)

    async def _handle_once(self, update: Update, kind: str, svc: Services, work: Work) -> None:
        """The update in one transaction, committed unless a handler failed; what it said goes out
        once it committed (`work.committed`, read by the unit of work)."""
        log = self.update_log()
        committed = False
        started = time.perf_counter()
        try:
            # SQLite has one writer: updates take turns for their (short) transaction, whose
            # statements run in the loop (storage/sqlite_driver.py); with PostgreSQL they run side
            # by side. Nothing inside waits for Telegram's send limits.
            with in_the_loop():
                async with svc.update_turn(), svc.sessionmaker() as session:
                    token = current_session.set(session)
                    try:
                        if not await first_handling(session, update.update_id, svc.clock.now()):
                            # Another process (or this one, before a restart) committed it: Telegram
                            # re-sent it, behind a load balancer maybe to us. Nothing is said twice.
                            await session.rollback()
                            log.handled(update.update_id)
                            return
                        await super().process_update(update)
                        if update.update_id in log.failed:
                            await session.rollback()
                        else:
                            await work.write_down(session, svc.clock.now())
                            await session.commit()
                            committed = work.committed = True
                    finally:
                        current_session.reset(token)
        except TRANSIENT as exc:
            log.retry.add(update.update_id)  # the commit itself failed: the database is away
            svc.database_outage.failed(exc)
            if self.updater is None:
                raise  # the webhook answers 500: Telegram sends it again
        finally:
            error = log.failed.pop(update.update_id, None)
            if error is not None and issubclass(error, TRANSIENT):
                log.retry.add(update.update_id)
            if committed:
                svc.metrics.updates.labels(kind).inc()
                svc.metrics.handler_seconds.labels(kind).observe(time.perf_counter() - started)
                log.handled(update.update_id)
                log.tries.pop(update.update_id, None)
                svc.database_outage.recovered()
            elif update.update_id in log.retry and self.updater is not None:
                self._retry_later(update, svc)  # long polling: Telegram will not send it again
            log.in_flight.discard(update.update_id)

    def _retry_later(self, update: Update, svc: Services) -> None:
        """The database was away: handle the update again after the outage's growing wait, so
        that nothing a person did is lost (until MAX_TRIES; then it is logged and dropped)."""
        log = self.update_log()
        tries = log.tries[update.update_id] = log.tries.get(update.update_id, 0) + 1
        if tries > MAX_TRIES:
            logger.error("update %s dropped after %s tries: the database stayed away", update.update_id, MAX_TRIES)
            log.tries.pop(update.update_id, None)
            return
        outage = svc.database_outage
        wait = max(outage.FIRST_WAIT, outage.next_try - time.monotonic())

        def again() -> None:
            self.create_task(self.update_processor.process_update(update, self.process_update(update)))

        asyncio.get_running_loop().call_later(wait, again)

    def needs_retry(self, update_id: int) -> bool:
        """Whether this update failed for a passing reason (the webhook then answers 500)."""
        return update_id in self.update_log().retry

    async def process_error(
        self, update: object | None, error: Exception, job: Any = None, coroutine: Any = None
    ) -> bool:
        if isinstance(update, Update):
            self.update_log().failed[update.update_id] = type(error)
        return await super().process_error(update, error, job, coroutine)

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until every update up to `update_id` has been handled (its transaction done)."""
        processor = self.update_processor
        assert isinstance(processor, ChatOrderedProcessor)
        async with asyncio.timeout(timeout):
            await processor.wait_done(update_id)


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
    card,
    charter,
    facilitators,
    start,
    help,
    privacy,
    meetings,
    date_polls,
    meeting_changes,
    rsvp,
    questions,
    needs,
    proposals,
    follow_up,
    reports,
    evaluation,
    minutes,
    costs,
    reach,
    flyer,
    roster,
    terms,
    other_groups,
    attestation,
    polls,
    priorities,
    closing,
    actions,
    carpool,
    places,
    sms,
    dashboard,
)


def rate_limiter(
    settings: TelegramSection, on_outcome: Callable[[str], None] = lambda outcome: None
) -> PriorityRateLimiter:
    """Evenly paced overall, a budget per group and per private chat, answers to people before
    scheduled waves (bot/outbox/pacing.py); each send's answer counted by `on_outcome`."""
    return PriorityRateLimiter(
        settings.messages_per_second,
        group_per_minute=settings.group_messages_per_minute,
        max_retries=settings.max_retries,
        on_outcome=on_outcome,
        private_burst=settings.private_burst,
        private_per_second=settings.private_messages_per_second,
    )


def build_application(services: Services, with_updater: bool = True) -> Application:
    settings = services.settings
    # python-telegram-bot's own defaults for the two connection pools (sends; long polling).
    limiter = rate_limiter(settings.telegram, services.metrics.count_send)
    if services.engine.dialect.name == "postgresql":  # several processes may share the group budgets
        limiter.shared = SharedGroupBudget(services.engine, settings.telegram.group_messages_per_minute)
    bot = RelaisBot(
        token=settings.require_token(),
        base_url=settings.telegram.api_base_url,
        base_file_url=settings.telegram.api_file_url,
        defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
        request=AiohttpRequest(connection_pool_size=256),  # over aiohttp: a third of httpx's CPU a request
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        rate_limiter=limiter,
        topics=services.topics,
        rights=services.rights,
    )
    builder = (
        ApplicationBuilder()
        .application_class(RelaisApplication)
        .bot(bot)
        .concurrent_updates(ChatOrderedProcessor(settings.telegram.concurrent_updates))
    )
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[SERVICES] = services
    # Handler groups, in the order python-telegram-bot runs them for each update (within a group,
    # the first matching handler wins; every group gets its turn):
    #  -10  presence tracking (handlers/members.py): who is in which group, for every update;
    #   -5  a press on a message without buttons stops here (handlers/errors.py): a replayed one;
    #    0  the features: commands, buttons, membership changes (one module each, FEATURES);
    #    1  the dialogue router (handlers/common/dialogue_router.py): a private message, or a reply in a group,
    #       goes to the dialogue open for that person in that chat, whatever feature owns it;
    #    2  a command typed with an accent (/réunion), which no command matched: how to type it
    #       (handlers/help.py);
    #    0  last, the stale-button answer (handlers/errors.py): buttons no feature claimed.
    for feature in FEATURES:
        feature.register(application)
    application.add_handler(
        MessageHandler(dialogue_router.ANSWERS, dialogue_router.route), group=dialogue_router.HANDLER_GROUP
    )
    errors.register(application)  # last: its button fallback only sees what no feature claimed
    return application
