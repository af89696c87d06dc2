"""SMS for the members Telegram does not reach: their numbers, their consent, and their answers.

A facilitator registers a member's number with the member's consent; the first SMS asks for it
again ("Répondez OUI"), and nothing else is sent before a OUI. STOP ends everything. Answers
count where a tap counts: "1" is "Je viens" in the same totals. Numbers are never shown in a
group and never logged (a contact is logged by its id).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import meetings as m
from bot.domain.dates import normalise
from bot.domain.errors import RefusalError
from bot.domain.events import EventKind, subject_event
from bot.domain.people import SMS_ONLY_IDS, record_presence
from storage.models import Delivery, Group, Meeting, Person, ScheduledEvent, SmsContact, SmsReceived

log = logging.getLogger(__name__)

ASKED, ACTIVE, STOPPED = "asked", "active", "stopped"
SMS_KINDS = ("sms_consent", "sms_reminder", "sms_reply", "sms_change")  # delivery kinds that go by SMS
REASON_MAX = 160
# GSM 03.38: what one 7-bit SMS carries (160 characters, 153 in each part of a longer one);
# the extension characters take two places. Anything else makes it UCS-2: 70, then 67.
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


class SmsError(RefusalError):
    """A refusal with the message key that explains it."""


# ----------------------------------------------------------------------------- numbers
def _valid_number(text: str) -> phonenumbers.PhoneNumber:
    """A valid number as people write it ("06 12 34 56 78", "+33 6 12…", "0033…"); the French
    plan when there is no country code. Raises SmsError."""
    try:
        number = phonenumbers.parse(text.strip()[:32], "FR")
    except phonenumbers.NumberParseException:
        raise SmsError("sms.error.number") from None
    if not phonenumbers.is_valid_number(number):
        raise SmsError("sms.error.number")
    return number


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_number(text: str) -> str:
    """A mobile number, French or international, in E.164 ("+33612345678"). Raises SmsError."""
    number = _valid_number(text)
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise SmsError("sms.error.not_mobile")
    return _e164(number)


def parse_call_number(text: str) -> str:
    """The number an SMS tells people to call: any valid number, a landline included."""
    return _e164(_valid_number(text))


def readable(number: str) -> str:
    """ "06 12 34 56 78": how a French reader writes it (international numbers keep their +)."""
    parsed = phonenumbers.parse(number, "FR")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


# ----------------------------------------------------------------------------- texts
def is_gsm(text: str) -> bool:
    """Every character is one a 7-bit SMS carries."""
    return all(c in _GSM or c in _GSM_EXTENDED for c in text)


def segments(text: str) -> int:
    """How many SMS a text costs: 7-bit when every character is GSM, UCS-2 otherwise."""
    if is_gsm(text):
        length = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        return 1 if length <= 160 else -(-length // 153)
    length = len(text.encode("utf-16-le")) // 2
    return 1 if length <= 70 else -(-length // 67)


def to_gsm(text: str) -> str:
    """The text with what GSM lacks replaced by its nearest letter ("ô" → "o", "’" → "'",
    no emoji): one French SMS costs one segment rather than three."""
    replaced = re.sub(r"«[\s\u202f\xa0]*", '"', text)
    replaced = re.sub(r"[\s\u202f\xa0]*»", '"', replaced)
    replaced = replaced.replace("’", "'").replace("\u202f", " ").replace("\xa0", " ")
    kept = []
    for c in replaced:
        if c in _GSM or c in _GSM_EXTENDED:
            kept.append(c)
            continue
        bare = normalise(c) if c.isalpha() else ""
        kept.append(bare if bare and all(b in _GSM for b in bare) else ("" if not c.isalnum() else "?"))
    return re.sub(r" {2,}", " ", "".join(kept)).strip()


# ----------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class Answer:
    kind: str  # yes | no | maybe | stop | call | other
    rest: str = ""  # after "2": the reason, as the person wrote it


_WORDS = {
    "yes": ("1", "oui", "je viens", "jviens", "je viendrai", "present", "presente", "ok"),
    "no": ("2", "non", "je ne peux pas", "je peux pas", "peux pas", "absent", "absente"),
    "maybe": ("3", "peut etre", "peutetre", "peut-etre", "je ne sais pas", "sais pas"),
    "stop": ("stop", "stop sms", "arret", "arreter", "desinscription"),
    "call": ("appel", "appeler", "appelez moi", "appelez-moi", "rappel", "rappelez moi", "rappelez-moi"),
}


CONSENT = ("oui", "ok", "d'accord", "daccord", "oui merci", "oui d'accord")


def is_consent(text: str) -> bool:
    """The OUI the first SMS asks for (a "1" is not one: it answers a meeting)."""
    return normalise(text).strip(" .!?,;") in CONSENT


def parse_answer(text: str) -> Answer:
    """What an SMS says: "1", "Oui", " je viens !", "2 malade", "STOP", "Appel"... (case, accents,
    spaces and final punctuation forgiven); anything else is "other", to be passed on as it is."""
    said = normalise(text).strip(" .!?,;")
    for kind, words in _WORDS.items():
        for word in sorted(words, key=len, reverse=True):
            if said == word:
                return Answer(kind)
            if kind == "no" and said.startswith(word + " "):
                return Answer(kind, text.strip()[len(word) :].strip(" .:,-")[:REASON_MAX])
    return Answer("other", text.strip()[:REASON_MAX])


# ----------------------------------------------------------------------------- members without Telegram
NAME_MAX = 60


def validate_name(text: str) -> str:
    """How the group calls a member without Telegram ("Awa D."): one line, 2 to 60 characters."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= NAME_MAX:
        raise SmsError("sms.error.name", limit=NAME_MAX)
    return name


