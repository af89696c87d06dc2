"""Database models. Internal integer ids everywhere, so a group's Telegram chat id can change
(supergroup upgrade) by updating one column while every related record stays attached."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns aware datetimes (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def cascade_key(target: str, index: bool = True) -> Mapped[int]:
    """A column holding the id of a `target` row; this row goes when that one goes."""
    return mapped_column(ForeignKey(f"{target}.id", ondelete="CASCADE"), index=index)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every table has an internal integer id (Telegram ids are data, not keys).
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Group(Base):
    __tablename__ = "groups"

    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    title: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reminder offsets before a meeting, in minutes, comma-separated ("10080,1440"); None: defaults.
    reminder_offsets: Mapped[str | None] = mapped_column(String(64))
    next_meeting_number: Mapped[int] = mapped_column(Integer, default=1)
    next_proposal_number: Mapped[int] = mapped_column(Integer, default=1)
    # A proposal vote counts only when at least this share of members voted (0: no quorum).
    quorum_percent: Mapped[int] = mapped_column(Integer, default=0)
    # When the group was last offered "Recevoir mes rappels en privé" (at most once a month).
    reach_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The group's card (/presentation), given to newcomers: what it is for, when and where it meets.
    card_purpose: Mapped[str | None] = mapped_column(Text)
    card_usual: Mapped[str | None] = mapped_column(Text)
    charter: Mapped[str | None] = mapped_column(Text)  # the group's rules (/charte); None: the default
    # Offered by a coordinator (/groupes) to members who leave another of the department's groups.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The department's territory the group belongs to (a coordinator files it, on its page): the
    # department's view filters by it.
    territory: Mapped[str | None] = mapped_column(String(80), index=True)
    # In a forum: the topic Relais' own messages go to (None: General), chosen by typing /configurer
    # there; the latest topic a command came from (somewhere to write when the chosen one closes);
    # when the facilitators were told Relais had to write elsewhere.
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    seen_topic_id: Mapped[int | None] = mapped_column(BigInteger)
    topic_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many members Telegram counts (getChatMemberCount, bots excepted), and when it was asked:
    # people who were there before the bot are in it, though Relais never saw them.
    member_count: Mapped[int | None] = mapped_column(Integer)
    member_count_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the facilitators were told that Telegram refused a message for lack of a right.
    rights_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The number an SMS tells members to call (the facilitator's or the structure's), /sms numero.
    sms_call_number: Mapped[str | None] = mapped_column(String(16))
    # When the facilitators were told the month's SMS were spent (once a month at most).
    sms_limit_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="group", passive_deletes=True)

    @property
    def display_name(self) -> str:
        return self.name or self.title


class Person(Base):
    """Someone seen by the bot. Only what the features need: no phone, no address."""

    __tablename__ = "people"

    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    language_code: Mapped[str | None] = mapped_column(String(16))
    # unknown: never started the bot; started: private messages work; unreachable: got a 403.
    private_status: Mapped[str] = mapped_column(String(16), default="unknown")
    # "🔕 Ne plus recevoir de rappels": nothing is sent in private on Relais' own initiative
    # (reminders, notices, news) until "🔔 Recevoir à nouveau"; nothing is erased.
    private_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="person", passive_deletes=True)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "person_id"),)

    group_id: Mapped[int] = cascade_key("groups")
    person_id: Mapped[int] = cascade_key("people")
    status: Mapped[str] = mapped_column(String(16), default="member")  # member | left
    named_facilitator: Mapped[bool] = mapped_column(Boolean, default=False)
    private_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the start date, kept when they come back
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest return, after leaving
    # Terms ([membership] term_months): when the current one ends, and what the member wishes
    # ("stay" or "stop") when asked a month before; the facilitators decide.
    term_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stay_wish: Mapped[str | None] = mapped_column(String(8))
    farewell_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # thanked on leaving (once a stay)
    # The group line that will name their arrival or departure (a scheduled event gathering them).
    news_event_id: Mapped[int | None] = mapped_column(Integer)

    group: Mapped[Group] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship(back_populates="memberships")


class MeetingSeries(Base):
    """A repeating meeting: every week on a weekday, or every month on its nth weekday."""

    __tablename__ = "meeting_series"

    group_id: Mapped[int] = cascade_key("groups")
    weekday: Mapped[int] = mapped_column(Integer)
    nth: Mapped[int | None] = mapped_column(Integer)  # None: weekly; -1: last of the month
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its end, said in its announcements: a last day ("jusqu'en juin") or a number of meetings.
    ends_on: Mapped[date | None] = mapped_column(Date)
    max_meetings: Mapped[int | None] = mapped_column(Integer)


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    group_id: Mapped[int] = cascade_key("groups")
    number: Mapped[int] = mapped_column(Integer)  # n° within the group, what facilitators type
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    announcement_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_rate: Mapped[int | None] = mapped_column(Integer)  # percent, once recorded
    meal: Mapped[bool] = mapped_column(Boolean, default=False)  # "/reunion … | repas": a meal is served

    group: Mapped[Group] = relationship()


class Rsvp(Base):
    """A member's answer to a meeting; the reason for "no" is told to facilitators only."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    meeting_id: Mapped[int] = cascade_key("meetings")
    person_id: Mapped[int] = cascade_key("people")
    answer: Mapped[str] = mapped_column(String(8))  # yes | no | maybe
    reason: Mapped[str | None] = mapped_column(String(16))  # health | work | transport | childcare | other
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    meeting_id: Mapped[int] = cascade_key("meetings")
    person_id: Mapped[int] = cascade_key("people")
    present: Mapped[bool] = mapped_column(Boolean)


