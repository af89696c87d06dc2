"""A warning told once (bot/domain/groups.py, warn_once): two refusals at the same moment, each in
its own transaction (the sender's and the refresher's), mark it once, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.groups import warn_once
from storage.db import create_engine, create_sessionmaker
from tests.support.world import NOW, make_group


async def test_two_refusals_at_the_same_moment_tell_the_facilitators_once(database_url: str):
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions.begin() as session:
        await make_group(session, chat_id=-42)
    first_marked = asyncio.Event()

    async def refusal(wait_for_the_other: bool) -> bool:
        async with sessions.begin() as session:
            if wait_for_the_other:
                await first_marked.wait()  # the other has marked it, not yet committed
            group = await warn_once(session, -42, "rights_warned_at", NOW)
            if not wait_for_the_other:
                first_marked.set()
                await asyncio.sleep(0.2)  # its transaction still open while the other tries
            return group is not None

    told = await asyncio.gather(refusal(False), refusal(True))
    assert told == [True, False]
    async with sessions() as session:  # a later refusal, another day: still told once
        assert await warn_once(session, -42, "rights_warned_at", NOW + timedelta(days=1)) is None
        assert await warn_once(session, -42, "topic_warned_at", NOW) is not None  # another warning
    await engine.dispose()