async def add_member_without_telegram(session: AsyncSession, group: Group, name: str, now: datetime) -> Person:
    """A member who has no Telegram: a person of the group known by a name Relais never writes
    to on Telegram (an id Telegram never gives, see SMS_ONLY_IDS); SMS only."""
    while True:
        telegram_id = SMS_ONLY_IDS - secrets.randbits(40)
        if await session.scalar(select(Person.id).where(Person.telegram_id == telegram_id)) is None:
            break
    person = Person(telegram_id=telegram_id, first_name=validate_name(name), private_status="unknown", created_at=now)
    session.add(person)
    await session.flush()
    await record_presence(session, group, person, now)
    log.info("person %s added to group %s without Telegram", person.id, group.id)
    return person


# ----------------------------------------------------------------------------- contacts
async def register(session: AsyncSession, group: Group, person: Person, number: str, now: datetime) -> SmsContact:
    """The member's number, with their consent: the consent SMS goes out (again, for a number that
    said STOP or changed). Returns the contact."""
    contact = await session.scalar(
        select(SmsContact).where(SmsContact.group_id == group.id, SmsContact.person_id == person.id)
    )
    if contact is not None and contact.number == number and contact.status == ACTIVE:
        raise SmsError("sms.error.already", name=person.first_name)
    if contact is None:
        contact = SmsContact(group_id=group.id, person_id=person.id, created_at=now)
        session.add(contact)
    contact.number, contact.status, contact.consented_at, contact.stopped_at = number, ASKED, None, None
    await session.flush()
    await _plan_once(session, group, EventKind.SMS_CONSENT, contact.id, now)
    log.info("sms contact %s registered in group %s", contact.id, group.id)
    return contact


async def plan_change(session: AsyncSession, group: Group, meeting: Meeting, now: datetime) -> bool:
    """A meeting cancelled or moved: an SMS to the members who get them (sent with the state the
    meeting is in then). False when nobody in the group gets SMS."""
    if not await active_contacts(session, group):
        return False
    await _plan_once(session, group, EventKind.SMS_CHANGE, meeting.id, now)
    return True


async def _plan_once(session: AsyncSession, group: Group, kind: EventKind, subject_id: int, now: datetime) -> None:
    """An SMS event about a subject, due now. One still pending already says it: its SMS is
    written with the subject as it is when it goes (a number corrected, a meeting moved then
    cancelled before the dispatcher ran), so a second would say the same thing twice. Otherwise
    a new one, after those done (each has its own offset: one row per kind, subject, offset)."""
    events = select(ScheduledEvent.status).where(ScheduledEvent.kind == kind, ScheduledEvent.subject_id == subject_id)
    statuses = list(await session.scalars(events))
    if "pending" not in statuses:
        session.add(subject_event(group.id, kind, subject_id, now, offset=len(statuses)))


async def contact_of(session: AsyncSession, group: Group, person: Person) -> SmsContact | None:
    return await session.scalar(
        select(SmsContact).where(SmsContact.group_id == group.id, SmsContact.person_id == person.id)
    )


async def active_contacts(session: AsyncSession, group: Group) -> list[SmsContact]:
    return list(
        await session.scalars(
            select(SmsContact)
            .where(SmsContact.group_id == group.id, SmsContact.status == ACTIVE)
            .order_by(SmsContact.id)
        )
    )


def limit_news_due(group: Group, now: datetime) -> bool:
    """The facilitators are told the month's SMS are spent once a month."""
    told = group.sms_limit_told_at
    return told is None or (told.year, told.month) != (now.year, now.month)


