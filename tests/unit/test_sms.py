"""SMS: numbers as people write them, answers as people type them, what an SMS costs, and the
gateway's signature."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain import sms
from bot.domain.events import EventKind
from bot.domain.meetings import create_meeting
from bot.domain.settings import MeetingsSection
from bot.domain.sms import SmsError, is_consent, is_gsm, parse_answer, parse_number, readable, segments, to_gsm
from bot.ui.i18n import LANGUAGES, plain
from handlers.sms import signed
from storage.models import Group, ScheduledEvent


def test_french_numbers_as_people_write_them():
    for written in ("06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"):
        assert parse_number(written) == "+33612345678", written
    assert readable("+33612345678") == "06 12 34 56 78"
    for wrong, key in (("06 12 34 56", "sms.error.number"), ("bonjour", "sms.error.number"), ("", "sms.error.number")):
        with pytest.raises(SmsError) as refused:
            parse_number(wrong)
        assert refused.value.key == key
    with pytest.raises(SmsError) as refused:
        parse_number("04 74 12 34 56")  # a landline: no SMS
    assert refused.value.key == "sms.error.not_mobile"


def test_answers_as_people_type_them():
    assert [parse_answer(t).kind for t in ("1", " Oui ", "je viens !", "JE VIENS")] == ["yes"] * 4
    assert [parse_answer(t).kind for t in ("2", "non", "Je ne peux pas")] == ["no"] * 3
    assert parse_answer("2 malade, désolé").rest == "malade, désolé"
    assert [parse_answer(t).kind for t in ("3", "peut-être", "Peut etre.")] == ["maybe"] * 3
    assert [parse_answer(t).kind for t in ("STOP", "stop", "Arrêt")] == ["stop"] * 3
    assert [parse_answer(t).kind for t in ("APPEL", "Appelez-moi", "rappel")] == ["call"] * 3
    other = parse_answer("Je serai en retard de 10 minutes")
    assert other.kind == "other" and other.rest == "Je serai en retard de 10 minutes"
    assert is_consent("OUI") and is_consent(" oui ! ") and not is_consent("1") and not is_consent("oui 2")


@given(st.text(max_size=400))
def test_any_text_is_an_answer_and_never_raises(text):
    answer = parse_answer(text)
    assert answer.kind in ("yes", "no", "maybe", "stop", "call", "other") and len(answer.rest) <= 160


@given(st.text(max_size=400))
def test_to_gsm_keeps_to_seven_bits(text):
    assert is_gsm(to_gsm(text))


def test_what_an_sms_costs():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("€" * 80) == 1
    assert segments("é" * 160) == 1  # é is GSM's own
    assert segments("ê") == 1 and segments("ê" * 71) == 2  # UCS-2: 70, then 67
    assert to_gsm("« Groupe »  — peut-être ’ok’ 🚗") == "\"Groupe\" peut-etre 'ok'"
    for language in LANGUAGES:  # the fixed texts fit in one SMS once made 7-bit
        for key in ("sms.consent", "sms.consented", "sms.stopped"):
            assert segments(to_gsm(plain(language, key, group="Groupe ressources Oyonnax"))) == 1, key


def test_the_gateway_signature():
    body, key, now = b'{"event":"sms:received"}', "a-signing-key-of-the-gateway", 1_800_000_000
    good = hmac.new(key.encode(), body + str(now).encode(), hashlib.sha256).hexdigest()
    assert signed(key, body, str(now), good, now)
    assert not signed(key, body + b" ", str(now), good, now)  # altered
    assert not signed("another-key-entirely-here", body, str(now), good, now)  # forged
    assert not signed(key, body, str(now), good, now + 301)  # replayed later
    assert not signed("", body, str(now), good, now) and not signed(key, body, "x", good, now)


async def test_an_sms_still_pending_is_not_planned_twice(session):
    """A number corrected, or a meeting moved then cancelled, before the dispatcher ran: the SMS
    still to go says the latest state once; once it went, the next change plans another."""
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    group = Group(chat_id=-5, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=now)
    session.add(group)
    await session.flush()
    fatou = await sms.add_member_without_telegram(session, group, "Fatou", now)
    await sms.register(session, group, fatou, "+33612345678", now)
    contact = await sms.register(session, group, fatou, "+33781223344", now)  # corrected at once
    meeting = await create_meeting(
        session, group, now + timedelta(days=10), "Salle", "Sujet", None, None, now, MeetingsSection()
    )
    contact.status = sms.ACTIVE
    assert await sms.plan_change(session, group, meeting, now)
    assert await sms.plan_change(session, group, meeting, now)

    async def events(kind: EventKind) -> list[tuple[str, int]]:
        rows = await session.execute(
            select(ScheduledEvent.status, ScheduledEvent.offset_minutes).where(ScheduledEvent.kind == kind)
        )
        return sorted((status, offset) for status, offset in rows)

    assert await events(EventKind.SMS_CONSENT) == [("pending", 0)]
    assert await events(EventKind.SMS_CHANGE) == [("pending", 0)]
    for event in await session.scalars(select(ScheduledEvent).where(ScheduledEvent.kind == EventKind.SMS_CHANGE)):
        event.status = "done"  # it went out
    assert await sms.plan_change(session, group, meeting, now)
    assert await events(EventKind.SMS_CHANGE) == [("done", 0), ("pending", 1)]


async def test_sms_received_go_with_the_person_and_strangers_after_a_day(session):
    """An SMS received is known by a key made from the sender's number: it goes with the person
    who sent it, and one from an unknown number is kept a day only (to count a duplicate once)."""
    from sqlalchemy import func

    from bot.domain.privacy import erase
    from storage.models import SmsReceived

    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    group = Group(chat_id=-6, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=now)
    session.add(group)
    await session.flush()
    fatou = await sms.add_member_without_telegram(session, group, "Fatou", now)
    contact = await sms.register(session, group, fatou, "+33781223344", now)
    assert (await sms.receive(session, "k1", "+33781223344", "oui", now)).outcome == "consented"
    assert (await sms.receive(session, "k2", "+33699999999", "1", now)).outcome == "unknown"
    assert contact.status == sms.ACTIVE

    async def received() -> int:
        return int(await session.scalar(select(func.count(SmsReceived.id))) or 0)

    assert await received() == 2
    assert await sms.forget_strangers(session, now + timedelta(hours=23)) == 0
    assert await sms.forget_strangers(session, now + timedelta(days=1, minutes=1)) == 1
    await erase(session, fatou)
    assert await received() == 0
