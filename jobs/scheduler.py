"""Wiring the dispatcher into python-telegram-bot's JobQueue (APScheduler).

The database holds what is due; the JobQueue only decides when to look. At start-up it gets a
periodic run plus one run at each pending event's due time of the next hour, read from the
database (and again every half hour), so a restart loses nothing and a reminder missed while the
bot was down goes out at the first run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.ext import Application, ContextTypes, JobQueue

from bot.outbox import workers
from bot.outbox.claims import renew_claims
from bot.outbox.dispatch import LEASE, Dispatcher, DispatchReport, pending_events_due, run_dispatch
from bot.outbox.mail import MailServer
from bot.outbox.outgoing import OutboxSettings
from bot.outbox.pacing import PriorityRateLimiter
from bot.services import Services, fetch_admin_ids, fetch_anonymous_admin_ids, services
from storage.db import database_away

log = logging.getLogger(__name__)
JOB_NAME = "relais-dispatch"
DISPATCHER = "relais.dispatcher"  # in bot_data: what a run needs, made once by start_dispatcher
# Runs that find a wave going out return at once; allowing a few instances keeps APScheduler from
# logging a "skipped" warning every interval during a long wave.
JOB_KWARGS = {"max_instances": 3, "coalesce": True}


def dispatcher(svc: Services, bot: Bot, on_wave: Callable[[], Awaitable[object]] | None = None) -> Dispatcher:
    """The outbox's view of this process: its database, clock, settings and Telegram admins."""

    async def admins(chat_id: int) -> frozenset[int]:
        return await fetch_admin_ids(bot, svc, chat_id)

    async def anonymous(chat_id: int) -> frozenset[int]:
        return await fetch_anonymous_admin_ids(bot, svc, chat_id)

    settings = svc.settings
    outbox = OutboxSettings(
        settings.meetings,
        settings.proposals,
        admins,
        svc.bot_username,
        svc.link_secret,
        settings.membership,
        anonymous,
        sms=settings.sms.enabled,
        sms_monthly_limit=settings.sms.monthly_limit,
        mail=settings.mail.enabled,
        dashboard_url=svc.dashboard_url,
        coordinators=settings.dashboard.coordinators,
    )
    mail = settings.mail
    server = (
        MailServer(
            mail.host,
            mail.port,
            mail.security,
            mail.username,
            mail.password.get_secret_value(),
            mail.sender,
            mail.timeout_seconds,
        )
        if mail.enabled
        else None
    )
    return Dispatcher(
        sessionmaker=svc.sessionmaker,
        now=svc.clock.now,
        lock=svc.dispatch_lock,
        outbox=outbox,
        max_attempts=settings.meetings.max_attempts,
        batch_size=settings.meetings.send_concurrency,
        on_wave=on_wave,
        sender=svc.sender,
        radius_km=settings.carpool.radius_km,
        sms=svc.sms,
        mail=server,
    )


async def dispatch_now(application: Application) -> DispatchReport:
    """Run the dispatcher once (the job, the demo and the tests call this), as `start_dispatcher`
    made it for this process."""
    run: Dispatcher = application.bot_data[DISPATCHER]
    return await run_dispatch(run, application.bot)


async def dispatch_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    if svc.dispatch_lock.locked():
        return  # a wave is going out; this run has nothing to add
    outage = svc.database_outage
    if not outage.may_try():
        return  # the database was away a moment ago: the next try waits a little longer
    try:
        await dispatch_now(context.application)
    except Exception as exc:
        if not database_away(exc):
            raise
        outage.failed(exc)  # logged once per outage; what is due stays in the database
        return
    outage.recovered()


async def share_rate(application: Application) -> int:
    """This process is alive; it sends at its share of the rate among those sending (how many)."""
    svc = services(application)
    if svc.engine.dialect.name == "sqlite":
        return 1  # one process per SQLite file (bot/process_lock.py): nobody to share with
    async with svc.sessionmaker.begin() as session:
        alive = await workers.heartbeat(session, svc.worker_name, svc.clock.now(), svc.dispatch_lock.locked())
    limiter = getattr(application.bot, "rate_limiter", None)
    if isinstance(limiter, PriorityRateLimiter):
        limiter.set_share(alive)
    return alive


