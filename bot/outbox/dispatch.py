"""The dispatcher: turns due events into deliveries and sends them.

Each run: one transaction expands due events; then, batch by batch, one transaction claims and
renders deliveries, they are sent concurrently through the rate limiter (two batches in flight),
and one transaction records the outcomes. A crash between claim and record re-sends at most the
batches in flight. Then what was left behind: seats held by drivers Telegram cannot reach are
offered again, and notices or answers a process wrote but did not send (it died after the commit,
or Telegram was down) are claimed and handed to this process's sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, Message, ReplyParameters
from telegram.error import BadRequest, TelegramError

from bot.domain import sms
from bot.domain.groups import deactivate_group, migrate_group
from bot.domain.people import mark_unreachable
from bot.domain.polls import EVALUATION_OPEN
from bot.outbox.after_commit import ChatSender, UpdateSends
from bot.outbox.answers import Outcome, classify
from bot.outbox.claims import WORKER_ID, claim_deliveries, finish, pending_due_times
from bot.outbox.kinds import RegistryError, expand_due_events, record_sent, render_delivery
from bot.outbox.mail import MailServer, send_due_mails
from bot.outbox.outgoing import OutboxSettings, Outgoing
from bot.outbox.pacing import WAVE, send_priority
from bot.outbox.render import SMS_SPENT
from bot.outbox.ride_changes import pass_on_unreachable
from bot.outbox.sending import stale_notices
from bot.outbox.sms_gateway import SmsGateway, SmsRefusedError
from storage.db import database_away
from storage.models import Delivery, Group

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
IN_FLIGHT = 2  # batches being sent at once
RECORD_EVERY = 10  # outcomes recorded together (a commit about three times a second in a wave)
RECORD_WAITS = (0.5, 1, 2, 4, 8, 16, None)  # about 31 s in all: half the lease
EXPAND_SLICE = 200  # due events turned into deliveries per transaction
SMS_AT_ONCE = 5000  # SMS claimed by one run (their claims are renewed while they wait their turn)


@dataclass
class Dispatcher:
    """What a dispatcher run needs from the process (jobs/scheduler.py builds it from Services)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    now: Callable[[], datetime]
    lock: asyncio.Lock
    outbox: OutboxSettings
    max_attempts: int
    batch_size: int
    # Called once a run has messages in hand, before it sends them: the process tells the others
    # it is sending, so that they share the rate at once rather than at the next heartbeat.
    on_wave: Callable[[], Awaitable[object]] | None = None
    sender: ChatSender | None = None  # sends the notices and answers left behind (none: not resent)
    radius_km: float = 0.0  # the carpool's radius, for seats offered again
    sms: SmsGateway | None = None  # sends the deliveries that go by SMS (none: SMS are off)
    # SMS go at the gateway's pace, a few a minute: sent apart, so that a wave of SMS holds up
    # neither Telegram's messages nor the next runs (their claims are renewed like any other).
    sms_sends: set[asyncio.Task[None]] = field(default_factory=set)
    mail: MailServer | None = None  # sends the mails due (none: mail is off)

    async def sms_idle(self) -> None:
        """Wait until the SMS handed to the gateway are sent and recorded (tests, the demo)."""
        while self.sms_sends:
            await asyncio.gather(*list(self.sms_sends), return_exceptions=True)


@dataclass
class DispatchReport:
    events: int = 0
    mailed: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    resent: int = 0  # notices and answers left behind, handed to the sender
    kinds: dict[str, int] = field(default_factory=dict)


async def _send(bot: Bot, out: Outgoing) -> Message:
    if out.stop_poll_message_id is not None:
        try:
            await bot.stop_poll(out.chat_id, out.stop_poll_message_id)
        except BadRequest:
            pass  # already closed (a retry after a crash) or deleted: the summary still goes out
    if out.poll is not None:
        return await bot.send_poll(
            out.chat_id,
            out.poll["question"],
            out.poll["options"],
            is_anonymous=True,
            open_period=int(EVALUATION_OPEN.total_seconds()),
        )
    reply = ReplyParameters(out.reply_to, allow_sending_without_reply=True) if out.reply_to else None
    if out.document_id is not None:
        sent = await bot.send_document(out.chat_id, out.document_id, caption=out.text or None, reply_markup=out.markup)
    else:
        sent = await bot.send_message(out.chat_id, out.text, reply_markup=out.markup, reply_parameters=reply)
    if out.pin:
        await _pin(bot, sent)
    return sent


