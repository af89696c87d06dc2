"""A person's data, article by article: the export shows every row that points at them, the erasure
leaves none, pausing erases nothing, absence reasons are erased on time and read by few. The walk
reads the models: a new column pointing at a person fails here until the export covers it."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import func, select, text

from bot.domain import dialogues
from bot.domain.facilitators import absence_reason_readers, name_facilitator
from bot.domain.people import find_membership, reachable_in_private
from bot.domain.privacy import (
    PERSON_COLUMNS,
    SECTIONS,
    erase_person,
    export_person,
    forget_old_reasons,
    pause_private,
)
from bot.domain.web_access import issue_login, redeem_login
from bot.ui.privacy import summary_text
from storage.models import (
    ActionItem,
    Attendance,
    Base,
    CharterReading,
    CostClaim,
    DateOption,
    DatePoll,
    DateTick,
    Delivery,
    Evaluation,
    MeetingNeed,
    Minutes,
    MinutesReview,
    Notice,
    Place,
    Poll,
    PollVote,
    PriorityPick,
    PriorityRound,
    Proposal,
    ProposalChange,
    ProposalFollower,
    Question,
    ReachOut,
    RideOffer,
    RideRequest,
    Rsvp,
    ScheduledEvent,
    SmsContact,
)
from tests.support.world import NOW, make_group, make_meeting, make_members


def person_columns() -> set[tuple[str, str]]:
    """Every column of every table that holds a person's id (a foreign key to people)."""
    found = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(key.column.table.name == "people" for key in column.foreign_keys)
    }
    return found | {("dialogues", "user_id")}  # a Telegram id: the dialogue lives before any row


def test_every_column_that_points_at_a_person_is_exported():
    assert person_columns() == set(PERSON_COLUMNS), (
        "a column pointing at a person is missing from bot/domain/privacy.PERSON_COLUMNS (export and erasure)"
    )
    assert set(PERSON_COLUMNS.values()) <= set(SECTIONS)


