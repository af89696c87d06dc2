"""End to end: taps acknowledged at once, count edits coalesced and durable, no group waiting for
another (bot/outbox/after_commit.py, bot/outbox/refresh.py, bot/update_order.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.simulator.harness import Harness
from tests.conftest import assert_telegram_happy
from tests.support.helpers import group_with_bot

MEETING = "/reunion 12/11 14h | Centre social Les Vennes, 3 rue X, Bourg | Bilan des propositions"
SPACING = 5


@pytest.fixture
async def spaced(database_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    """The bot with the production spacing of count edits (the fake clock moves only when told)."""
    async with Harness(database_url, clock=clock, overrides={"telegram": {"edit_spacing_seconds": SPACING}}) as h:
        yield h
        await h.settle()
        assert_telegram_happy(h)


async def announced_group(h: Harness, members: int):
    chat, awa, _ = await group_with_bot(h, members=0)
    people = [h.tg.user(f"Membre{i}", f"membre_{i}") for i in range(members)]
    for person in people:
        h.tg.join(chat, person)
    h.tg.say(chat, awa, MEETING)
    await h.settle()
    return chat, awa, people, h.tg.bot_messages(chat.id)[-1]


def answers(h: Harness) -> int:
    return sum(1 for method, _ in h.tg.calls if method == "answerCallbackQuery")


async def test_fifteen_taps_are_acknowledged_and_the_counts_edited_a_few_times(spaced):
    h = spaced
    chat, _awa, people, announcement = await announced_group(h, 15)
    acknowledged = answers(h)
    for person in people:  # within a second of each other: one per update, all at once
        h.tg.press(person, announcement, "Je viens")
    await h.settle()
    assert answers(h) - acknowledged == 15
    assert not h.tg.pending_callbacks
    # The first tap's edit went out at once; the others wait for the spacing, gathered in one.
    assert announcement.edits == 1
    h.clock.advance(timedelta(seconds=SPACING))
    await h.settle()
    assert "✅ 15 oui · ❌ 0 non · 🤔 0 peut-être" in announcement.text
    assert announcement.edits <= 3
    # Nothing more to show: no further edit when time passes.
    edits = announcement.edits
    h.clock.advance(timedelta(seconds=SPACING))
    await h.settle()
    assert announcement.edits == edits


async def test_a_pending_edit_survives_a_restart(spaced):
    h = spaced
    chat, _awa, people, announcement = await announced_group(h, 3)
    h.tg.press(people[0], announcement, "Je viens")
    await h.settle()
    assert "✅ 1 oui" in announcement.text
    h.tg.press(people[1], announcement, "Je viens")
    h.tg.press(people[2], announcement, "Je ne peux pas")
    await h.settle()
    assert "✅ 1 oui · ❌ 0 non" in announcement.text  # gathered for the next edit, not yet made
    await h.restart()  # the process that owed the edit is gone
    h.clock.advance(timedelta(seconds=SPACING))
    await h.settle()
    assert "✅ 2 oui · ❌ 1 non · 🤔 0 peut-être" in announcement.text


async def test_an_edit_telegram_failed_is_made_again_later(spaced):
    h = spaced
    chat, _awa, people, announcement = await announced_group(h, 1)
    h.tg.script_fault("editMessageText", "500", times=1)
    h.tg.press(people[0], announcement, "Je viens")
    await h.settle()
    assert "✅ 0 oui" in announcement.text  # the edit failed; the tap itself was answered
    assert not h.tg.pending_callbacks
    h.clock.advance(timedelta(seconds=SPACING))
    await h.settle()
    assert "✅ 1 oui · ❌ 0 non · 🤔 0 peut-être" in announcement.text


async def test_a_busy_group_does_not_delay_a_command_in_another(database_url: str, clock: FakeClock):
    """Thirty commands in one group need more than its 20 messages a minute: its answers queue
    for a minute behind its own budget. A command in another group is answered at once."""
    async with Harness(database_url, clock=clock) as h:
        busy, busy_admin, _ = await group_with_bot(h, members=0)
        quiet_admin = h.tg.user("Zoé", "zoe_anim")
        quiet = h.tg.group("Groupe calme", creator=quiet_admin)
        h.tg.add_bot(quiet, quiet_admin)
        await h.settle()
        for _ in range(30):
            h.tg.say(busy, busy_admin, "/prochaine")
        h.tg.say(quiet, quiet_admin, "/prochaine")
        async with asyncio.timeout(30):  # handled one at a time, it would come after the busy group's minute
            while not any("Aucune réunion" in m.text for m in h.tg.bot_messages(quiet.id)):  # noqa: ASYNC110 (polls the fake)
                await asyncio.sleep(0.01)
        # When the other group got its answer, the busy group was still waiting for its own
        # budget (the greeting and at most 19 answers in its first minute).
        assert sum("Aucune réunion" in m.text for m in h.tg.bot_messages(busy.id)) <= 19
        assert h.services.sender is not None
        await h.services.sender.close()  # the busy group's queue would take a minute more


async def test_a_state_that_came_back_to_what_is_shown_costs_no_edit(spaced):
    """ "Je viens", then "Peut-être", then "Je viens" again within the spacing: the message already
    shows that state, so no edit is sent (Telegram would refuse it as "not modified")."""
    h = spaced
    chat, _awa, people, announcement = await announced_group(h, 1)
    h.tg.press(people[0], announcement, "Je viens")
    await h.settle()
    assert announcement.edits == 1 and "✅ 1 oui" in announcement.text
    h.tg.press(people[0], announcement, "Peut-être")
    h.tg.press(people[0], announcement, "Je viens")
    await h.settle()
    h.clock.advance(timedelta(seconds=SPACING))
    await h.settle()
    assert announcement.edits == 1 and "✅ 1 oui · ❌ 0 non · 🤔 0 peut-être" in announcement.text
    assert not [r for r in h.tg.refused if "not modified" in r[2]]


async def test_a_tap_within_the_spacing_waits_for_its_end_and_one_after_it_is_shown_at_once(spaced):
    """The spacing counts from the last edit: a change within it is shown when it ends (not a
    full spacing after the tap), a change after it at once."""
    h = spaced
    chat, _awa, people, announcement = await announced_group(h, 3)
    h.tg.press(people[0], announcement, "Je viens")
    await h.settle()
    assert announcement.edits == 1  # at once
    h.clock.advance(timedelta(seconds=SPACING - 2))
    h.tg.press(people[1], announcement, "Je viens")
    await h.settle()
    assert announcement.edits == 1  # within the spacing: planned for its end
    h.clock.advance(timedelta(seconds=2))
    await h.settle()
    assert announcement.edits == 2 and "✅ 2 oui" in announcement.text
    h.clock.advance(timedelta(seconds=SPACING + 1))
    h.tg.press(people[2], announcement, "Peut-être")
    await h.settle()
    assert announcement.edits == 3 and "🤔 1 peut-être" in announcement.text  # past it: at once


async def test_two_quick_taps_of_one_person_are_answered_in_their_order(spaced):
    """The second tap's toast must not come before the first's (it would show the answer the
    person just changed): a person's answers go out in the order of their taps, even when the
    first is slow to reach Telegram."""
    h = spaced
    chat, _awa, (karim,), announcement = await announced_group(h, 1)
    h.tg.script_fault("answerCallbackQuery", "slow", times=1, delay=0.3)
    h.tg.press(karim, announcement, "Je viens")
    h.tg.press(karim, announcement, "Je ne peux pas")
    await h.settle()
    assert list(h.tg.callback_answers.values())[-2:] == [
        "C'est noté : vous venez. À bientôt !",
        "C'est noté, merci de l'avoir dit.",
    ]


async def test_the_demos_transcript_shows_a_taps_answer_right_after_the_tap(spaced):
    """The toast shows where the person tapped, at once; what the tap sent elsewhere (here the
    private "why not?") may reach Telegram first. The transcript keeps the answer after its tap."""
    h = spaced
    chat, _awa, (karim,), announcement = await announced_group(h, 1)
    h.tg.start_private(karim)
    await h.settle()
    h.tg.journal = []
    h.tg.script_fault("answerCallbackQuery", "slow", times=1, delay=0.3)
    h.tg.press(karim, announcement, "Je ne peux pas")
    await h.settle()
    kinds = [(entry.kind, entry.chat_id) for entry in h.tg.journal]
    assert kinds[:2] == [("tap", chat.id), ("answer", chat.id)]
    assert ("message", karim.id) in kinds[2:]  # the private question, which reached Telegram first
    assert h.tg.journal[1].text == "C'est noté, merci de l'avoir dit."
