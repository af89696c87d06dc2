"""The refresher plans its runs from what updates ask (`wake_at`): taps within a message's spacing
cost no look at the table, an earlier moment moves the plan, a later one does not, and `wake()`
runs at once. Real time, in tenths of a second: the loop's waits are real ones."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox.refresh import GATHER_SECONDS, Refresher
from storage.db import create_engine, create_sessionmaker


class CountingRefresher(Refresher):
    """Counts the runs that look at the table; no row is due in these tests."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.runs: list[datetime] = []
        self.ran = asyncio.Condition()

    async def run_due(self) -> int:
        self.runs.append(datetime.now(UTC))
        async with self.ran:
            self.ran.notify_all()
        return await super().run_due()


@pytest.fixture
async def refresher(database_url: str):
    engine = create_engine(database_url)
    refresher = CountingRefresher(
        bot=None,  # type: ignore[arg-type] (nothing is due: no edit is made)
        sessionmaker=create_sessionmaker(engine),
        now=lambda: datetime.now(UTC),
        spacing=3.0,
        turn=contextlib.nullcontext,
    )
    refresher.start()
    await runs_reach(refresher, 1)  # its first run, at start: edits asked for before a restart
    yield refresher
    await refresher.stop()
    await engine.dispose()


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def runs_reach(refresher: CountingRefresher, count: int) -> None:
    """Until that many runs (a loaded machine delays them; it never brings them forward)."""
    async with asyncio.timeout(5), refresher.ran:
        await refresher.ran.wait_for(lambda: len(refresher.runs) >= count)
    await asyncio.sleep(GATHER_SECONDS + 0.1)  # and no more right after


async def test_taps_within_the_spacing_look_at_the_table_once_when_the_edit_is_due(refresher):
    due = soon(0.6)
    for _ in range(20):  # twenty taps on the same announcement, its edit due in 0.6 s
        refresher.wake_at(due)
        await asyncio.sleep(0.01)
    assert len(refresher.runs) == 1  # none looked at the table
    await runs_reach(refresher, 2)
    assert len(refresher.runs) == 2
    assert refresher.runs[1] >= due


async def test_an_earlier_moment_moves_the_plan_and_a_later_one_does_not(refresher):
    refresher.wake_at(soon(5))
    early = soon(0.5)
    refresher.wake_at(early)
    refresher.wake_at(soon(3))
    await runs_reach(refresher, 2)
    assert len(refresher.runs) == 2 and early <= refresher.runs[1] < early + timedelta(seconds=2)


async def test_a_moment_already_past_and_wake_run_at_once(refresher):
    refresher.wake_at(soon(-1))
    await runs_reach(refresher, 2)
    assert len(refresher.runs) == 2
    refresher.wake()
    await runs_reach(refresher, 3)
    assert len(refresher.runs) == 3