async def karims_world(session):
    """Karim everywhere a person can be: every column of person_columns() holds his id once."""
    group = await make_group(session)
    awa, karim, julie = await make_members(session, group, "Awa", "Karim", "Julie")
    meeting = await make_meeting(session, group, creator=karim)
    session.add(Rsvp(meeting_id=meeting.id, person_id=karim.id, answer="no", reason="health", answered_at=NOW))
    session.add(Attendance(meeting_id=meeting.id, person_id=karim.id, present=False))
    event = await session.scalar(select(ScheduledEvent).where(ScheduledEvent.meeting_id == meeting.id).limit(1))
    session.add(
        Delivery(
            event_id=event.id,
            meeting_id=meeting.id,
            recipient=f"person:{karim.id}",
            person_id=karim.id,
            kind="private_reminder",
            status="sent",
            not_before=NOW,
            sent_at=NOW,
        )
    )
    session.add(
        Notice(
            kind="ride_accepted",
            person_id=karim.id,
            text="Julie vous emmène",
            status="pending",
            attempts=1,
            not_before=NOW,
            created_at=NOW,
        )
    )
    session.add(ReachOut(group_id=group.id, person_id=karim.id, kind="digest", created_at=NOW))
    proposal = Proposal(
        group_id=group.id, number=1, text="Des bus le samedi", author_id=karim.id, created_at=NOW, state_changed_at=NOW
    )
    other = Proposal(
        group_id=group.id, number=2, text="Un local", author_id=julie.id, created_at=NOW, state_changed_at=NOW
    )
    session.add_all([proposal, other])
    await session.flush()
    session.add(ProposalChange(proposal_id=other.id, state="adopted", by_id=karim.id, at=NOW))
    session.add(ProposalFollower(proposal_id=other.id, person_id=karim.id))
    poll = Poll(
        group_id=group.id,
        telegram_poll_id="p1",
        message_id=5,
        question="Samedi ?",
        options=json.dumps(["Oui", "Non"]),
        counts="[1, 0]",
        anonymous=False,
        created_by_id=karim.id,
        created_at=NOW,
        closes_at=NOW + timedelta(days=2),
    )
    round_ = PriorityRound(group_id=group.id, max_picks=3, created_by_id=karim.id, created_at=NOW, closes_at=NOW)
    session.add_all([poll, round_])
    await session.flush()
    session.add(PollVote(poll_id=poll.id, person_id=karim.id, option_ids="0", voted_at=NOW))
    session.add(PriorityPick(round_id=round_.id, person_id=karim.id, proposal_id=other.id))
    session.add(
        ActionItem(
            group_id=group.id,
            owner_id=karim.id,
            text="Appeler",
            due_on=date(2026, 11, 20),
            created_by_id=karim.id,
            created_at=NOW,
        )
    )
    place = Place(group_id=group.id, name="Oyonnax", name_key="oyonnax", latitude=46.2, longitude=5.6, created_at=NOW)
    session.add(place)
    await session.flush()
    offer = RideOffer(
        meeting_id=meeting.id,
        driver_id=karim.id,
        place_id=place.id,
        seats=2,
        departs_at=meeting.starts_at,
        created_at=NOW,
    )
    session.add(offer)
    session.add(RideRequest(meeting_id=meeting.id, person_id=karim.id, place_id=place.id, created_at=NOW))
    await dialogues.open_dialogue(session, karim.telegram_id, karim.telegram_id, "proposal", "text", NOW, {"g": 1})
    token = await issue_login(session, karim, b"key", NOW, 15)
    await redeem_login(session, token, b"key", NOW + timedelta(minutes=1), "fr")
    asked = Question(group_id=group.id, meeting_id=meeting.id, person_id=karim.id, text="Un ascenseur ?", asked_at=NOW)
    answered = Question(
        group_id=group.id,
        meeting_id=meeting.id,
        person_id=julie.id,
        text="Et la garderie ?",
        asked_at=NOW,
        answer="Oui, sur place.",
        answered_by_id=karim.id,
        answered_at=NOW,
    )
    session.add_all([asked, answered])
    session.add(MeetingNeed(meeting_id=meeting.id, person_id=karim.id, children=2, diet="no_pork", updated_at=NOW))
    date_poll = DatePoll(
        group_id=group.id, place="Mairie", topic="Bilan", created_by_id=karim.id, created_at=NOW, closes_at=NOW
    )
    session.add(date_poll)
    await session.flush()
    option = DateOption(date_poll_id=date_poll.id, starts_at=meeting.starts_at)
    session.add(option)
    await session.flush()
    session.add(DateTick(option_id=option.id, person_id=karim.id, ticked_at=NOW))
    session.add(
        Evaluation(
            meeting_id=meeting.id, person_id=karim.id, useful="bit", hope="Plus court", signed=False, answered_at=NOW
        )
    )
    minutes = Minutes(
        meeting_id=meeting.id, group_id=group.id, text="CR", created_by_id=karim.id, created_at=NOW, publish_at=NOW
    )
    session.add(minutes)
    await session.flush()
    session.add(MinutesReview(minutes_id=minutes.id, person_id=karim.id, agreed=True, at=NOW))
    session.add(CharterReading(group_id=group.id, person_id=karim.id, read_at=NOW))
    for claimant, decider in ((karim, awa), (julie, karim)):
        session.add(
            CostClaim(
                meeting_id=meeting.id,
                group_id=group.id,
                person_id=claimant.id,
                category="transport",
                amount_cents=340,
                file_id="photo1",
                status="refunded",
                created_at=NOW,
                decided_at=NOW,
                decided_by_id=decider.id,
            )
        )
    await session.flush()
    session.add(
        SmsContact(group_id=group.id, person_id=karim.id, number="+33612345678", status="active", created_at=NOW)
    )
    return group, awa, karim, julie, meeting


async def rows_pointing_at(session, person_id: int, telegram_id: int) -> dict[tuple[str, str], int]:
    counts = {}
    for table, column in person_columns():
        value = telegram_id if (table, column) == ("dialogues", "user_id") else person_id
        counts[(table, column)] = await session.scalar(
            text(f"SELECT count(*) FROM {table} WHERE {column} = :value"), {"value": value}
        )
    return counts


