"""Who facilitates, dialogue state, and a person's data (export and erasure), over a session on
every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.domain import dialogues
from bot.domain import facilitators as f
from bot.domain import proposals as p
from bot.domain.errors import RefusalError
from bot.domain.people import find_membership, only_group, record_departure
from bot.domain.privacy import erase_person, export_person
from bot.domain.settings import ProposalsSection
from storage.models import DialogueState, Proposal
from tests.support.world import NOW, SETTINGS, make_group, make_meeting, make_members


def admins(*telegram_ids: int):
    async def lookup(chat_id: int) -> frozenset[int]:
        return frozenset(telegram_ids)

    return lookup


async def test_the_facilitator_rule(session):
    group = await make_group(session)
    awa, karim, julie, sami = await make_members(session, group, "Awa", "Karim", "Julie", "Sami")
    meeting = await make_meeting(session, group, creator=sami)
    telegram_admins = admins(awa.telegram_id)
    # A Telegram administrator facilitates; a member named with /animateur too, while a member.
    assert await f.is_facilitator(session, group, awa.telegram_id, telegram_admins)
    assert not await f.is_facilitator(session, group, karim.telegram_id, telegram_admins)
    f.name_facilitator(await find_membership(session, group, karim))
    assert await f.is_facilitator(session, group, karim.telegram_id, telegram_admins)
    with pytest.raises(RefusalError, match="facilitator.already"):
        f.name_facilitator(await find_membership(session, group, karim))
    assert [person.first_name for person in await f.named_facilitators(session, group)] == ["Karim"]
    await record_departure(session, group, karim.telegram_id, NOW)
    assert not await f.is_facilitator(session, group, karim.telegram_id, telegram_admins)
    # Whoever created the meeting runs it; they, and only the facilitators, read absence reasons.
    assert await f.may_run(session, meeting, group, sami.telegram_id, telegram_admins)
    assert not await f.may_run(session, meeting, group, julie.telegram_id, telegram_admins)
    readers = await f.absence_reason_readers(session, meeting, group, telegram_admins)
    assert {person.first_name for person in readers} == {"Awa", "Sami"}
    # An administrator stays one: Telegram decides that, not /animateur retirer.
    with pytest.raises(RefusalError, match="facilitator.is_admin"):
        f.unname_facilitator(await find_membership(session, group, awa), awa.telegram_id, frozenset({awa.telegram_id}))


async def test_one_dialogue_per_person_and_chat_the_latest_wins_and_it_expires(session):
    opened = await dialogues.open_dialogue(session, 7, 7, "proposal", "text", NOW, {"group_id": 1})
    assert (await dialogues.current(session, 7, 7, NOW)).kind == "proposal"
    await dialogues.open_dialogue(session, 7, 7, "carpool", "place", NOW, {"meeting_id": 3})
    found = await dialogues.current(session, 7, 7, NOW)
    assert found.kind == "carpool" and found.get("group_id") is None  # the proposal is gone
    await dialogues.open_dialogue(session, 7, -100, "meeting", "date", NOW)  # another chat: kept apart
    moved = await dialogues.advance(session, found, "seats", NOW, place_id=5)
    assert moved.step == "seats" and moved.get("place_id") == 5 and moved.get("meeting_id") == 3
    with pytest.raises(LookupError):
        await dialogues.advance(session, opened, "text", NOW)  # the proposal dialogue was replaced
    later = NOW + dialogues.DEFAULT_TTL + timedelta(seconds=1)
    assert await dialogues.current(session, 7, 7, later) is None  # expired: closed
    assert await dialogues.purge_expired(session, later) == 1  # the group one, never finished
    assert await session.scalar(select(func.count()).select_from(DialogueState)) == 0


async def test_export_and_erasure_cover_everything_kept(session):
    group = await make_group(session)
    karim, julie = await make_members(session, group, "Karim", "Julie")
    proposal, _ = await p.create_proposal(session, group, karim, "Des bus", NOW, ProposalsSection(), SETTINGS)
    await p.toggle_follow(session, proposal, julie)
    await dialogues.open_dialogue(session, karim.telegram_id, karim.telegram_id, "proposal", "text", NOW, {"g": 1})
    exported = await export_person(session, karim.telegram_id, NOW)
    assert exported["person"]["first_name"] == "Karim"
    assert [item["text"] for item in exported["proposals"]] == ["Des bus"]
    assert exported["dialogues_in_progress"] == [{"dialogue": "proposal", "step": "text", "answers_so_far": {"g": 1}}]
    assert await only_group(session, karim) == group
    assert await erase_person(session, karim.telegram_id) is True
    assert (await export_person(session, karim.telegram_id, NOW))["stored"] is False
    assert await session.scalar(select(func.count()).select_from(DialogueState)) == 0
    proposal_id = proposal.id
    session.expire_all()  # read back what the database did (ON DELETE SET NULL)
    kept = await session.get(Proposal, proposal_id)
    assert kept is not None and kept.author_id is None  # the group keeps the text, not the name
