"""The one door through which handlers speak, by intent. Handlers reach it through
handlers/common (which adds the update's session, clock and settings); no feature handler imports
bot/outbox itself (tests/unit/test_architecture.py).

- **reply**: now, to the chat the update came from, quoting what asked, in its topic; written
  down with the update's transaction and sent once it commits (bot/outbox/after_commit.py), with
  what it records once sent (`after_sent`: an announcement's message id, a dialogue's question).
- **notify**: durable and once, to a person in private or to a group: a row written with the
  change, sent after the commit, taken over by the next dispatcher run if this process dies.
- **plan**: at a time: the dispatcher runs at these moments (the database already holds what is
  due), asked once the transaction has committed.
- **follow**: keep live messages in step with their subject's state (an announcement's counts):
  a row per message asks for an edit (written here, in the update's transaction), which the
  Refresher makes (bot/outbox/refresh.py): coalesced, spaced, surviving a restart.

And what some features need of the outbox besides: the carpool's notices when a meeting moves or a
ride is asked for, the reports released when a facilitator opens the private chat, and what waits
to go out (for /healthz)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from bot.outbox.after_commit import (
    Answer,
    Send,
    collecting,
    queue_answer,
    queue_later,
    queue_message,
    queue_send,
    queue_wake,
    refresh_asked,
)
from bot.outbox.answers import Outcome, classify
from bot.outbox.backlog import read_backlog as waiting_to_go
from bot.outbox.claims import pending_due_times, release_held
from bot.outbox.recorded import AfterSent, after_sent, poll_record
from bot.outbox.refresh import KINDS, LEASE
from bot.outbox.ride_changes import ask_drivers, tell_rides_changed
from bot.outbox.sending import to_group, to_person
from bot.outbox.unit_of_work import Work, later_idle, unit_of_work
from storage.db import insert_if_absent, table_of
from storage.models import Group, Person, Refresh, UTCDateTime

OnSent = AfterSent  # what a message records once sent

__all__ = [
    "AfterSent",
    "OnSent",
    "Outcome",
    "Work",
    "after_sent",
    "answer_tap",
    "ask_drivers",
    "classify",
    "collecting",
    "follow",
    "later",
    "later_idle",
    "notify",
    "pending_due_times",
    "plan",
    "poll_record",
    "release_held",
    "reply_in",
    "send_in",
    "tell_rides_changed",
    "unit_of_work",
    "waiting_to_go",
]


def reply_in(
    chat_id: int, text: str, on_sent: AfterSent | None = None, always: bool = False, **options: object
) -> None:
    """A text to a chat, sent once the update commits (`always`: even if it fails: an apology)."""
    queue_message(chat_id, text, on_sent, always, **options)


def send_in(chat_id: int, method: str, on_sent: AfterSent | None = None, **options: object) -> None:
    """Any other Bot API call to a chat (a document, a poll, an edit), once the update commits."""
    queue_send(Send(chat_id, method, dict(options), on_sent))


def answer_tap(query_id: str, options: dict[str, object], always: bool = False, by: int | None = None) -> None:
    """The short answer to a pressed button (the last one asked for wins); `by`, who pressed:
    their answers go out in the order of their taps."""
    queue_answer(Answer(query_id, dict(options), always, by))


def notify(
    session: AsyncSession,
    to: Person | Group,
    text: str,
    kind: str,
    now: datetime,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Durable, once: to a person in private (False for someone Relais cannot write to, or who
    paused its messages) or to a group (False once Relais has left it)."""
    if isinstance(to, Group):
        return to_group(session, to, text, kind, now, reply_markup)
    return to_person(session, to, text, kind, now, reply_markup)


def later(work: Callable[[], Awaitable[None]]) -> None:
    """Start `work` once the update has committed, outside its transaction (a chart or a PDF drawn
    there would hold SQLite's one writer turn)."""
    queue_later(work)


def plan(moments: list[datetime]) -> None:
    """The dispatcher runs at these moments, once the update's transaction has committed."""
    queue_wake(moments)


# Built once: every tap runs it. One more change asked for: while an edit is planned or under way
# it only counts (an edit under way shows an older state: a new generation asks again); after the
# last edit, the next is planned for now, or for the moment the spacing allows, which the refresher
# left in a done row's due_at (bot/outbox/refresh.py). The row is locked by the statement: two
# processes' changes at once are counted one after the other.
# Plain SQL on the table: no Refresh row is loaded in an update's session.
_REFRESH = table_of(Refresh).c
_DONE = _REFRESH.status == "done"
_NOW = bindparam("b_now", type_=UTCDateTime())
_ONE_MORE = (
    update(table_of(Refresh))
    .where(_REFRESH.chat_id == bindparam("b_chat"), _REFRESH.message_id == bindparam("b_message"))
    .values(
        kind=bindparam("b_kind"),
        subject_id=bindparam("b_subject"),
        generation=_REFRESH.generation + 1,
        status=case((_DONE, "pending"), else_=_REFRESH.status),
        due_at=case((_DONE & (_REFRESH.due_at < _NOW), _NOW), else_=_REFRESH.due_at),
    )
    .returning(_REFRESH.status, _REFRESH.due_at, _REFRESH.claimed_at)
)


async def follow(session: AsyncSession, chat_id: int, subject_id: int, messages: dict[str, int], now: datetime) -> None:
    """Keep these messages of a chat (by refresh kind: {"announcement": 42}) in step with their
    subject's state, each edited at most every few seconds (the refresher's spacing), with the
    state as it is then. One statement a message, however many taps come at once."""
    for kind, message_id in messages.items():
        if kind not in KINDS:
            raise KeyError(f"no refresh kind {kind!r}")
        values = {"b_chat": chat_id, "b_message": message_id, "b_kind": kind, "b_subject": subject_id, "b_now": now}
        asked = (await session.execute(_ONE_MORE, values)).first()
        if asked is None:  # the message's first change ever (two at once: one inserts, both count)
            first = {"kind": kind, "chat_id": chat_id, "message_id": message_id, "subject_id": subject_id}
            first |= {"status": "done", "generation": 0, "due_at": now}
            await insert_if_absent(session, Refresh, first, ["chat_id", "message_id"])
            asked = (await session.execute(_ONE_MORE, values)).one()
        status, due_at, claimed_at = asked
        # The refresher plans its run for then (no look at the table before): an edit under way
        # asks again when it ends, or, its process gone, once its lease is over.
        refresh_asked(claimed_at + LEASE if status == "editing" and claimed_at is not None else due_at)
