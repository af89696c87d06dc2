"""Every button's data, declared once, encoded and decoded here.

Telegram gives a button 1 to 64 bytes of data and sends them back, unchanged, when someone taps
it — or sends whatever a forged client put there. Relais keeps short strings (they must survive
restarts and work across processes): a prefix (one word, or two for a dialogue step's buttons),
then fields, separated by ":". Each button is a
frozen dataclass registered with its prefix and the kind of each field; `decode` turns any data
into one of them, or into `Unknown`, and never raises.

Handlers register with `pattern=Answer.matches` and read `decode(query.data)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from typing import Any, ClassVar, TypeVar

from telegram import InlineKeyboardButton

from bot.domain.carpool import SEATS_MAX, SEATS_MIN
from bot.domain.costs import ALLOWANCE
from bot.domain.costs import CATEGORIES as COST_CATEGORIES
from bot.domain.evaluations import USEFUL
from bot.domain.meetings import REASONS
from bot.domain.needs import CHILDREN_MAX, DIETS

MAX_BYTES = 64
_INSEE_RE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
_ID_DIGITS = 9  # ids stay below 10**9: longer digit strings are refused before int() is called


class FieldKind:
    """How one field is written and read back; `parse` returns None for anything invalid."""

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)


class Id(FieldKind):
    """A database id: 1 to 9 plain digits, no sign, no leading zero."""

    def parse(self, text: str) -> int | None:
        if not (0 < len(text) <= _ID_DIGITS) or not text.isascii() or not text.isdigit() or text[0] == "0":
            return None
        return int(text)


class Number(FieldKind):
    """A small whole number in [low, high] (seats, minutes, a list index)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def parse(self, text: str) -> int | None:
        if not (0 < len(text) <= 4) or not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
            return None
        value = int(text)
        return value if self.low <= value <= self.high else None


class Choice(FieldKind):
    """One word among a fixed set."""

    def __init__(self, *words: str) -> None:
        self.words = frozenset(words)

    def parse(self, text: str) -> str | None:
        return text if text in self.words else None


class IdOr(FieldKind):
    """An id, or one fixed word (a person to tick, or "ok" to save)."""

    def __init__(self, word: str) -> None:
        self.word = word

    def parse(self, text: str) -> int | str | None:
        return self.word if text == self.word else Id().parse(text)


class InseeCode(FieldKind):
    """A commune's INSEE code: five characters, digits but for Corsica's 2A and 2B."""

    def parse(self, text: str) -> str | None:
        return text if _INSEE_RE.fullmatch(text) else None


@dataclass(frozen=True)
class Callback:
    """A button's data. Subclasses declare `prefix` and `spec` (one FieldKind per field)."""

    prefix: ClassVar[str] = ""
    spec: ClassVar[tuple[FieldKind, ...]] = ()

    def encode(self) -> str:
        values = [kind.format(value) for kind, value in zip(self.spec, astuple(self), strict=True)]
        data = ":".join([self.prefix, *values])
        if len(data.encode()) > MAX_BYTES:  # a programming error: every field is bounded
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {self.prefix}")
        return data

    @classmethod
    def matches(cls, data: object) -> bool:
        """For CallbackQueryHandler(pattern=...): this button's data, well formed."""
        return isinstance(decode(data), cls)


@dataclass(frozen=True)
class Unknown(Callback):
    """Data no button of this version writes: a forged press, or a button from an old release."""


REGISTRY: dict[str, type[Callback]] = {}
Call = TypeVar("Call", bound=Callback)


def button(prefix: str, *spec: FieldKind) -> Callable[[type[Call]], type[Call]]:
    """Declare a button: its prefix (unique) and the kind of each of its fields, in order."""

    def register(cls: type[Call]) -> type[Call]:
        if prefix in REGISTRY or not 1 <= len(prefix.split(":")) <= 2 or "" in prefix.split(":"):
            raise ValueError(f"button prefix {prefix!r} declared twice or malformed")
        if len(fields(cls)) != len(spec):
            raise ValueError(f"button {prefix!r}: {len(fields(cls))} fields but {len(spec)} kinds")
        cls.prefix, cls.spec = prefix, spec
        REGISTRY[prefix] = cls
        return cls

    return register


