"""Housekeeping: what is no longer needed is not kept. A job of its own, once an hour in each
process (every step is idempotent, and two processes doing it at once erase nothing twice), apart
from the dispatcher, whose runs only send.

- Drafts nobody finished (dialogues past their expiry).
- Absence reasons, `privacy.reasons_days` after their meeting.
- Dashboard links and sessions that can no longer serve (they point at a person).
- Cost claims older than `costs.keep_months`.
- The ids of handled updates older than a day (Telegram re-sends none older).
- Deliveries sent, skipped or failed more than a month ago (`relais status` reads the recent ones).
- People who left their last group `privacy.retention_months` ago, with what only they owned.
- Terms: members without one get one, when the department sets terms (`membership.term_months`).

It logs counts only, never who."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.domain import dialogues
from bot.domain.costs import forget_old as forget_old_claims
from bot.domain.membership import give_terms
from bot.domain.privacy import forget_old_reasons
from bot.domain.retention import forget_departed
from bot.domain.sms import forget_strangers
from bot.domain.web_access import forget_expired
from bot.outbox.claims import forget_finished_deliveries
from bot.services import Services, services
from storage.db import database_away, forget_handled_updates

log = logging.getLogger(__name__)
JOB_NAME = "relais-housekeeping"
EVERY = timedelta(hours=1)
UPDATES_KEPT = timedelta(days=1)  # Telegram keeps an undelivered update for 24 hours
DELIVERIES_KEPT = timedelta(days=31)


async def housekeep(svc: Services) -> dict[str, int]:
    """One pass, in one transaction; returns how many of each were erased (or terms given)."""
    now, settings = svc.clock.now(), svc.settings
    done: dict[str, int] = {}
    async with svc.sessionmaker.begin() as session:
        done["drafts"] = await dialogues.purge_expired(session, now)
        done["absence_reasons"] = await forget_old_reasons(session, now, settings.privacy.reasons_days)
        await forget_expired(session, now, timedelta(minutes=settings.dashboard.idle_minutes))
        done["cost_claims"] = await forget_old_claims(session, now, settings.costs.keep_months)
        done["handled_updates"] = await forget_handled_updates(session, now - UPDATES_KEPT)
        done["deliveries"] = await forget_finished_deliveries(session, now - DELIVERIES_KEPT)
        done["sms_from_strangers"] = await forget_strangers(session, now)
        coordinators = frozenset(settings.dashboard.coordinators)
        erased = await forget_departed(session, now, settings.privacy.retention_months, coordinators)
        done["people"] = erased.people
        if erased.people:
            log.info(
                "retention: erased people who left %s months ago: %s",
                settings.privacy.retention_months,
                erased.summary(),
            )
        moments = []
        if settings.membership.term_months is not None:
            moments = await give_terms(session, settings.membership.term_months, now)
        done["terms"] = len(moments)
    svc.wake_at(moments)  # the terms' events, once committed
    if any(done.values()):
        log.info("housekeeping: %s", ", ".join(f"{count} {what}" for what, count in done.items() if count))
    return done


async def housekeeping_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    try:
        await housekeep(svc)
    except Exception as exc:
        if not database_away(exc):
            raise
        svc.database_outage.failed(exc)  # logged once; the next hour tries again


def start_housekeeping(application: Application) -> None:
    """Once an hour, the first a minute after start-up."""
    if application.job_queue is not None and services(application).auto_dispatch:
        application.job_queue.run_repeating(housekeeping_job, interval=EVERY.total_seconds(), first=60, name=JOB_NAME)
