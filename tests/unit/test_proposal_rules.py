"""Proposals and their follow-up, polls, priority rounds and action items, over a session on every
backend."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from bot.domain import actions as a
from bot.domain import carpool, polls
from bot.domain import priorities as pr
from bot.domain import proposals as p
from bot.domain.errors import RefusalError
from bot.domain.settings import ProposalsSection
from storage.models import Person, PollVote
from tests.support.world import NOW, SETTINGS, make_group, make_meeting, make_members

PROPOSALS = ProposalsSection()


async def propose(session, group, author, text):
    proposal, _digest = await p.create_proposal(session, group, author, text, NOW, PROPOSALS, SETTINGS)
    return proposal


async def open_poll(session, group, poll_id, options, proposal=None, creator=None, anonymous=False, hours=48):
    closes = NOW + timedelta(hours=hours)
    return await polls.record_poll(
        session,
        group,
        poll_id,
        10,
        "Question ?",
        options,
        anonymous,
        proposal,
        creator,
        NOW,
        closes,
        polls.reminder_time(NOW, closes, PROPOSALS),
    )


VOTE = ["Pour", "Contre", "Je ne sais pas"]


async def test_proposals_are_numbered_per_group_and_plan_the_monthly_digest(session):
    group, other = await make_group(session, -1), await make_group(session, -2)
    [karim] = await make_members(session, group, "Karim")
    first = await propose(session, group, karim, "Des horaires de bus adaptés")
    _, digest = await p.create_proposal(session, group, karim, "Un repas partagé", NOW, PROPOSALS, SETTINGS)
    elsewhere = await propose(session, other, None, "Une salle plus grande")
    assert (first.number, elsewhere.number) == (1, 1)
    assert digest.due_at > NOW and digest.kind == "proposals_digest"
    with pytest.raises(RefusalError):
        await propose(session, group, karim, "x" * (PROPOSALS.text_max + 1))
    assert await p.find_proposal(session, group, 3) is None


async def test_follow_up_needs_a_recipient_and_a_reason_and_tells_author_and_followers(session):
    group = await make_group(session)
    awa, karim, julie = await make_members(session, group, "Awa", "Karim", "Julie")
    proposal = await propose(session, group, karim, "Des horaires de bus adaptés")
    assert await p.toggle_follow(session, proposal, julie) is True
    with pytest.raises(RefusalError, match="suivi.error.to_whom"):
        await p.change_state(session, proposal, "sent", None, None, awa, NOW)
    change = await p.change_state(session, proposal, "sent", "la mairie", None, awa, NOW)
    assert {person.first_name for person in await p.news_recipients(session, change)} == {"Karim", "Julie"}
    with pytest.raises(RefusalError, match="suivi.error.reason"):
        await p.change_state(session, proposal, "refused", "", None, awa, NOW)
    with pytest.raises(RefusalError, match="suivi.error.same"):
        await p.change_state(session, proposal, "sent", "la mairie", None, awa, NOW)
    with pytest.raises(RefusalError, match="suivi.error.progress"):
        await p.change_state(session, proposal, "in_progress", None, 140, awa, NOW)
    await p.change_state(session, proposal, "in_progress", None, 40, awa, NOW)
    assert proposal.progress == 40
    await p.change_state(session, proposal, "done", None, None, awa, NOW)
    assert proposal.progress == 100


async def test_withdrawn_and_merged_proposals_leave_the_board(session):
    group = await make_group(session)
    awa, karim, julie = await make_members(session, group, "Awa", "Karim", "Julie")
    bus = await propose(session, group, karim, "Des horaires de bus adaptés")
    duplicate = await propose(session, group, julie, "Plus de bus le soir")
    meal = await propose(session, group, karim, "Un repas partagé")
    with pytest.raises(RefusalError, match="proposal.error.reason"):
        await p.withdraw(session, meal, None, awa, NOW)
    await p.withdraw(session, meal, "déjà fait", awa, NOW)
    with pytest.raises(RefusalError, match="proposal.error.merge_self"):
        await p.merge(session, bus, bus, awa, NOW)
    await p.merge(session, duplicate, bus, awa, NOW)
    assert duplicate.state == "merged" and duplicate.merged_into_id == bus.id
    # Julie wrote the duplicate: she now follows the proposal that stays.
    assert await p.toggle_follow(session, bus, julie) is False
    board = await p.board(session, group)
    assert [proposal.number for proposals in board.values() for proposal in proposals] == [bus.number]
    with pytest.raises(RefusalError, match="proposal.error.gone"):
        await p.change_state(session, meal, "adopted", None, None, awa, NOW)


async def test_a_proposal_vote_follows_the_group_rule_and_quorum(session):
    group = await make_group(session)
    awa, karim, julie, sami = await make_members(session, group, "Awa", "Karim", "Julie", "Sami")
    proposal = await propose(session, group, karim, "Des horaires de bus adaptés")
    poll, moments = await open_poll(session, group, "tg-1", VOTE, proposal, awa)
    assert len(moments) == 2  # the deadline and one reminder
    await polls.record_vote(session, poll, karim, [0], NOW)
    assert [person.first_name for person in await polls.non_voters(session, poll)] == ["Awa", "Julie", "Sami"]
    polls.set_quorum(group, "75")
    await polls.record_counts(session, "tg-1", [1, 0, 0], 1)
    result = await polls.close_poll(session, poll, group, NOW + timedelta(hours=48))
    assert result.outcome == "no_quorum" and proposal.state == "new"
    second, _ = await open_poll(session, group, "tg-2", VOTE, proposal, awa)
    await polls.record_counts(session, "tg-2", [2, 1, 0], 3)
    result = await polls.close_poll(session, second, group, NOW + timedelta(hours=48))
    assert result.outcome == "adopted" and proposal.state == "adopted" and result.change is not None
    with pytest.raises(RefusalError, match="quorum.error"):
        polls.set_quorum(group, "150")


async def test_a_vote_is_recorded_changed_and_taken_back_and_a_closed_poll_keeps_its_votes(session):
    group = await make_group(session)
    awa, karim, julie = await make_members(session, group, "Awa", "Karim", "Julie")
    poll, _ = await open_poll(session, group, "tg-9", ["Mardi", "Jeudi", "Vendredi"], creator=awa)

    async def votes() -> dict[str, str]:
        rows = await session.execute(
            select(Person.first_name, PollVote.option_ids).join(PollVote).where(PollVote.poll_id == poll.id)
        )
        return dict(rows.all())

    await polls.record_vote(session, poll, karim, [0], NOW)
    await polls.record_vote(session, poll, julie, [1, 2], NOW)
    await polls.record_vote(session, poll, karim, [2], NOW)  # changed
    assert await votes() == {"Karim": "2", "Julie": "1,2"}
    await polls.record_vote(session, poll, julie, [], NOW)  # taken back
    assert await votes() == {"Karim": "2"}
    assert [person.first_name for person in await polls.non_voters(session, poll)] == ["Awa", "Julie"]
    poll.status = "closed"
    await polls.record_vote(session, poll, karim, [], NOW)  # too late: nothing changes
    await polls.record_vote(session, poll, awa, [1], NOW)
    assert await votes() == {"Karim": "2"}


async def test_an_open_poll_names_its_winner_or_a_tie(session):
    group = await make_group(session)
    poll, _ = await open_poll(session, group, "tg-3", ["Mardi", "Jeudi"], anonymous=True, hours=2)
    await polls.record_counts(session, "tg-3", [2, 2], 4)
    assert (await polls.close_poll(session, poll, group, NOW)).outcome == "tie"
    assert json.loads(poll.counts) == [2, 2]


async def test_priority_picks_are_limited_and_ranked(session):
    group = await make_group(session)
    awa, karim, julie = await make_members(session, group, "Awa", "Karim", "Julie")
    with pytest.raises(RefusalError, match="priorities.error.too_few"):
        await pr.start_round(session, group, awa, NOW, NOW + timedelta(days=2), 3)
    bus, meal, room = [await propose(session, group, karim, text) for text in ("Des bus", "Un repas", "Une salle")]
    round_, offered = await pr.start_round(session, group, awa, NOW, NOW + timedelta(days=2), 3)
    assert offered == [bus, meal, room] and round_.max_picks == 2  # never all of them
    with pytest.raises(RefusalError, match="priorities.error.running"):
        await pr.start_round(session, group, awa, NOW, NOW + timedelta(days=2), 3)
    assert await pr.toggle_pick(session, round_, karim, bus.id) == (True, 1)
    assert await pr.toggle_pick(session, round_, karim, meal.id) == (True, 2)
    with pytest.raises(RefusalError, match="priorities.error.full"):
        await pr.toggle_pick(session, round_, karim, room.id)
    assert await pr.toggle_pick(session, round_, karim, meal.id) == (False, 1)  # a second tap takes it back
    await pr.toggle_pick(session, round_, julie, bus.id)
    ranking = await pr.ranking(session, round_)
    assert ranking[0] == (bus, 2)
    assert await pr.participants(session, round_) == 2
    await pr.close_round(session, round_, NOW)
    with pytest.raises(RefusalError, match="priorities.error.closed"):
        await pr.toggle_pick(session, round_, julie, meal.id)


async def test_an_action_is_reminded_the_day_before_and_done_once(session):
    group = await make_group(session)
    awa, karim = await make_members(session, group, "Awa", "Karim")
    action, remind = await a.create_action(
        session, group, karim, "Appeler la CAF", date(2026, 11, 20), awa, NOW, SETTINGS
    )
    assert remind is not None and remind.date() == date(2026, 11, 19)
    assert await a.set_status(session, action, "done", NOW) is True
    assert await a.set_status(session, action, "done", NOW) is False  # a second tap changes nothing
    with pytest.raises(RefusalError):
        await a.set_status(session, action, "forgotten", NOW)
    assert await a.open_actions(session, group) == []


async def statements_for(session, work) -> int:
    """How many SQL statements `work()` runs."""
    seen = []

    def count(*_args) -> None:
        seen.append(1)

    engine = session.bind.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


async def test_indicators_do_not_grow_with_the_group(session):
    """A group's figures take a fixed number of statements, however many members and meetings."""
    group = await make_group(session)
    await make_members(session, group, "Awa", "Karim")
    await session.flush()

    async def figures() -> None:
        await p.indicators(session, group)
        await carpool.figures(session, group)

    small = await statements_for(session, figures)
    await make_members(session, group, "Julie", "Sami", "Lina", "Théo", "Zoé")
    for days in (3, 10, 17, 24):
        await make_meeting(session, group, days=days)
    await session.flush()
    assert await statements_for(session, figures) == small