async def _through_outage(svc: Services, work: Awaitable[object]) -> None:
    """A small periodic job: a database away for a moment is counted and logged once by the
    outage; the job simply tries again at its next run."""
    try:
        await work
    except Exception as exc:
        if not database_away(exc):
            raise
        svc.database_outage.failed(exc)


async def heartbeat_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    # The share stays as it was while the database is away.
    await _through_outage(services(context), share_rate(context.application))


async def _renew(svc: Services) -> None:
    async with svc.sessionmaker.begin() as session:
        await renew_claims(session, svc.clock.now(), LEASE)


async def renew_leases(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The claims of the sends this process has in hand stay its own while they wait (a
    dispatcher run may wait minutes on Telegram's 429s; this job is not held up by it)."""
    svc = services(context)
    await _through_outage(svc, _renew(svc))


async def leave(application: Application) -> None:
    """A process that stops: the others take its share at their next heartbeat."""
    svc = services(application)
    with contextlib.suppress(Exception):  # the database may be away at shutdown: the row then expires
        async with svc.sessionmaker.begin() as session:
            await workers.leave(session, svc.worker_name)


# The job queue holds one job per moment planned, in memory. Planned without limit, a
# department's months of future reminders and follow-ups would all sit there (a soak found the
# jobs growing by about forty a minute), and every call planned its moments again. So: each
# moment once, and only those of the next hour; the rest are planned from the database every
# half hour (and the periodic run looks anyway).
HORIZON = timedelta(hours=1)
WAKE_UPS = "relais.wake_ups"  # in bot_data: this process's WakeUps


class WakeUps:
    def __init__(self, job_queue: JobQueue, svc: Services) -> None:
        self.job_queue, self.svc = job_queue, svc
        self.planned: set[datetime] = set()

    def plan(self, moments: Iterable[datetime]) -> None:
        """One run at each moment of the next hour not planned yet (a moment already past runs
        at once)."""
        now = self.svc.clock.now()
        self.planned = {moment for moment in self.planned if moment > now}  # those passed have run
        for moment in sorted(set(moments)):
            if moment not in self.planned and moment < now + HORIZON:
                self.planned.add(moment)
                self.job_queue.run_once(dispatch_job, when=moment, name=JOB_NAME, job_kwargs=JOB_KWARGS)

    async def plan_from_database(self) -> int:
        """The pending events' moments of the next hour, from the database (start-up, and every
        half hour); returns how many there are."""
        moments = await pending_events_due(self.svc.sessionmaker, before=self.svc.clock.now() + HORIZON)
        self.plan(moments)
        return len(moments)


async def plan_next_hour(context: ContextTypes.DEFAULT_TYPE) -> None:
    wake_ups: WakeUps = context.application.bot_data[WAKE_UPS]
    svc = services(context)
    await _through_outage(svc, wake_ups.plan_from_database())  # away a moment: the periodic run looks


async def start_dispatcher(application: Application) -> int:
    """The process's dispatcher (what a run needs, made once), its periodic run plus one job per
    distinct pending due time of the next hour; returns how many there are."""
    svc = services(application)
    application.bot_data[DISPATCHER] = dispatcher(svc, application.bot, on_wave=lambda: share_rate(application))
    if not svc.auto_dispatch or application.job_queue is None:
        return 0
    interval = svc.settings.meetings.dispatch_interval_seconds
    job_queue = application.job_queue
    wake_ups = application.bot_data[WAKE_UPS] = WakeUps(job_queue, svc)
    svc.wake_at = wake_ups.plan
    application.job_queue.run_repeating(dispatch_job, interval=interval, first=1, name=JOB_NAME, job_kwargs=JOB_KWARGS)
    lease_every = (LEASE / 4).total_seconds()
    application.job_queue.run_repeating(renew_leases, interval=lease_every, first=lease_every, name="relais-leases")
    if svc.engine.dialect.name == "postgresql":  # several processes may share the database
        await share_rate(application)  # before the first wave: the others may be sending already
        every = workers.HEARTBEAT_EVERY.total_seconds()
        application.job_queue.run_repeating(heartbeat_job, interval=every, first=every, name="relais-heartbeat")
    every_half_hour = (HORIZON / 2).total_seconds()
    job_queue.run_repeating(plan_next_hour, interval=every_half_hour, first=every_half_hour, name="relais-plan")
    return await wake_ups.plan_from_database()
