"""Several Relais processes on one database, in webhook mode behind a load balancer: whichever
process receives an update handles it, a copy Telegram re-sends to another process is dropped,
a dialogue begun on one process goes on on the other, a reminder wave run by both at once
sends each message once, their sends to one group keep together to its 20 a minute, and taps
reaching both keep one announcement's counts right with coalesced edits. PostgreSQL only: that
is how Relais runs on several processes."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

from bot.outbox.after_commit import collect, stop_collecting
from bot.outbox.pacing import PriorityRateLimiter
from bot.outbox.sending import to_group
from bot.outbox.workers import ALIVE_WITHIN
from bot.runtime import Relais
from bot.simulator.harness import Harness
from jobs.scheduler import dispatch_now, leave, share_rate
from storage.models import Group
from tests.conftest import assert_telegram_happy
from tests.e2e.test_reminders import J7, setup_meeting
from tests.e2e.test_webhook import private_command
from tests.support.helpers import group_with_bot, load_group

SECRET = "test-secret_12345"


@pytest.fixture
async def pair(database_url, clock) -> AsyncIterator[tuple[Harness, Relais]]:
    """Process A (the harness's) and process B on the same database and Telegram. Several
    processes need PostgreSQL: a second one on a SQLite file is refused (test_startup_failures)."""
    if database_url.startswith("sqlite"):
        pytest.skip("several processes share a PostgreSQL database, not a SQLite file")
    async with Harness(database_url, clock=clock, webhook=True) as h:
        other = Relais(h.settings(), clock=clock, auto_dispatch=False)  # its own port
        await other.start()
        h.tg.webhook_url = h.relais.settings.webhook.url  # B's start registered B: the balancer decides
        try:
            yield h, other
            await settle(h, other)
            assert_telegram_happy(h)
        finally:
            await other.stop()


async def settle(h: Harness, other: Relais) -> None:
    """Both processes are done: every posted update answered (the webhook answers after the
    commit), then what each said is out."""
    await h.tg.webhook_idle()
    for relais in (h.relais, other):
        assert relais is not None and relais.services is not None and relais.services.sender is not None
        await relais.services.sender.drain()


def to(h: Harness, relais: Relais) -> None:
    """The load balancer sends what comes next to this process."""
    h.tg.webhook_url = relais.settings.webhook.url


async def post(relais: Relais, update: dict) -> int:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = relais.settings.webhook.url
    async with aiohttp.ClientSession() as session, session.post(url, data=json.dumps(update), headers=headers) as r:
        return r.status


def answers_to(h: Harness, chat_id: int) -> int:
    return sum(1 for method, params in h.tg.calls if method == "sendMessage" and params.get("chat_id") == chat_id)


async def test_an_update_redelivered_to_another_process_is_handled_once(pair):
    h, other = pair
    update = private_command(700001, 41, "Inès", "/aide")
    # The same update reaches both processes at once (Telegram re-sent it; the balancer split).
    assert await asyncio.gather(post(h.relais, update), post(other, update)) == [200, 200]
    await settle(h, other)
    assert answers_to(h, 41) == 1
    # Again later, to each: both drop it (neither process remembers it in memory for the other).
    for relais in (other, h.relais):
        assert await post(relais, update) == 200
    await settle(h, other)
    assert answers_to(h, 41) == 1
    # A new update is handled by whichever process gets it.
    assert await post(other, private_command(700002, 41, "Inès", "/aide")) == 200
    await settle(h, other)
    assert answers_to(h, 41) == 2


async def test_a_dialogue_goes_on_on_another_process(pair):
    h, other = pair
    tg = h.tg
    to(h, h.relais)
    awa = tg.user("Awa", "awa_anim")
    chat = tg.group("Groupe ressources Oyonnax", creator=awa)
    tg.add_bot(chat, awa)
    tg.say(chat, awa, "/configurer")
    await settle(h, other)
    to(h, other)  # the answer reaches the other process, which finds the dialogue in the database
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Groupe des deux processus")
    await settle(h, other)
    to(h, h.relais)
    tg.press(awa, tg.bot_messages(chat.id)[-1], "Métropole")
    await settle(h, other)
    to(h, other)
    tg.press(awa, tg.bot_messages(chat.id)[-1], "Enregistrer")
    await settle(h, other)
    group = await load_group(h, chat.id)
    assert group.name == "Groupe des deux processus" and group.timezone == "Europe/Paris"


async def test_two_processes_share_a_wave_and_send_each_message_once(pair):
    h, other = pair
    to(h, h.relais)
    chat, awa, karim, julie, sami, lina = await setup_meeting(h)
    before = Counter(params["chat_id"] for method, params in h.tg.calls if method == "sendMessage")
    h.clock.set(J7)
    assert other.application is not None
    reports = await asyncio.gather(dispatch_now(h.app), dispatch_now(other.application))
    await settle(h, other)
    after = Counter(params["chat_id"] for method, params in h.tg.calls if method == "sendMessage")
    wave = after - before
    # The J-7 reminder: once in the group, once to each member who started the bot and did not decline.
    assert wave[chat.id] >= 1 and wave[karim.id] == 1 and wave[julie.id] == 1
    assert sum(report.sent for report in reports) == sum(wave.values())
    reminders = [
        params for method, params in h.tg.calls if method == "sendMessage" and "Rappel" in str(params.get("text", ""))
    ]
    assert len(reminders) == len({(params["chat_id"], params["text"]) for params in reminders})


async def test_two_processes_share_telegrams_rate_and_one_that_stops_gives_its_share_back(pair):
    h, other = pair
    assert other.application is not None and other.services is not None and h.services is not None
    per_second = h.relais.settings.telegram.messages_per_second

    def interval(application) -> float:
        limiter = application.bot.rate_limiter
        assert isinstance(limiter, PriorityRateLimiter) and limiter._pacer is not None
        return limiter._pacer.interval

    assert await share_rate(h.app) == 1  # A alone so far (the harness runs no periodic jobs)
    assert await share_rate(other.application) == 1  # B idle: A takes nothing from it
    async with h.services.dispatch_lock, other.services.dispatch_lock:  # both have a wave in hand
        assert await share_rate(h.app) == 1  # B's last beat said idle
        assert await share_rate(other.application) == 2 and await share_rate(h.app) == 2
        assert interval(h.app) == pytest.approx(2 / per_second)  # together: the one limit
        assert interval(other.application) == pytest.approx(2 / per_second)
        await leave(other.application)  # B stops
        assert await share_rate(h.app) == 1
        assert interval(h.app) == pytest.approx(1 / per_second)
        # A process that died without leaving is forgotten once its heartbeats stop.
        await share_rate(other.application)
        assert await share_rate(h.app) == 2
        h.clock.advance(ALIVE_WITHIN + timedelta(seconds=1))
        assert await share_rate(h.app) == 1


async def test_two_processes_writing_to_one_group_stay_within_its_twenty_a_minute(pair):
    """In real time: each process has fifteen things to tell the same group at once. Together they
    keep to Telegram's 20 a minute in that group (the budget is the database's, not each
    process's own), so Telegram refuses none and nothing is lost."""
    h, other = pair
    tg = h.tg
    chat, _awa, _ = await group_with_bot(h, members=0)
    start = len(tg.bot_messages(chat.id))
    for number, relais in enumerate((h.relais, other)):
        svc = relais.services
        async with svc.sessionmaker.begin() as session:
            group = await session.scalar(select(Group).where(Group.chat_id == chat.id))
            sends, token = collect()
            try:
                for index in range(15):
                    to_group(session, group, f"Avis {number}-{index}", "test", svc.clock.now())
            finally:
                stop_collecting(token)
        svc.sender.submit(sends)
    async with asyncio.timeout(150):
        await settle(h, other)
    sent = tg.bot_messages(chat.id)[start:]
    assert sorted(m.text for m in sent) == sorted(f"Avis {n}-{i}" for n in (0, 1) for i in range(15))
    assert tg.rate_limited == 0  # Telegram refused none: the two kept to the budget together
    moments = sorted(m.at for m in tg.bot_messages(chat.id))
    assert all(later - moments[i] >= 59.5 for i, later in enumerate(moments[20:]))  # 20 in any minute


async def test_taps_on_two_processes_keep_one_announcement_right(pair):
    """Coalesced edits across processes: taps on one announcement reach both processes in turn
    while both edit in the background. Every answer counts, the message ends with the counts of
    the database, no edit is refused (an edit that changes nothing, two processes editing the
    same message with the same state), and there are no more edits than taps."""
    h, other = pair
    tg = h.tg
    to(h, h.relais)
    chat, awa, _ = await group_with_bot(h, members=0)
    people = [tg.user(f"Membre{index}", f"membre{index}") for index in range(10)]
    for person in people:
        tg.join(chat, person)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await settle(h, other)
    announcement = next(m for m in tg.bot_messages(chat.id) if "Bilan" in m.text and m.buttons())
    edits_before = sum(1 for method, _ in tg.calls if method == "editMessageText")
    for index, person in enumerate(people):
        to(h, h.relais if index % 2 == 0 else other)
        tg.press(person, announcement, "Je viens" if index < 8 else "Je ne peux pas")
        await tg.webhook_idle()  # committed by the process that got it; edits go on meanwhile
    async with asyncio.timeout(30):
        while "✅ 8" not in announcement.text or "❌ 2" not in announcement.text:
            await settle(h, other)
            for relais in (h.relais, other):
                await relais.services.refresher.run_due()
                await relais.services.refresher.drain()
            await asyncio.sleep(0.05)
    edits = sum(1 for method, _ in tg.calls if method == "editMessageText") - edits_before
    assert 1 <= edits <= len(people)
    assert not [r for r in tg.refused if r[0] == "editMessageText"], tg.refused