class ScheduledEvent(Base):
    """Something due at a time: for a meeting (a reminder wave, the facilitators' list, the
    attendance checklist, the feedback poll), or for a group's other subject (a poll's reminder
    and closing, an action item's reminder, the monthly digest, news of a proposal), named by
    kind and subject_id. The scheduler is rebuilt from these rows."""

    __tablename__ = "scheduled_events"
    __table_args__ = (
        UniqueConstraint("meeting_id", "kind", "offset_minutes"),
        UniqueConstraint("kind", "subject_id", "offset_minutes", name="uq_scheduled_events_subject"),
        Index("ix_scheduled_events_due", "status", "due_at"),
        # One meeting's or one group's pending events, found without walking the others.
        Index("ix_scheduled_events_meeting_pending", "meeting_id", "status", "due_at"),
        Index("ix_scheduled_events_group_pending", "group_id", "status", "due_at"),
    )

    meeting_id: Mapped[int | None] = cascade_key("meetings", index=False)
    group_id: Mapped[int | None] = cascade_key("groups", index=False)
    subject_id: Mapped[int | None] = mapped_column(Integer)  # poll, action, proposal event... by kind
    kind: Mapped[str] = mapped_column(String(24))
    offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | skipped | cancelled
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One message to send: claimed before sending, marked after, so a crash re-sends at most
    what was in flight and never forgets anything."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient"),
        Index("ix_deliveries_ready", "status", "priority", "not_before"),
        # A person's deliveries: the reports held until they start the bot, and erasure.
        Index("ix_deliveries_person", "person_id", "status"),
    )

    event_id: Mapped[int] = cascade_key("scheduled_events")
    meeting_id: Mapped[int | None] = cascade_key("meetings")
    recipient: Mapped[str] = mapped_column(String(24))  # "group" or "person:<id>"
    person_id: Mapped[int | None] = cascade_key("people", index=False)
    kind: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer, default=1)  # 0: group messages go first
    # pending | sending | sent | failed | skipped; held: a report for a facilitator who has not
    # started the bot yet, released when they do (bot/outbox/reach.py)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(64))