def decode(data: object) -> Callback:
    """The button this data belongs to, or Unknown(). Total: never raises."""
    if not isinstance(data, str) or not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return Unknown()
    parts = data.split(":")
    # A prefix is one word, or two ("cfg:tz") for the buttons of one dialogue step.
    cls = REGISTRY.get(":".join(parts[:2])) if len(parts) > 1 else None
    if cls is not None:
        parts = parts[2:]
    else:
        cls = REGISTRY.get(parts[0])
        parts = parts[1:]
    if cls is None or len(parts) != len(cls.spec):
        return Unknown()
    values = [kind.parse(part) for kind, part in zip(cls.spec, parts, strict=True)]
    if any(value is None for value in values):
        return Unknown()
    return cls(*values)


def key(label: str, data: Callback) -> InlineKeyboardButton:
    """A button with this label and this data."""
    return InlineKeyboardButton(label, callback_data=data.encode())


def any_of(*kinds: type[Callback]) -> Callable[[object], bool]:
    """For CallbackQueryHandler(pattern=...): data of any of these buttons."""
    return lambda data: isinstance(decode(data), kinds)


# ----------------------------------------------------------------------------- meetings
@button("rsvp", Id(), Choice("y", "n", "m"))
@dataclass(frozen=True)
class Answer(Callback):
    """✅ / ❌ / 🤔 under an announcement or a reminder."""

    meeting_id: int
    code: str


@button("chg", Id())
@dataclass(frozen=True)
class ChangeAnswer(Callback):
    """✏️ Changer ma réponse, under a private reminder: shows the answer buttons again."""

    meeting_id: int


@button("ask", Id())
@dataclass(frozen=True)
class AskQuestion(Callback):
    """❓ Une question, under an announcement or a reminder: asked in private, read by the facilitators."""

    meeting_id: int


@button("reply", Id())
@dataclass(frozen=True)
class ReplyQuestion(Callback):
    """✍️ Répondre, under a question a facilitator received in private."""

    question_id: int


@button("need", Id(), Choice("kids", "meal"))
@dataclass(frozen=True)
class Need(Callback):
    """🧸 Garde d'enfants / 🍽 Repas, under an announcement: the question is asked in private."""

    meeting_id: int
    kind: str


@button("kids", Id(), Number(0, CHILDREN_MAX))
@dataclass(frozen=True)
class Children(Callback):
    """How many children to look after during the meeting (0: none, or no longer)."""

    meeting_id: int
    count: int


@button("diet", Id(), Choice(*DIETS, "none"))
@dataclass(frozen=True)
class Diet(Callback):
    """A dietary need for the meeting's meal ("none": no need, or no longer)."""

    meeting_id: int
    diet: str


@button("tick", Id())
@dataclass(frozen=True)
class DateTickButton(Callback):
    """A candidate date of /quand: one tap says I can come then, a second takes it back."""

    option_id: int


@button("choose", Id())
@dataclass(frozen=True)
class DateChoose(Callback):
    """✅ Choisir, under /quand's dates: the facilitator sees who can come when, in private."""

    date_poll_id: int


@button("pick", Id())
@dataclass(frozen=True)
class DatePick(Callback):
    """Retenir cette date: it becomes the meeting."""

    option_id: int


@button("useful", Id(), Choice(*USEFUL))
@dataclass(frozen=True)
class Useful(Callback):
    """👍 / 🙂 / 👎 under the private evaluation of a meeting."""

    meeting_id: int
    answer: str


@button("eval", Id(), Choice("sign", "skip"))
@dataclass(frozen=True)
class EvaluationStep(Callback):
    """✍️ Signer de mon prénom (a toggle) / Rien à ajouter, under the free-text question."""

    meeting_id: int
    choice: str


@button("minutes", Id(), Choice("ok", "add"))
@dataclass(frozen=True)
class MinutesAnswer(Callback):
    """✅ D'accord / ✏️ Compléter, under the minutes sent for review to those who came."""

    minutes_id: int
    choice: str


@button("publish", Id())
@dataclass(frozen=True)
class MinutesPublish(Callback):
    """📢 Publier maintenant: the minutes go to the group without waiting for the review's end."""

    minutes_id: int