async def _pin(bot: Bot, message: Message) -> None:
    """Pin a message the group should keep at hand, when the bot is allowed to (an administrator
    with the right to pin); otherwise it stays an ordinary message."""
    try:
        member = await bot.get_chat_member(message.chat_id, bot.id)
        if getattr(member, "can_pin_messages", False):
            await bot.pin_chat_message(message.chat_id, message.message_id, disable_notification=True)
    except TelegramError as exc:  # the message is out: a pin that fails must not send it again
        log.warning("could not pin message %s: %s", message.message_id, exc.__class__.__name__)


async def _deliver(bot: Bot, out: Outgoing) -> tuple[str, Any]:
    """Send, and say what Telegram's answer means (bot/outbox/answers.py); never raises."""
    migrated = False
    while True:
        try:
            sent = await _send(bot, out)
        except Exception as exc:
            answer = classify(exc)
            if answer.outcome is Outcome.REFUSED and not isinstance(exc, TelegramError):
                log.exception("delivery %s failed unexpectedly", out.delivery_id)
        else:
            return ("migrated" if migrated else "sent"), sent
        if answer.outcome is Outcome.MIGRATED and answer.migrated_to is not None and not migrated:
            out.chat_id, migrated = answer.migrated_to, True  # followed: sent again in the supergroup
            continue
        if answer.outcome is Outcome.BLOCKED:
            return "forbidden", None
        if answer.outcome is Outcome.RATE_LIMITED:
            return "retry_after", answer.retry_after
        if answer.outcome is Outcome.TEMPORARY:
            return "network", answer.detail
        return "bad_request", answer.detail


async def _deliver_sms(gateway: SmsGateway | None, out: Outgoing) -> tuple[str, Any]:
    """An SMS, through the gateway; never raises. Its key is the delivery's: sent again after a
    crash, the gateway sees the same message."""
    if gateway is None or out.sms_to is None:
        return "bad_request", "sms off"
    try:
        again = out.attempts > 1  # an earlier attempt may have reached the gateway
        return "sent", await gateway.send(out.sms_to, out.text, f"relais-{out.delivery_id}", again)
    except SmsRefusedError as exc:
        return ("network" if exc.temporary else "bad_request"), str(exc)
    except Exception:
        log.exception("sms delivery %s failed unexpectedly", out.delivery_id)
        return "network", "unexpected"


async def _deliver_one(run: Dispatcher, bot: Bot, out: Outgoing) -> tuple[Outgoing, str, Any]:
    if out.sms_to is not None:
        outcome, value = await _deliver_sms(run.sms, out)
    else:
        outcome, value = await _deliver(bot, out)
    return out, outcome, value


async def _send_batch(run: Dispatcher, bot: Bot, batch: list[Outgoing], report: DispatchReport) -> None:
    """Send a batch and record the outcomes in small slices as they come: what Telegram accepted
    is marked within a moment, so a process that dies re-sends only the few in that moment."""
    done: list[tuple[Outgoing, str, Any]] = []
    # Tasks made in the batch's order start in that order (as_completed alone would not keep it).
    sends = [asyncio.create_task(_deliver_one(run, bot, out)) for out in batch]
    for finished in asyncio.as_completed(sends):
        done.append(await finished)
        if len(done) >= RECORD_EVERY:
            await _record_surely(run, done, report)
            done = []
    if done:
        await _record_surely(run, done, report)


