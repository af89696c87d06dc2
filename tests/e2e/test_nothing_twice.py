"""Nothing twice, in real time with the default settings: what waits for a group's 20 messages a
minute keeps its claim while it waits, so that no dispatcher run takes it over and sends it again."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.outbox.after_commit import collect, stop_collecting
from bot.outbox.sending import to_group
from bot.simulator.harness import Harness
from jobs.scheduler import dispatch_now
from storage.models import Group, Notice
from tests.conftest import assert_telegram_happy
from tests.support.helpers import group_with_bot

NOTICES = 45  # over two minutes of one group's budget: past the 60 s lease of a notice


async def test_group_notices_behind_the_budget_go_out_once_each(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("minutes of real time: one backend is enough for the claims' logic, shared by both")
    async with Harness(database_url, clock=SystemClock()) as h:  # type: ignore[arg-type]
        chat, _awa, _ = await group_with_bot(h, members=0)
        svc = h.services
        async with svc.sessionmaker.begin() as session:  # what an update that tells the group 45 things does
            group = await session.scalar(select(Group).where(Group.chat_id == chat.id))
            sends, token = collect()
            try:
                for number in range(1, NOTICES + 1):
                    to_group(session, group, f"Avis n°{number}", "test", svc.clock.now())
            finally:
                stop_collecting(token)
        svc.sender.submit(sends)
        started = time.monotonic()
        while time.monotonic() - started < 200:
            await dispatch_now(h.app)  # as the dispatcher job does, every few seconds here
            async with svc.sessionmaker() as session:
                if not await session.scalar(select(func.count()).select_from(Notice)):
                    break
            await asyncio.sleep(5)
        await svc.sender.drain()
        texts = [m.text for m in h.tg.bot_messages(chat.id) if m.text.startswith("Avis n°")]
        assert sorted(texts, key=lambda text: int(text.split("°")[1])) == [f"Avis n°{n}" for n in range(1, NOTICES + 1)]
        assert_telegram_happy(h)