@button("costs", Id())
@dataclass(frozen=True)
class Costs(Callback):
    """🧾 Mes frais, in private after a meeting the member attended."""

    meeting_id: int


@button("costcat", Id(), Choice(*COST_CATEGORIES, ALLOWANCE))
@dataclass(frozen=True)
class CostCategory(Callback):
    """What the costs were for (then the amount and the receipt), or the flat allowance."""

    meeting_id: int
    category: str


@button("costdec", Id(), Choice("refund", "refuse"))
@dataclass(frozen=True)
class CostDecision(Callback):
    """✅ Remboursé / ✖️ Refusé, under a claim a facilitator received."""

    claim_id: int
    decision: str


@button("read", Id())
@dataclass(frozen=True)
class CharterRead(Callback):
    """✅ J'ai lu, under the group's charter: for the one who taps, once."""

    group_id: int


@button("why", Id(), Choice(*REASONS))
@dataclass(frozen=True)
class AbsenceReason(Callback):
    """The optional reason after "Je ne peux pas" (seen by those who run the meeting only)."""

    meeting_id: int
    reason: str


@button("ics", Id())
@dataclass(frozen=True)
class CalendarFile(Callback):
    meeting_id: int


@button("att", Id(), IdOr("ok"))
@dataclass(frozen=True)
class Attendance(Callback):
    """The attendance checklist: tick a person, or "ok" to save."""

    meeting_id: int
    who: int | str


@button("attp", Id(), Number(0, 99))
@dataclass(frozen=True)
class AttendancePage(Callback):
    """The attendance checklist of a large group: turn to another page of names."""

    meeting_id: int
    page: int


@button("mcan", Id())
@dataclass(frozen=True)
class CancelMeeting(Callback):
    meeting_id: int


@button("mmov", Id())
@dataclass(frozen=True)
class MoveMeeting(Callback):
    meeting_id: int


@button("mtg", Choice("ok", "no"))
@dataclass(frozen=True)
class PublishMeeting(Callback):
    """The end of /reunion's guided dialogue: publish the draft, or drop it."""

    choice: str


@button("cfg", Choice("ok", "no"))
@dataclass(frozen=True)
class SaveSetup(Callback):
    """The end of /configurer's dialogue."""

    choice: str


@button("cfg:tz", Number(0, 99))
@dataclass(frozen=True)
class TimeZoneChoice(Callback):
    """/configurer: the index of a time zone in the offered list."""

    index: int


# ----------------------------------------------------------------------------- proposals
@button("fol", Id())
@dataclass(frozen=True)
class Follow(Callback):
    """🔔 Suivre a proposal."""

    proposal_id: int


@button("sv", Id())
@dataclass(frozen=True)
class PickForFollowUp(Callback):
    """/suivi: a proposal picked from the list, whose next state is then offered."""

    proposal_id: int


@button("svs", Id(), Choice(*"abcdefghijklmnopqrstuvwxyz"))
@dataclass(frozen=True)
class FollowUpState(Callback):
    """/suivi: the proposal's new state, by its one-letter code."""

    proposal_id: int
    code: str


@button("prio", Id(), Id())
@dataclass(frozen=True)
class PriorityPick(Callback):
    round_id: int
    proposal_id: int


@button("end", Choice("poll", "round"), Id())
@dataclass(frozen=True)
class Close(Callback):
    """🔒 Clore: a facilitator closes a poll, a vote or a priority round now (closing.POLL / ROUND)."""

    kind: str
    subject_id: int


@button("endpoll")
@dataclass(frozen=True)
class CloseThisPoll(Callback):
    """🔒 Clore, under a native poll: sent with the poll, before its id exists; the tapped message
    names the poll."""


# ----------------------------------------------------------------------------- help's buttons
@button("coming")
@dataclass(frozen=True)
class MyMeetings(Callback):
    """📋 Mes réunions: the coming meetings and the tapper's own answers (handlers/meetings.py)."""


@button("carb")
@dataclass(frozen=True)
class ShowCarpool(Callback):
    """🚗 Covoiturage: the next meeting's carpool board, as /covoiturage (handlers/carpool.py)."""


@button("board")
@dataclass(frozen=True)
class ShowBoard(Callback):
    """🗂 Nos propositions: the follow-up board, as /propositions (handlers/proposals.py)."""