async def _record_surely(run: Dispatcher, results: list[tuple[Outgoing, str, Any]], report: DispatchReport) -> None:
    """Record, waiting out a database that is away for a moment (restarted, locked): these
    messages are out, and unrecorded they would go again once their claim expires. Waits up to
    about half the claim's lease, then gives up (the claim then expires: sent again, never lost)."""
    for wait in RECORD_WAITS:
        try:
            await _record(run, results, report)
            return
        except Exception as exc:
            if not database_away(exc) or wait is None:
                raise
            log.warning("recording %s sends waits for the database (%s)", len(results), exc.__class__.__name__)
            await asyncio.sleep(wait)


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def _record(run: Dispatcher, results: list[tuple[Outgoing, str, Any]], report: DispatchReport) -> None:
    now = run.now()
    async with run.sessionmaker.begin() as session:
        for out, outcome, value in results:
            if outcome in ("sent", "migrated"):
                if outcome == "migrated":
                    group = await session.get(Group, out.group_id)
                    if group is not None:
                        await migrate_group(session, group.chat_id, out.chat_id)
                await record_sent(session, out, value, now)  # the kind's own record (kinds.AFTER_SENT)
                await finish(session, out.delivery_id, "sent", now)
                report.sent += 1
                report.kinds[out.kind] = report.kinds.get(out.kind, 0) + 1
            elif outcome == "forbidden":
                if out.person_telegram_id is not None:
                    await mark_unreachable(session, out.person_telegram_id, now)
                else:
                    await deactivate_group(session, out.chat_id, now)
                await finish(session, out.delivery_id, "skipped", now, "forbidden")
                report.skipped += 1
            elif outcome == "retry_after":
                await finish(
                    session, out.delivery_id, "pending", now, "flood", now + timedelta(seconds=_seconds(value))
                )
                report.retried += 1
            elif outcome == "network" and out.attempts < run.max_attempts:
                backoff = timedelta(seconds=min(600, 5 * 2 ** (out.attempts - 1)))
                await finish(session, out.delivery_id, "pending", now, value, now + backoff)
                report.retried += 1
            else:
                log.warning("delivery %s failed for good: %s", out.delivery_id, value)
                await finish(session, out.delivery_id, "failed", now, str(value)[:64])
                report.failed += 1


async def run_dispatch(run: Dispatcher, bot: Bot, max_batches: int | None = None) -> DispatchReport:
    """Handle everything due now."""
    report = DispatchReport()
    # Scheduled sends give way to answers to people (bot/outbox/pacing.py).
    priority = send_priority.set(WAVE)
    try:
        await _run(run, bot, report, max_batches)
    finally:
        send_priority.reset(priority)
    await _left_behind(run, report)
    if run.mail is not None:
        report.mailed = await send_due_mails(run.sessionmaker, run.mail, run.now())
    if report.sent or report.failed or report.resent:
        log.info(
            "dispatch: %s events, %s sent, %s skipped, %s retried, %s failed, %s left behind resent",
            report.events,
            report.sent,
            report.skipped,
            report.retried,
            report.failed,
            report.resent,
        )
    return report


async def _left_behind(run: Dispatcher, report: DispatchReport) -> None:
    """Seats held by drivers Telegram cannot reach go to others; notices and answers a process
    wrote but did not send are claimed here and handed to this process's sender."""
    async with run.sessionmaker.begin() as session:
        await pass_on_unreachable(session, run.now(), run.radius_km)
    if run.sender is None:
        return
    async with run.sessionmaker.begin() as session:
        sends = await stale_notices(session, run.now())
    if sends:
        report.resent = len(sends)
        run.sender.submit(UpdateSends(sends))


class _Expander:
    """Turns the due events into deliveries, a slice per transaction, while the first slices'
    messages go out: a wave of a thousand groups keeps both channels busy from the start (its
    SMS are all claimed within seconds, not group by group as Telegram's batches empty)."""

    def __init__(self, run: Dispatcher, bot: Bot, report: DispatchReport) -> None:
        self.run, self.bot, self.report = run, bot, report
        self.slices = 0  # slices written so far
        self.finished = False
        self._changed = asyncio.Event()

    async def step(self) -> bool:
        """One slice; False once no event is due."""
        async with self.run.sessionmaker.begin() as session:
            handled = await expand_due_events(session, self.run.now(), self.run.outbox, EXPAND_SLICE)
        self.report.events += handled
        if handled:
            await _claim_texts(self.run, self.bot, self.report)
        self.slices += 1
        self._changed.set()
        return handled == EXPAND_SLICE

    async def rest(self) -> None:
        try:
            while await self.step():  # each slice awaits the database: the sends go on meanwhile
                pass
        finally:
            self.finished = True
            self._changed.set()

    async def more_since(self, slices: int) -> None:
        """Wait until a slice after the `slices`-th is written, or the expansion is over."""
        while self.slices == slices and not self.finished:
            self._changed.clear()
            await self._changed.wait()