async def test_the_export_shows_every_row_and_the_erasure_leaves_none(session):
    group, awa, karim, julie, meeting = await karims_world(session)
    before = await rows_pointing_at(session, karim.id, karim.telegram_id)
    empty = [column for column, count in before.items() if count == 0]
    assert not empty, f"the test world does not fill {empty}: add them to karims_world"
    exported = await export_person(session, karim.telegram_id, NOW)
    for column, section in PERSON_COLUMNS.items():
        assert exported[section], f"{column} is in the database but the export's {section!r} is empty"
    assert exported["meeting_answers"][0]["absence_reason"] == "health"
    assert exported["attendance"] == [
        {"group": "Groupe", "meeting": 1, "starts_at": meeting.starts_at.isoformat(), "present": False}
    ]
    assert exported["priority_picks"][0]["proposal"] == 2
    json.dumps(exported)  # JSON-ready as it is
    summary = summary_text("fr", exported, 30)
    assert "vous avez répondu à 1 réunion\n" in summary and "vous avez fait 1 proposition" in summary
    assert "pourquoi vous ne pouviez pas venir" in summary and "30 jours" in summary
    assert "(s)" not in summary

    assert await erase_person(session, karim.telegram_id)
    after = await rows_pointing_at(session, karim.id, karim.telegram_id)
    assert after == dict.fromkeys(after, 0), {column: n for column, n in after.items() if n}
    # What Karim made for the group stays, without his name.
    kept = await session.scalar(select(Proposal).where(Proposal.number == 1))
    assert kept is not None and kept.author_id is None
    assert (await export_person(session, karim.telegram_id, NOW))["stored"] is False
    assert await session.scalar(select(func.count()).select_from(Rsvp)) == 0


async def test_pausing_private_messages_erases_nothing(session):
    group, awa, karim, julie, meeting = await karims_world(session)
    before = await rows_pointing_at(session, karim.id, karim.telegram_id)
    assert await pause_private(session, karim.telegram_id, True)
    await session.flush()
    assert not reachable_in_private(karim) and karim.private_status == "started"
    assert await rows_pointing_at(session, karim.id, karim.telegram_id) == before
    assert (await export_person(session, karim.telegram_id, NOW))["person"]["private_messages_paused"] is True
    assert await pause_private(session, karim.telegram_id, False)
    assert reachable_in_private(karim)
    assert not await pause_private(session, 4242, True)  # unknown: nothing to pause


async def test_absence_reasons_are_erased_after_their_days(session):
    group, awa, karim, julie, meeting = await karims_world(session)
    assert await forget_old_reasons(session, meeting.starts_at + timedelta(days=29), 30) == 0
    assert await forget_old_reasons(session, meeting.starts_at + timedelta(days=31), 30) == 1
    rsvp = await session.scalar(select(Rsvp).execution_options(populate_existing=True))
    assert rsvp.answer == "no" and rsvp.reason is None  # the answer stays, the reason goes


async def test_absence_reasons_are_read_by_administrators_and_the_creator_only(session):
    group, awa, karim, julie, meeting = await karims_world(session)  # Karim created the meeting

    async def admins(chat_id: int) -> frozenset[int]:
        return frozenset({awa.telegram_id})

    name_facilitator(await find_membership(session, group, julie))  # named with /animateur
    readers = await absence_reason_readers(session, meeting, group, admins)
    assert {person.first_name for person in readers} == {"Awa", "Karim"}


async def test_an_answer_still_waiting_to_reach_someone_is_erased_with_them(session):
    from bot.outbox.notices import answer_notice

    group, awa, karim, julie, meeting = await karims_world(session)
    for chat_id in (karim.telegram_id, julie.telegram_id):  # Telegram failed: a retry is due later
        session.add(answer_notice("reply", chat_id, "send_message", {"text": "Vos données"}, (None, None), NOW))
    await session.flush()
    assert await erase_person(session, karim.telegram_id)
    left = list(await session.scalars(select(Notice.chat_id).where(Notice.kind == "reply")))
    assert left == [julie.telegram_id]
