"""End to end: what Relais says is durable. A crash after the commit and before sending, or
between two sends, of a meeting cancellation and of a carpool acceptance: after the restart
everyone is told exactly once. A crash before any answer to a command went out: after the
restart each answer arrives once, quoting the command, in its topic, and what it records (an
announcement's message id, a dialogue's question, a poll) is recorded. A handler that fails after
queuing a notice: nobody is told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.outbox.after_commit import ChatSender
from storage.models import Notice
from tests.conftest import assert_telegram_happy
from tests.e2e.test_carpool import offer, request
from tests.e2e.test_carpool import setup as carpool_setup
from tests.support.helpers import group_with_bot, meetings_of

ONE_LINE = "/reunion 12/11 14h | Centre social | Bilan"
CANCELLED = "est annulée"
MATCHED = "vous emmène"


class Crash:
    """Makes this process's sender die: after `survivors` more sends, nothing is sent or recorded
    any more (as when the process is killed), until `undo()`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, survivors: int) -> None:
        self.left = survivors
        self.monkeypatch = monkeypatch
        real = ChatSender._deliver

        async def deliver(sender: ChatSender, send) -> None:
            if self.left <= 0:
                return  # dead: neither sent nor marked
            self.left -= 1
            await real(sender, send)

        monkeypatch.setattr(ChatSender, "_deliver", deliver)

    def undo(self) -> None:
        self.monkeypatch.undo()


async def restart_after_lease(h) -> None:
    """A new process on the same database; the dead one's claims expire; the dispatcher runs."""
    await h.restart()
    h.clock.advance(timedelta(minutes=2))
    await h.run_jobs()
    await h.settle()


def count(h, chat_id: int, words: str) -> int:
    return sum(words in m.text for m in h.tg.bot_messages(chat_id)) if chat_id in h.tg.chats else 0


async def notices_left(h) -> int:
    async with h.services.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Notice))


async def cancellation_world(h):
    chat, awa, people = await group_with_bot(h, members=4)
    tg = h.tg
    for person in people:
        tg.start_private(person)
    tg.say(chat, awa, ONE_LINE)
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    for person, label in zip(people, ("Je viens", "Je viens", "Peut-être", "Je ne peux pas"), strict=True):
        tg.press(person, announcement, label)
    await h.settle()
    return chat, awa, people


@pytest.mark.parametrize("survivors", [0, 2], ids=["before-any-send", "between-two-sends"])
async def test_cancellation_told_exactly_once_after_a_crash(relais, monkeypatch, survivors):
    chat, awa, people = await cancellation_world(relais)
    crash = Crash(monkeypatch, survivors)
    relais.tg.say(chat, awa, "/annuler 1")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.status == "cancelled"  # the change committed
    told_before = sum(count(relais, p.id, CANCELLED) for p in people) + count(relais, chat.id, CANCELLED)
    assert told_before <= survivors
    # The group and four people, and the announcement's edit (an answer, durable too), minus those out.
    assert await notices_left(relais) == 6 - survivors
    crash.undo()
    await restart_after_lease(relais)
    assert count(relais, chat.id, CANCELLED) == 1
    for person in people:
        assert count(relais, person.id, CANCELLED) == 1, person.first_name
    assert await notices_left(relais) == 0
    # A later run sends nothing again.
    relais.clock.advance(timedelta(minutes=5))
    await relais.run_jobs()
    await relais.settle()
    assert sum(count(relais, p.id, CANCELLED) for p in people) == 4


@pytest.mark.parametrize("survivors", [0, 1], ids=["before-any-send", "between-two-sends"])
async def test_carpool_acceptance_told_exactly_once_after_a_crash(database_url, clock, monkeypatch, survivors):
    from bot.simulator.harness import Harness

    async with Harness(database_url, clock=clock) as h:
        chat, announcement, awa, karim, julie, *_ = await carpool_setup(h)
        await offer(h, announcement, karim, "Oyonnax", "2", "13h30")
        await request(h, announcement, julie, "Bellignat")
        ask = h.tg.bot_messages(karim.id)[-1]
        crash = Crash(monkeypatch, survivors)  # survivors=1: the driver's edit goes, then the crash
        h.tg.press(karim, ask, "Accepter")
        await h.settle()
        assert count(h, julie.id, MATCHED) == 0
        crash.undo()
        await restart_after_lease(h)
        assert count(h, julie.id, MATCHED) == 1
        assert await notices_left(h) == 0
        h.tg.pending_callbacks.clear()  # the dead process never answered the tap: Telegram gives up
        assert_telegram_happy(h)


async def test_a_failed_handler_tells_nobody(relais, monkeypatch):
    chat, awa, people = await cancellation_world(relais)

    async def broken(*args, **kwargs):  # fails after the notices were queued
        raise RuntimeError("injected")

    monkeypatch.setattr("handlers.meeting_changes.tell_rides_changed", broken)
    relais.tg.say(chat, awa, "/annuler 1")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.status == "scheduled"
    assert "Désolé" in relais.tg.bot_messages(chat.id)[-1].text
    assert count(relais, chat.id, CANCELLED) == 0
    assert all(count(relais, p.id, CANCELLED) == 0 for p in people)
    assert await notices_left(relais) == 0
    monkeypatch.undo()
    relais.clock.advance(timedelta(minutes=5))
    await relais.run_jobs()
    await relais.settle()
    assert all(count(relais, p.id, CANCELLED) == 0 for p in people)


