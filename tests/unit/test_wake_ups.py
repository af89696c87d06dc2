"""The dispatcher's wake-ups: each moment once, only those of the next hour (the job queue holds
them in memory); the later ones come from the database when their hour comes."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from bot.clock import FakeClock
from bot.outbox.claims import pending_due_times
from jobs.scheduler import HORIZON, WakeUps
from storage.db import create_engine, create_sessionmaker
from tests.support.world import NOW as WORLD_NOW
from tests.support.world import make_group, make_meeting

NOW = WORLD_NOW


class JobQueueSpy:
    def __init__(self) -> None:
        self.planned: list[datetime] = []

    def run_once(self, callback, when, **kwargs) -> None:
        self.planned.append(when)


def wake_ups(sessionmaker=None) -> tuple[WakeUps, JobQueueSpy, FakeClock]:
    clock = FakeClock(NOW)
    queue = JobQueueSpy()
    return WakeUps(queue, SimpleNamespace(clock=clock, sessionmaker=sessionmaker)), queue, clock  # type: ignore[arg-type]


def test_each_moment_of_the_next_hour_once():
    plan, queue, clock = wake_ups()
    soon, later, tomorrow = NOW + timedelta(minutes=5), NOW + timedelta(minutes=50), NOW + timedelta(days=1)
    plan.plan([soon, soon, later, tomorrow])
    plan.plan([soon, later])  # asked again by another update: nothing more
    assert queue.planned == [soon, later]
    past = NOW - timedelta(seconds=1)
    plan.plan([past])  # a moment already past runs at once
    assert queue.planned[-1] == past
    clock.set(NOW + timedelta(minutes=10))  # the first has run: asked again, it is planned again
    plan.plan([soon])
    assert queue.planned.count(soon) == 2
    assert past not in plan.planned  # moments gone by are not remembered for ever


async def test_the_later_moments_come_from_the_database_when_their_hour_comes(database_url):
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions.begin() as session:
        group = await make_group(session)
        await make_meeting(session, group)  # its reminders and follow-ups, days and weeks ahead
    plan, queue, clock = wake_ups(sessions)
    try:
        assert await plan.plan_from_database() == 0 and queue.planned == []
        async with sessions() as session:
            first = (await pending_due_times(session))[0]
        clock.set(first - HORIZON + timedelta(minutes=1))  # its hour has come
        assert await plan.plan_from_database() == 1
        assert queue.planned == [first]
    finally:
        await engine.dispose()
