"""The priority rate limiter (bot/outbox/pacing.py) and the chat-ordered update processor
(bot/update_order.py): orders and budgets, not timings."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.outbox.pacing import INTERACTIVE, WAVE, GroupBudget, PriorityRateLimiter, send_priority
from bot.update_order import ChatOrderedProcessor, order_keys


async def _through(limiter: PriorityRateLimiter, log: list[str], name: str, endpoint: str, chat_id: int) -> None:
    async def call() -> dict[str, Any]:
        log.append(name)
        return {}

    await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)


async def test_a_reply_overtakes_a_queued_wave():
    limiter = PriorityRateLimiter(per_second=200)  # 5 ms apart: the order matters here, not the pace
    await limiter.initialize()
    log: list[str] = []

    async def wave() -> None:
        send_priority.set(WAVE)
        await asyncio.gather(*(_through(limiter, log, f"wave{i}", "sendMessage", 1000 + i) for i in range(20)))

    waving = asyncio.create_task(wave())
    await asyncio.sleep(0.012)  # the wave is queued and going out
    assert send_priority.get() == INTERACTIVE
    await _through(limiter, log, "reply", "sendMessage", 42)
    await waving
    await limiter.shutdown()
    assert len(log) == 21
    # Served at the next free slot: only the wave messages already let through are before it.
    assert log.index("reply") <= 5


async def test_answers_to_taps_never_wait_for_the_budget():
    limiter = PriorityRateLimiter(per_second=1)  # one send a second: a second send would wait
    await limiter.initialize()
    log: list[str] = []
    await _through(limiter, log, "send", "sendMessage", 1)
    await asyncio.wait_for(_through(limiter, log, "tap", "answerCallbackQuery", 1), 0.5)
    await asyncio.wait_for(_through(limiter, log, "admins", "getChatAdministrators", -5), 0.5)
    await limiter.shutdown()
    assert log == ["send", "tap", "admins"]


def test_a_group_gets_twenty_sends_a_minute():
    budget = GroupBudget(20, 60.0)
    starts = [budget.reserve(0.0) for _ in range(25)]
    assert starts[:20] == [0.0] * 20
    assert starts[20:] == [60.0] * 5
    assert budget.reserve(200.0) == 200.0  # a quiet group starts afresh


def _update(update_id: int, chat_id: int, sender_id: int = 7) -> Update:
    chat = {"id": chat_id, "type": "group" if chat_id < 0 else "private", "title": "G"}
    sender = {"id": sender_id, "is_bot": False, "first_name": "A"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": sender, "text": "x"}
    return Update.de_json({"update_id": update_id, "message": message}, None)


async def test_one_chat_in_order_other_chats_alongside():
    processor = ChatOrderedProcessor(running=8)
    log: list[tuple[str, int]] = []
    release_slow = asyncio.Event()

    async def handle(update_id: int, slow: bool) -> None:
        log.append(("start", update_id))
        if slow:
            await release_slow.wait()
        log.append(("end", update_id))

    plan = [(1, -100, True), (2, -100, False), (3, -200, False), (4, -100, False)]
    tasks = [
        asyncio.create_task(processor.process_update(_update(uid, chat, 100 + uid), handle(uid, slow)))
        for uid, chat, slow in plan
    ]
    await asyncio.sleep(0.01)
    # Chat -200 was not held by chat -100's slow update; chat -100's others wait their turn.
    assert ("end", 3) in log and ("start", 2) not in log and ("start", 4) not in log
    release_slow.set()
    await asyncio.gather(*tasks)
    hundred = [entry for entry in log if entry[1] in (1, 2, 4)]
    assert hundred == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    await processor.wait_done(4)


async def test_one_person_in_order_across_chats():
    """A tap in the group, then /mesdonnees in private: the second sees what the first did."""
    processor = ChatOrderedProcessor(running=8)
    log: list[int] = []
    release = asyncio.Event()

    async def handle(update_id: int, slow: bool) -> None:
        if slow:
            await release.wait()
        log.append(update_id)

    first = asyncio.create_task(processor.process_update(_update(1, -100, 7), handle(1, True)))
    second = asyncio.create_task(processor.process_update(_update(2, 7, 7), handle(2, False)))
    await asyncio.sleep(0.01)
    assert log == []
    release.set()
    await asyncio.gather(first, second)
    assert log == [1, 2]


def test_order_keys_are_the_chat_and_the_person():
    assert order_keys(_update(1, -100)) == (-100, 7)  # the group, and its sender
    assert order_keys(_update(2, 7)) == (7,)  # in private, the chat is the person
    answer = Update.de_json(
        {
            "update_id": 3,
            "poll_answer": {
                "poll_id": "p",
                "user": {"id": 9, "is_bot": False, "first_name": "B"},
                "option_ids": [0],
                "option_persistent_ids": ["p-0"],
            },
        },
        None,
    )
    assert order_keys(answer) == ("poll:p", 9)  # in order with the poll's other updates
    assert order_keys(object()) == ()