async def _run(run: Dispatcher, bot: Bot, report: DispatchReport, max_batches: int | None) -> None:
    async with run.lock:
        expander = _Expander(run, bot, report)
        expanding = asyncio.create_task(expander.rest()) if await expander.step() else None
        if expanding is None:
            expander.finished = True
        in_flight: deque[asyncio.Task[None]] = deque()
        try:
            await _claim_and_send(run, bot, report, max_batches, in_flight, expander)
        finally:  # a batch that failed (the database stayed away): the others finish first
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            if expanding is not None:
                if not expanding.done():
                    expanding.cancel()  # the sending stopped early (max_batches, an error)
                with contextlib.suppress(asyncio.CancelledError):
                    await expanding  # its error, if any, is this run's


async def _claim_texts(run: Dispatcher, bot: Bot, report: DispatchReport) -> None:
    """Every SMS due, claimed at once and handed to the gateway's own pace, apart from
    Telegram's batches: neither channel waits for the other."""
    if run.sms is None:
        return
    async with run.sessionmaker.begin() as session:
        now = run.now()
        # The month's SMS so far, those in flight included, counted before this claim: its
        # rendering then spends what is left of the monthly limit, and no more.
        session.info[SMS_SPENT] = {(now.year, now.month): await sms.sent_this_month(session, now, in_flight=True)}
        claimed = await claim_deliveries(session, now, SMS_AT_ONCE, LEASE, WORKER_ID, by_sms=True)
        texts = await _rendered(session, claimed, run, report)
    if texts:
        sending = asyncio.create_task(_send_batch(run, bot, texts, report))
        run.sms_sends.add(sending)
        sending.add_done_callback(run.sms_sends.discard)


async def _rendered(
    session: AsyncSession, claimed: list[Delivery], run: Dispatcher, report: DispatchReport
) -> list[Outgoing]:
    rendered: list[Outgoing] = []
    for delivery in claimed:
        try:
            out = await render_delivery(session, delivery, run.outbox)
        except RegistryError as exc:
            log.error("delivery %s: %s", delivery.id, exc)
            delivery.status, delivery.error = "failed", "unknown kind"
            report.failed += 1
            continue
        if out is None:
            delivery.status, delivery.error = "skipped", "not needed"
            report.skipped += 1
        else:
            rendered.append(out)
    return rendered


async def _claim_and_send(
    run: Dispatcher,
    bot: Bot,
    report: DispatchReport,
    max_batches: int | None,
    in_flight: deque[asyncio.Task[None]],
    expander: _Expander,
) -> None:
    await _claim_texts(run, bot, report)  # those due before this run (retries, left behind)
    by_sms = False if run.sms is not None else None  # SMS off: any left are claimed here, and fail
    batches = 0
    while max_batches is None or batches < max_batches:
        slices = expander.slices
        # Claim and render the next batch while the previous ones are being sent, and keep
        # two in flight: the rate limiter always has the next messages waiting, even when a
        # batch ends with a slow send or replies to people take some of the slots.
        async with run.sessionmaker.begin() as session:
            claimed = await claim_deliveries(session, run.now(), run.batch_size, LEASE, WORKER_ID, by_sms)
            rendered = await _rendered(session, claimed, run, report)
        if claimed and not batches and run.on_wave is not None:
            await run.on_wave()
        if len(in_flight) >= IN_FLIGHT or (not claimed and in_flight):
            await in_flight.popleft()
        if not claimed:
            if expander.finished and expander.slices == slices:
                break
            await expander.more_since(slices)  # the next slice of events is being written
            continue
        batches += 1
        in_flight.append(asyncio.create_task(_send_batch(run, bot, rendered, report)))
    while in_flight:
        await in_flight.popleft()


async def pending_events_due(
    sessionmaker: async_sessionmaker[AsyncSession], before: datetime | None = None
) -> list[datetime]:
    async with sessionmaker() as session:
        return await pending_due_times(session, before=before)
