"""Housekeeping is a job of its own (jobs/housekeeping.py): the dispatcher only sends, and once an
hour the job erases what is no longer needed, counting, never naming."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import func, select

from jobs.housekeeping import JOB_NAME, housekeeping_job, start_housekeeping
from storage.models import Delivery, DialogueState, HandledUpdate, Rsvp
from tests.support.helpers import group_with_bot

J7 = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)


async def count(h, model, *where) -> int:
    async with h.services.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_the_dispatcher_sends_and_the_housekeeping_job_erases(relais):
    chat, awa, (karim, sami) = await group_with_bot(relais)
    tg = relais.tg
    for person in (karim, sami):
        tg.start_private(person)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    tg.press(sami, tg.bot_messages(chat.id)[-1], "Je ne peux pas")
    await relais.settle()
    tg.press(sami, tg.bot_messages(sami.id)[-1], "Transport")
    tg.say(chat, awa, "/configurer")  # a draft nobody finishes
    await relais.settle()
    relais.clock.set(J7)
    await relais.run_jobs()  # the week-before reminders: deliveries sent
    relais.clock.set(datetime(2026, 12, 20, 9, 0, tzinfo=UTC))  # 38 days after the meeting
    await relais.run_jobs()
    month_old = (Delivery.status == "sent", Delivery.sent_at < datetime(2026, 11, 19, tzinfo=UTC))
    assert await count(relais, Delivery, *month_old) > 0
    # The dispatcher only sends: nothing was erased by its run.
    assert await count(relais, Rsvp, Rsvp.reason.is_not(None)) == 1
    assert await count(relais, DialogueState) == 1
    assert await count(relais, HandledUpdate) > 0
    # The job (as the JobQueue calls it) erases, and says how many of each.
    await housekeeping_job(SimpleNamespace(application=relais.app))
    assert await count(relais, Rsvp, Rsvp.reason.is_not(None)) == 0
    assert await count(relais, DialogueState) == 0
    assert await count(relais, HandledUpdate) == 0
    assert await count(relais, Delivery, *month_old) == 0
    assert await count(relais, Rsvp) == 1  # the answer stays, its reason is gone
    # Run again: nothing left to do.
    assert set((await relais.housekeep()).values()) == {0}


async def test_the_job_runs_hourly_in_each_process(relais):
    svc = relais.services
    svc.auto_dispatch = True  # as in production (the tests run jobs at chosen moments)
    try:
        start_housekeeping(relais.app)
        [job] = relais.app.job_queue.get_jobs_by_name(JOB_NAME)
        assert job.trigger.interval.total_seconds() == 3600
        job.schedule_removal()
    finally:
        svc.auto_dispatch = False


async def test_the_members_of_a_group_that_removed_the_bot_are_erased_a_year_later(relais):
    from storage.models import Person

    chat, awa, (karim, _) = await group_with_bot(relais)
    relais.tg.remove_bot(chat, awa)
    await relais.settle()
    relais.clock.set(datetime(2027, 10, 1, 9, 0, tzinfo=UTC))  # eleven months after
    await relais.housekeep()
    assert await count(relais, Person, Person.telegram_id == karim.id) == 1
    relais.clock.set(datetime(2027, 11, 15, 9, 0, tzinfo=UTC))  # a year and more
    done = await relais.housekeep()
    assert await count(relais, Person, Person.telegram_id == karim.id) == 0 and done["people"] >= 2