class Proposal(Base):
    """A member's proposal to the decision-makers, numbered per group, and where it stands."""

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    group_id: Mapped[int] = cascade_key("groups")
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # new | adopted | not_adopted | sent | studying | accepted | refused | in_progress | done | withdrawn | merged
    state: Mapped[str] = mapped_column(String(16), default="new")
    state_note: Mapped[str | None] = mapped_column(String(300))  # to whom it was sent, why refused...
    progress: Mapped[int | None] = mapped_column(Integer)  # percent, while in progress
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Transmitted: to whom (from the department's list, or as typed) and by when the answer is
    # expected; when the first answer came through the link; when the deadline passed without one.
    addressee_id: Mapped[int | None] = mapped_column(ForeignKey("addressees.id", ondelete="SET NULL"))
    addressee_name: Mapped[str | None] = mapped_column(String(120))
    transmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Addressee(Base):
    """A service or an elected official the department's proposals go to, kept by the
    coordinators (professional data: a name and a work address)."""

    __tablename__ = "addressees"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProposalAnswer(Base):
    """What the addressee answered through the link; a later one is an update."""

    __tablename__ = "proposal_answers"

    proposal_id: Mapped[int] = cascade_key("proposals")
    addressee_name: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(16))  # accepted | refused | studying | in_progress
    text: Mapped[str | None] = mapped_column(String(300))
    until: Mapped[date | None] = mapped_column(Date)  # studying: an answer expected by then
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_update: Mapped[bool] = mapped_column(Boolean, default=False)
    in_time: Mapped[bool] = mapped_column(Boolean, default=True)


class Mail(Base):
    """An e-mail to send (an answer link, its reminder): written in the transaction that decided
    it, sent after the commit, claimed so that one process sends it, retried, kept a week."""

    __tablename__ = "mails"
    __table_args__ = (Index("ix_mails_status_due_at", "status", "due_at"),)

    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(64))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)


class ProposalChange(Base):
    """The history of a proposal: every state it went through, for the digest and indicators."""

    __tablename__ = "proposal_changes"

    proposal_id: Mapped[int] = cascade_key("proposals")
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(300))
    progress: Mapped[int | None] = mapped_column(Integer)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ProposalFollower(Base):
    """Someone who pressed "Suivre": they get every change in private."""

    __tablename__ = "proposal_followers"
    __table_args__ = (UniqueConstraint("proposal_id", "person_id"),)

    proposal_id: Mapped[int] = cascade_key("proposals")
    person_id: Mapped[int] = cascade_key("people")