@button("mydata", Choice("export", "forget"))
@dataclass(frozen=True)
class MyData(Callback):
    """📦 Mes données / 🗑 Tout effacer, under the private help (handlers/privacy.py)."""

    choice: str


@button("act", Id(), Choice("d", "b"))
@dataclass(frozen=True)
class ActionStatus(Callback):
    """✅ C'est fait (d) / ⛔ Je suis bloqué·e (b)."""

    action_id: int
    code: str


# ----------------------------------------------------------------------------- carpool
@button("car", Id(), Choice("o", "r"))
@dataclass(frozen=True)
class Carpool(Callback):
    """🚗 Je propose des places (o) / 🙋 Je cherche une place (r)."""

    meeting_id: int
    kind: str


@button("cpp", Id(), Id())
@dataclass(frozen=True)
class CarpoolPlace(Callback):
    meeting_id: int
    place_id: int


@button("smscall", Id())
@dataclass(frozen=True)
class SmsCallDone(Callback):
    """✅ Rappel fait, under an APPEL received by SMS (the SMS received)."""

    received_id: int


@button("plc", Id(), InseeCode())
@dataclass(frozen=True)
class PlaceCommune(Callback):
    """One of the communes sharing a name, offered after /lieux: its line in the data, and its code
    to check that line still holds it."""

    row: int
    code: str


@button("cps", Id(), Number(SEATS_MIN, SEATS_MAX))
@dataclass(frozen=True)
class CarpoolSeats(Callback):
    meeting_id: int
    seats: int


@button("cpt", Id(), Number(0, 240))
@dataclass(frozen=True)
class CarpoolDeparture(Callback):
    """Minutes before the meeting the driver leaves."""

    meeting_id: int
    minutes: int


@button("ride", Id(), Choice("a", "r"))
@dataclass(frozen=True)
class RideDecision(Callback):
    """The driver accepts (a) or refuses (r) a passenger's request."""

    request_id: int
    code: str


@button("cxo", Id())
@dataclass(frozen=True)
class CancelOffer(Callback):
    offer_id: int


@button("cxr", Id())
@dataclass(frozen=True)
class CancelRequest(Callback):
    request_id: int


# ----------------------------------------------------------------------------- attestations
@button("attn", Choice("ok", "fix"))
@dataclass(frozen=True)
class AttestationName(Callback):
    """The name to print on an attestation: confirmed, or to be typed again."""

    choice: str


@button("mine")
@dataclass(frozen=True)
class MyAttendance(Callback):
    """📋 Mes présences, in private: what the attendance sheets say of the person."""


# ----------------------------------------------------------------------------- privacy
@button("pm", Choice("off", "on"))
@dataclass(frozen=True)
class PrivateMessages(Callback):
    """🔕 Ne plus recevoir de rappels (off) / 🔔 Recevoir à nouveau (on)."""

    choice: str


@button("forget", Choice("yes", "no"))
@dataclass(frozen=True)
class Forget(Callback):
    """/oublier's confirmation."""

    choice: str


# ----------------------------------------------------------------------------- membership
@button("wish", Id(), Id(), Choice("stay", "stop"))
@dataclass(frozen=True)
class TermWish(Callback):
    """🙋 Je veux continuer / 👋 Je préfère arrêter: the member's answer a month before their
    term ends (the term is named by its end, in minutes: a stale button is recognised)."""

    membership_id: int
    term: int
    wish: str


@button("term", Id(), Id(), Choice("renew", "end"))
@dataclass(frozen=True)
class TermDecision(Callback):
    """🔁 Prolonger / 👋 Laisser finir: the facilitators' decision on a member's term."""

    membership_id: int
    term: int
    decision: str


@button("exatt", Id())
@dataclass(frozen=True)
class ExitAttestation(Callback):
    """📄 Mon attestation, under the thank-you of someone who left the group."""

    group_id: int


@button("listed", Id())
@dataclass(frozen=True)
class ListedGroup(Callback):
    """/groupes (coordinators): a group offered to those who leave another, or no longer."""

    group_id: int


@button("here", Id())
@dataclass(frozen=True)
class ImAMember(Callback):
    """👋 Je suis membre du groupe: someone who was in the group before Relais makes themself known."""

    group_id: int