async def sent_this_month(session: AsyncSession, now: datetime, in_flight: bool = False) -> int:
    """SMS sent since the first of this month (UTC), every group together: the department's bill.
    `in_flight`: with those being sent (claimed by a process, not yet recorded), which will count."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    counted = and_(Delivery.status == "sent", Delivery.sent_at >= start)
    if in_flight:
        counted = or_(counted, and_(Delivery.status == "sending", Delivery.claimed_at >= start))
    return int(await session.scalar(select(func.count(Delivery.id)).where(Delivery.kind.in_(SMS_KINDS), counted)) or 0)


async def figures(session: AsyncSession, group: Group, start: datetime, end: datetime) -> tuple[int, int]:
    """SMS the group sent, and SMS its members sent back, between `start` and `end`."""
    of_group = or_(
        ScheduledEvent.group_id == group.id,
        ScheduledEvent.meeting_id.in_(select(Meeting.id).where(Meeting.group_id == group.id)),
    )
    sent = await session.scalar(
        select(func.count(Delivery.id))
        .join(ScheduledEvent, ScheduledEvent.id == Delivery.event_id)
        .where(
            Delivery.kind.in_(SMS_KINDS), Delivery.status == "sent", Delivery.sent_at >= start, Delivery.sent_at < end
        )
        .where(of_group)
    )
    answered = await session.scalar(
        select(func.count(SmsReceived.id))
        .join(SmsContact, SmsContact.id == SmsReceived.contact_id)
        .where(SmsContact.group_id == group.id, SmsReceived.received_at >= start, SmsReceived.received_at < end)
    )
    return int(sent or 0), int(answered or 0)


@dataclass
class CallBack:
    received: SmsReceived
    member: Person
    group: Group

    def done(self, now: datetime) -> bool:
        """ "✅ Rappel fait": marked once; False when someone marked it first."""
        if self.received.called_at is not None:
            return False
        self.received.called_at = now
        return True


async def call_back(session: AsyncSession, received_id: int) -> CallBack | None:
    """The APPEL an SMS received was, with its member and group (None for anything else)."""
    received = await session.get(SmsReceived, received_id)
    contact = await session.get(SmsContact, received.contact_id) if received and received.contact_id else None
    if received is None or contact is None:
        return None
    member, group = await session.get(Person, contact.person_id), await session.get(Group, contact.group_id)
    if member is None or group is None:
        return None
    return CallBack(received, member, group)


STRANGERS_KEPT = timedelta(days=1)  # long enough to count a webhook delivered twice once


async def forget_strangers(session: AsyncSession, now: datetime) -> int:
    """SMS received from numbers Relais does not know are kept only to count a duplicate once:
    their key is made from the sender's number. Erased after a day; returns how many."""
    result = await session.execute(
        delete(SmsReceived).where(SmsReceived.contact_id.is_(None), SmsReceived.received_at < now - STRANGERS_KEPT)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_person_sms(session: AsyncSession, person: Person) -> None:
    """With the person: the SMS they sent (known by a key made from their number)."""
    theirs = select(SmsContact.id).where(SmsContact.person_id == person.id)
    await session.execute(delete(SmsReceived).where(SmsReceived.contact_id.in_(theirs)))


# ----------------------------------------------------------------------------- what comes back
@dataclass
class Received:
    """What an SMS did: `outcome` is duplicate | unknown | ignored | consented | stopped |
    answered | call | message."""

    outcome: str
    contact: SmsContact | None = None
    person: Person | None = None
    group: Group | None = None
    meeting: Meeting | None = None
    answer: Answer | None = None
    received_id: int | None = None


async def receive(session: AsyncSession, event_key: str, number: str, text: str, now: datetime) -> Received:
    """An SMS from `number`, once per `event_key` (the gateway's event id)."""
    received = SmsReceived(event_key=event_key[:64], received_at=now)
    try:
        async with session.begin_nested():
            session.add(received)
            await session.flush()
    except IntegrityError:
        return Received("duplicate")
    contacts = list(
        await session.scalars(
            select(SmsContact)
            .where(SmsContact.number == number, SmsContact.status != STOPPED)
            .order_by(SmsContact.consented_at.desc().nulls_last(), SmsContact.id.desc())
        )
    )
    if not contacts:
        return Received("unknown", received_id=received.id)  # a stranger, or someone who said STOP: nothing
    answer = parse_answer(text)
    contact = contacts[0]
    received.contact_id = contact.id
    person, group = await session.get(Person, contact.person_id), await session.get(Group, contact.group_id)
    found = Received("ignored", contact, person, group, answer=answer, received_id=received.id)
    if answer.kind == "stop":
        for each in contacts:
            each.status, each.stopped_at = STOPPED, now
        session.add(subject_event(contact.group_id, EventKind.SMS_REPLY, received.id, now))
        log.info("sms contact %s stopped", contact.id)
        found.outcome = "stopped"
        return found
    if contact.status == ASKED:
        if is_consent(text):
            contact.status, contact.consented_at = ACTIVE, now
            session.add(subject_event(contact.group_id, EventKind.SMS_REPLY, received.id, now))
            log.info("sms contact %s consented", contact.id)
            found.outcome = "consented"
        return found  # nothing else counts before a OUI
    if group is None or person is None or not group.active:
        return found
    if answer.kind in ("yes", "no", "maybe"):
        upcoming = await m.upcoming_meetings(session, group, now, 1)
        if not upcoming:
            return found
        meeting = upcoming[0]
        await m.change_answer(session, meeting, person, answer.kind, now)
        if answer.kind == "no" and answer.rest:
            await m.record_reason(session, meeting, person, "other", now)
        found.outcome, found.meeting = "answered", meeting
        return found
    found.outcome = "call" if answer.kind == "call" else "message"
    return found