class Poll(Base):
    """A native Telegram poll sent by Relais. poll_answer updates carry no chat: the Telegram
    poll id finds the group here."""

    __tablename__ = "polls"

    group_id: Mapped[int] = cascade_key("groups")
    telegram_poll_id: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # None: in a chat that became a supergroup
    question: Mapped[str] = mapped_column(String(300))
    options: Mapped[str] = mapped_column(Text)  # JSON list of the option texts
    counts: Mapped[str] = mapped_column(Text)  # JSON list of votes per option, from poll updates
    voters: Mapped[int] = mapped_column(Integer, default=0)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"), index=True)
    # The meeting an evaluation poll ("Cette réunion vous a été utile ?") asks about: its counts,
    # as Telegram reports them, are the meeting's evaluation in the reports.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    outcome: Mapped[str | None] = mapped_column(String(24))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PollVote(Base):
    """Who voted what in a non-anonymous poll (anonymous polls only have counts)."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "person_id"),)

    poll_id: Mapped[int] = cascade_key("polls")
    person_id: Mapped[int] = cascade_key("people")
    option_ids: Mapped[str] = mapped_column(String(64))  # "0" or "0,2"
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PriorityRound(Base):
    """A dot-vote: each member picks up to max_picks open proposals; the ranking at the end."""

    __tablename__ = "priority_rounds"

    group_id: Mapped[int] = cascade_key("groups")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    max_picks: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PriorityPick(Base):
    __tablename__ = "priority_picks"
    __table_args__ = (UniqueConstraint("round_id", "person_id", "proposal_id"),)

    round_id: Mapped[int] = cascade_key("priority_rounds")
    person_id: Mapped[int] = cascade_key("people")
    proposal_id: Mapped[int] = cascade_key("proposals")


class ActionItem(Base):
    """Who does what by when, decided together; the owner is reminded and reports back."""

    __tablename__ = "action_items"

    group_id: Mapped[int] = cascade_key("groups")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | blocked
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Place(Base):
    """A departure point a group's facilitators listed (a town, a car park): a public place, not
    anyone's address. People's own shared locations are never stored."""

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("group_id", "name_key"),)

    group_id: Mapped[int] = cascade_key("groups")
    name: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(60))  # lower case, no accents: what typed towns match
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RideOffer(Base):
    """A driver's seats to a meeting, from a departure point at a time."""

    __tablename__ = "ride_offers"

    meeting_id: Mapped[int] = cascade_key("meetings")
    driver_id: Mapped[int] = cascade_key("people")
    place_id: Mapped[int] = cascade_key("places", index=False)
    seats: Mapped[int] = mapped_column(Integer)
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RideRequest(Base):
    """Someone looking for a seat. waiting: no offer yet; proposed: asked to a driver (the seat is
    held); matched: accepted; cancelled."""

    __tablename__ = "ride_requests"

    meeting_id: Mapped[int] = cascade_key("meetings")
    person_id: Mapped[int] = cascade_key("people")
    place_id: Mapped[int] = cascade_key("places", index=False)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("ride_offers.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RideRefusal(Base):
    """A driver said no to a request (or could not be reached): it goes to the next offer."""

    __tablename__ = "ride_refusals"

    request_id: Mapped[int] = cascade_key("ride_requests")
    offer_id: Mapped[int] = cascade_key("ride_offers")
    __table_args__ = (UniqueConstraint("request_id", "offer_id"),)  # one refusal per driver and request


class DialogueState(Base):
    """Where someone is in a guided dialogue or a private question (bot/domain/dialogues.py): one
    open dialogue per person and chat, so a restart resumes at the same question. `data` holds the
    answers given so far (a draft meeting, a place and seats); it is the person's data (export,
    erasure) and expires with the dialogue."""

    __tablename__ = "dialogues"
    __table_args__ = (UniqueConstraint("user_id", "chat_id"),)

    user_id: Mapped[int] = mapped_column(BigInteger, index=True)  # Telegram id of who answers
    chat_id: Mapped[int] = mapped_column(BigInteger)  # where the answers are read (a group, or private)
    kind: Mapped[str] = mapped_column(String(24))
    step: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)  # the question to reply to, when one must
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Refresh(Base):
    """A message whose content follows a state (an announcement's counts) and must be edited to
    show it (bot/outbox/refresh.py). One row per message: `generation` counts the changes asked
    for, so a change made while an edit is under way gets an edit of its own; `edited_at` spaces
    the edits of one message. A pending row survives a restart: the edit still happens."""

    __tablename__ = "refreshes"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_refreshes_due", "status", "due_at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int] = mapped_column(Integer)  # the row the content is rendered from
    status: Mapped[str] = mapped_column(String(12))  # pending, editing, done
    generation: Mapped[int] = mapped_column(Integer, default=0)
    # Pending: when the edit is due. Done: the earliest moment of the next edit (the spacing
    # after the last), so that the next change plans it in the statement that counts it.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A digest of what the message shows since the last edit: a state that came back to it (a
    # "yes" taken back) needs no edit, which Telegram would refuse as "not modified".
    shown: Mapped[str | None] = mapped_column(String(64))
    # What the message carried besides its state, kept as sent (a reminder's minutes line and
    # proposals' news): an edit shows it again under the new counts.
    tail: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """A message that tells people something, written in the same transaction as what it tells
    (bot/outbox/notices.py): a change (a meeting cancelled or moved, a ride offered, accepted or
    cancelled) or an answer to an update (a reply, an edit after a tap, a document; `kind`
    "reply"). It is sent after the commit: a change rolled back tells nobody, and a process that
    dies before sending leaves the row for another run to send. A row is claimed before it is
    sent (`claimed_by`, `claimed_at`: a lease) and deleted once sent, since its text may name
    people."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_ready", "status", "not_before"),)

    kind: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = cascade_key("groups")
    person_id: Mapped[int | None] = cascade_key("people")  # the recipient in private; None: the group
    text: Mapped[str] = mapped_column(Text)
    markup: Mapped[dict | None] = mapped_column(JSON)  # an inline keyboard, as Telegram's JSON
    status: Mapped[str] = mapped_column(String(12))  # sending | pending | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(64))
    # An answer to an update names its chat and its whole Bot API call (bot/outbox/calls.py); a
    # notice of a change finds its chat from the person or group and is a text with buttons.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    method: Mapped[str | None] = mapped_column(String(40))  # python-telegram-bot's method name
    call: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the call's arguments, encoded
    after: Mapped[str | None] = mapped_column(String(32))  # what to record once sent (bot/outbox/recorded.py)
    after_args: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReachOut(Base):
    """A facilitator who could not be reached in private was told in the group, once per kind of
    report: a report waiting for them is delivered as soon as they start the bot."""

    __tablename__ = "reach_outs"
    __table_args__ = (UniqueConstraint("group_id", "person_id", "kind"),)

    group_id: Mapped[int] = cascade_key("groups", index=False)
    person_id: Mapped[int] = cascade_key("people")
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebLogin(Base):
    """A one-time link to the dashboard, sent by /tableau: only a hash of its secret is kept, and
    `used_at` records that it served (a link opens one session, once)."""

    __tablename__ = "web_logins"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = cascade_key("people")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A dashboard session opened by a login link. Kept in the database so that any process
    behind the load balancer can serve the next page; ends after `dashboard.idle_minutes`."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = cascade_key("people")
    csrf: Mapped[str] = mapped_column(String(64))  # every form carries it back
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Question(Base):
    """A member's question about a meeting ("❓ Une question"), asked in private and read by those
    who run the meeting only; the answer goes back to the member in private. The group sees
    nothing. Both texts are the member's data (export, erasure)."""

    __tablename__ = "questions"

    group_id: Mapped[int] = cascade_key("groups")
    meeting_id: Mapped[int] = cascade_key("meetings")
    person_id: Mapped[int] = cascade_key("people")  # who asked
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MeetingNeed(Base):
    """What a member needs to come to a meeting, said in private with one tap: childcare (how many
    children) and, when a meal is served, a dietary need. Facilitators get counts, never names, in
    the day-before list and in /bilan; the group sees nothing."""

    __tablename__ = "meeting_needs"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    meeting_id: Mapped[int] = cascade_key("meetings", index=False)
    person_id: Mapped[int] = cascade_key("people")
    children: Mapped[int] = mapped_column(Integer, default=0)  # to be looked after during the meeting
    diet: Mapped[str | None] = mapped_column(String(16))  # vegetarian | no_pork | no_gluten | allergy
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DatePoll(Base):
    """/quand: 2 to 6 candidate dates for the next meeting. Members tick those they can make; at
    the deadline, or when a facilitator chooses, one becomes the meeting and the rest are released."""

    __tablename__ = "date_polls"

    group_id: Mapped[int] = cascade_key("groups")
    place: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the group message with the dates
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | chosen | closed
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DateOption(Base):
    __tablename__ = "date_options"

    date_poll_id: Mapped[int] = cascade_key("date_polls")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DateTick(Base):
    """A member can make this candidate date (a second tap takes it back)."""

    __tablename__ = "date_ticks"
    __table_args__ = (UniqueConstraint("option_id", "person_id"),)

    option_id: Mapped[int] = cascade_key("date_options", index=False)
    person_id: Mapped[int] = cascade_key("people")
    ticked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Evaluation(Base):
    """The evaluation sheet, in private the day after, to those who came: "utile ?" with one tap,
    and an optional free text for the next meeting, read by the facilitators without the member's
    name unless they sign it."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    meeting_id: Mapped[int] = cascade_key("meetings", index=False)
    person_id: Mapped[int] = cascade_key("people")
    useful: Mapped[str | None] = mapped_column(String(8))  # very | bit | not
    hope: Mapped[str | None] = mapped_column(Text)  # "Qu'attendez-vous de la prochaine réunion ?"
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Minutes(Base):
    """The compte rendu of a meeting (/compterendu): a text or a document (kept as Telegram's file
    id only). It goes first to those who came, for their opinion ("✅ D'accord" / "✏️ Compléter"),
    then, at `publish_at` or on a facilitator's word, to the group (pinned when the bot may pin)
    and in private to the members who did not come."""

    __tablename__ = "minutes"

    meeting_id: Mapped[int] = cascade_key("meetings", index=False)
    group_id: Mapped[int] = cascade_key("groups")
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="review")  # review | published
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the group's copy, once posted
    __table_args__ = (UniqueConstraint("meeting_id"),)


class MinutesReview(Base):
    """A member who came agreed with the minutes, or sent a comment to the facilitators."""

    __tablename__ = "minutes_reviews"
    __table_args__ = (UniqueConstraint("minutes_id", "person_id"),)

    minutes_id: Mapped[int] = cascade_key("minutes", index=False)
    person_id: Mapped[int] = cascade_key("people")
    agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CostClaim(Base):
    """A member's costs for coming to a meeting they attended ("organiser le défraiement"): a
    receipt (kept as Telegram's file id only) with an amount and a category, or the group's flat
    allowance. Facilitators mark it refunded or refused (with the reason); erased with its receipt
    `costs.keep_months` after it was made."""

    __tablename__ = "cost_claims"

    meeting_id: Mapped[int] = cascade_key("meetings")
    group_id: Mapped[int] = cascade_key("groups")
    person_id: Mapped[int] = cascade_key("people")
    category: Mapped[str] = mapped_column(String(16))  # transport | fuel | childcare | meal | other | allowance
    amount_cents: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[str | None] = mapped_column(String(255))  # the receipt's photo
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | refunded | refused
    reason: Mapped[str | None] = mapped_column(Text)  # why it was refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class CharterReading(Base):
    """A member said "✅ J'ai lu" under the group's charter (once; a new charter asks again)."""

    __tablename__ = "charter_readings"
    __table_args__ = (UniqueConstraint("group_id", "person_id"),)

    group_id: Mapped[int] = cascade_key("groups", index=False)
    person_id: Mapped[int] = cascade_key("people")
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandledUpdate(Base):
    """A Telegram update whose transaction committed, in whichever process handled it: a copy
    Telegram delivers again (to this process or, behind a load balancer, to another) is dropped.
    Kept a day, as long as Telegram keeps an update it could re-send."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Worker(Base):
    """A running Relais process, seen every few seconds: processes sharing a database share
    Telegram's 30 messages a second between those alive (bot/outbox/workers.py)."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(64), unique=True)  # host:pid:random, as claims name it
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sending: Mapped[bool] = mapped_column(Boolean, default=False)  # a wave in hand at its last beat


class GroupSend(Base):
    """A start reserved for a message to a group, by any process sharing the database: Telegram
    allows 20 a minute in one group, whichever process sends them (bot/outbox/group_budget.py).
    Rows older than two minutes are dropped as new ones come."""

    __tablename__ = "group_sends"
    __table_args__ = (Index("ix_group_sends_chat_at", "chat_id", "at"),)

    chat_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SmsContact(Base):
    """A member's phone number, for the SMS Telegram cannot carry: registered by a facilitator with
    the member's consent, asked again by the first SMS ("Répondez OUI"); nothing else is sent
    before a OUI, and nothing after a STOP. Never shown in a group, never logged."""

    __tablename__ = "sms_contacts"
    __table_args__ = (UniqueConstraint("group_id", "person_id"), Index("ix_sms_contacts_number", "number"))

    group_id: Mapped[int] = cascade_key("groups", index=False)
    person_id: Mapped[int] = cascade_key("people")
    number: Mapped[str] = mapped_column(String(16))  # E.164: +33612345678
    status: Mapped[str] = mapped_column(String(8), default="asked")  # asked | active | stopped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsReceived(Base):
    """An SMS the gateway delivered to the webhook, by its event id: a webhook delivered twice
    counts once. What it said is not kept (an answer is recorded where a tap would be)."""

    __tablename__ = "sms_received"

    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sms_contacts.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an APPEL: when someone called back
