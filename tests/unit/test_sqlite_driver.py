"""storage/sqlite_driver.py: each statement in one trip to aiosqlite's thread, or none for an
update's; a database another process holds sends an update's statement to the thread, which waits
for the lock without stopping the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine, create_sessionmaker
from storage.sqlite_driver import in_the_loop


class ThreadsSeen:
    """The threads sqlite3 ran statements on (its trace callback runs on the calling thread)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __call__(self, statement: str) -> None:
        if "relais_probe" in statement:
            self.names.add(threading.current_thread().name)


async def probed(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}"
    engine = create_engine(url)
    seen = ThreadsSeen()
    async with engine.begin() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        raw._conn.set_trace_callback(seen)
        await connection.execute(text("CREATE TABLE relais_probe (id INTEGER PRIMARY KEY, note TEXT)"))
    return engine, seen


async def test_an_updates_statements_run_in_the_loop_and_the_others_in_the_thread(tmp_path: Path):
    engine, seen = await probed(tmp_path)
    sessions = create_sessionmaker(engine)
    seen.names.clear()
    with in_the_loop():
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO relais_probe (note) VALUES ('tap')"))
            rows = (await session.execute(text("SELECT note FROM relais_probe"))).scalars().all()
    assert rows == ["tap"] and seen.names == {threading.current_thread().name}
    seen.names.clear()
    async with sessions.begin() as session:  # a dashboard's read, a job: the thread
        assert (await session.execute(text("SELECT count(*) FROM relais_probe"))).scalar() == 1
    assert seen.names and threading.current_thread().name not in seen.names
    await engine.dispose()


async def test_a_busy_database_sends_the_statement_to_the_thread_which_waits_and_the_loop_goes_on(
    tmp_path: Path,
):
    engine, _ = await probed(tmp_path)
    sessions = create_sessionmaker(engine)
    other = sqlite3.connect(tmp_path / "probe.db", isolation_level=None)  # another process, say
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    other.execute("INSERT INTO relais_probe (note) VALUES ('other')")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    release = asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
    started = time.monotonic()
    with in_the_loop():
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO relais_probe (note) VALUES ('tap')"))
    waited = time.monotonic() - started
    ticker.cancel()
    release.cancel()
    other.close()
    assert waited >= 0.35  # it waited for the other's commit, not failed at once
    assert ticks >= 10  # and the loop ran meanwhile (the waiting was the thread's)
    async with sessions() as session:
        notes = (await session.execute(text("SELECT note FROM relais_probe ORDER BY id"))).scalars().all()
    assert notes == ["other", "tap"]
    await engine.dispose()


async def test_a_commit_or_rollback_with_nothing_written_makes_no_trip_to_the_thread(tmp_path: Path):
    engine, _ = await probed(tmp_path)
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        trips = 0
        execute = raw._execute

        async def counted(function, *args, **kwargs):
            nonlocal trips
            trips += 1
            return await execute(function, *args, **kwargs)

        raw._execute = counted
        await session.execute(text("SELECT count(*) FROM relais_probe"))  # a read: no transaction open
        trips = 0
        await session.commit()  # and the pool's reset after it
        assert trips == 0
        await session.execute(text("INSERT INTO relais_probe (note) VALUES ('kept')"))
        trips = 0
        await session.commit()  # something written: the commit goes to the thread
        assert trips == 1
        await session.execute(text("INSERT INTO relais_probe (note) VALUES ('undone')"))
        await session.rollback()
        raw._execute = execute
    async with sessions() as session:
        notes = (await session.execute(text("SELECT note FROM relais_probe"))).scalars().all()
    assert notes == ["kept"]
    await engine.dispose()