async def test_telegram_down_keeps_the_notice_and_sends_it_later(relais):
    chat, awa, people = await cancellation_world(relais)
    karim = people[0]
    relais.tg.script_fault("sendMessage", "500", times=3, chat_id=karim.id)
    relais.tg.say(chat, awa, "/annuler 1")
    await relais.settle()
    assert count(relais, karim.id, CANCELLED) == 0
    assert await notices_left(relais) == 1
    relais.clock.advance(timedelta(seconds=10))
    await relais.run_jobs()
    await relais.settle()
    assert count(relais, karim.id, CANCELLED) == 1
    assert await notices_left(relais) == 0


async def test_an_update_the_database_refused_is_handled_once_it_is_back(relais, monkeypatch, caplog):
    """Long polling: Telegram will not send the update again, so Relais handles it again after
    the outage's wait; the outage is logged once, and nobody gets an apology for it."""
    import asyncio
    import logging

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncSession

    chat, awa, people = await cancellation_world(relais)
    relais.services.database_outage.FIRST_WAIT = 0.01  # the wait's length is not what is tested
    real_commit = AsyncSession.commit
    failures = [OperationalError("COMMIT", {}, ConnectionRefusedError()) for _ in range(2)]

    async def commit(session):
        if failures:
            raise failures.pop()
        return await real_commit(session)

    monkeypatch.setattr(AsyncSession, "commit", commit)
    with caplog.at_level(logging.WARNING):
        relais.tg.say(chat, awa, "/annuler 1")
        await relais.settle()
        for _ in range(200):  # the retries run on their own: wait for the change, boundedly
            if (await meetings_of(relais, chat.id))[0].status == "cancelled":
                break
            await asyncio.sleep(0.01)
        await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.status == "cancelled" and not failures
    assert count(relais, chat.id, CANCELLED) == 1
    assert all(count(relais, p.id, CANCELLED) == 1 for p in people)
    assert not any("Désolé" in m.text for m in relais.tg.bot_messages(chat.id))
    outage = [r.getMessage() for r in caplog.records if r.name == "relais.outages"]
    assert len(outage) == 2 and "database unreachable" in outage[0] and "database back" in outage[1]


async def test_a_crash_between_commit_and_send_loses_no_answer(relais, monkeypatch):
    """Answers are rows of the update's transaction: a process that dies after the commit and
    before sending them leaves them to the next one, which sends each once, where and how it was
    to go (quoting the command, in its topic), and records what it records."""
    tg = relais.tg
    awa, karim = tg.user("Awa", "awa_anim"), tg.user("Karim", "karim_m")
    chat = tg.forum("Groupe ressources Oyonnax", creator=awa, members=[karim])
    tg.add_bot(chat, awa)
    await relais.settle()
    topic = tg.create_topic(chat, awa, "Réunions")
    tg.say(chat, awa, "/configurer Groupe ressources Oyonnax | Europe/Paris", topic=topic)
    await relais.settle()

    async def crashed(text: str) -> int:
        """The command handled and committed, then the process dies before saying anything."""
        crash = Crash(monkeypatch, 0)
        said = len(tg.bot_messages(chat.id))
        tg.say(chat, awa, text, topic=topic)
        command = tg.chat_messages(chat.id)[-1]
        await relais.settle()
        assert len(tg.bot_messages(chat.id)) == said and await notices_left(relais) > 0
        crash.undo()
        await restart_after_lease(relais)
        assert await notices_left(relais) == 0
        return command.message_id

    # A meeting: its announcement goes after the restart, and its id is recorded, so that an
    # answer edits its counts.
    await crashed(ONE_LINE)
    [announcement] = [m for m in tg.bot_messages(chat.id) if "Bilan" in m.text and m.buttons()]
    assert announcement.thread_id == topic
    tg.press(karim, announcement, "Je viens")
    await relais.settle()
    assert "✅ 1" in announcement.text
    # A guided question: it quotes the command in its topic, opens Awa's reply field, and the
    # dialogue knows it as the question to answer.
    command = await crashed("/reunion")
    question = tg.bot_messages(chat.id)[-1]
    assert question.reply_to == command and question.thread_id == topic
    assert tg.shows_prompt(question, awa.id) and not tg.shows_prompt(question, karim.id)
    tg.answer_question(chat, awa, "mardi prochain 9h30")
    await relais.settle()
    assert "Où" in tg.bot_messages(chat.id)[-1].text, tg.bot_messages(chat.id)[-1].text
    tg.say(chat, awa, "/annuler", topic=topic)
    await relais.settle()
    # A poll: sent once after the restart, kept (its votes count), its closing planned.
    await crashed("/sondage Quel jour ? | Mardi | Jeudi | jusqu'à demain 18h")
    [poll] = [m for m in tg.bot_messages(chat.id) if m.poll is not None]
    assert [o["text"] for o in poll.poll["options"]] == ["Mardi", "Jeudi"]
    tg.vote(karim, poll, [1])
    await relais.settle()
    relais.clock.advance(timedelta(days=2))
    await relais.run_jobs()
    assert poll.poll["is_closed"] is True and "• Jeudi : 1" in tg.bot_messages(chat.id)[-1].text
    assert_telegram_happy(relais)
