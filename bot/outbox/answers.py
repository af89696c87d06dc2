"""What Telegram's answer to a send means, decided in one place for every sender: an update's
messages (after_commit.py), the dispatcher's deliveries (dispatch.py), the edits that follow a
state (refresh.py), the rate limiter's count (pacing.py) and the apology (handlers/errors.py).

- SENT: it went. An edit that changes nothing counts as sent: the message already shows it.
- MIGRATED: the group became a supergroup: follow it to `migrated_to`; a message goes there
  again, an edit has nothing left to edit (the supergroup numbers its messages anew).
- BLOCKED (403): the person blocked the bot or never started it; the bot left the group.
- RATE_LIMITED (429): wait `retry_after` seconds, then the same send again.
- REFUSED (400): Telegram will never take it as it is (a deleted message, a closed topic, a right
  missing): given up, never retried.
- TEMPORARY: the network, a timeout, Telegram's 5xx: tried again later, a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError


class Outcome(StrEnum):
    SENT = "sent"
    MIGRATED = "migrated"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate_limited"
    REFUSED = "refused"
    TEMPORARY = "temporary"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    retry_after: float = 0.0  # RATE_LIMITED: seconds to wait
    migrated_to: int | None = None  # MIGRATED: the supergroup's id
    detail: str = ""  # the error's class, for logs (never its text: it may quote people)


def classify(error: BaseException | None) -> Answer:
    if error is None:
        return Answer(Outcome.SENT)
    detail = error.__class__.__name__
    if isinstance(error, ChatMigrated):
        return Answer(Outcome.MIGRATED, migrated_to=error.new_chat_id, detail=detail)
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
        return Answer(Outcome.RATE_LIMITED, retry_after=seconds, detail=detail)
    if isinstance(error, Forbidden):
        return Answer(Outcome.BLOCKED, detail=detail)
    if isinstance(error, BadRequest):  # before NetworkError, of which python-telegram-bot makes it a kind
        if "not modified" in error.message:
            return Answer(Outcome.SENT, detail=detail)
        return Answer(Outcome.REFUSED, detail=detail)
    if isinstance(error, NetworkError | TimeoutError | OSError):
        return Answer(Outcome.TEMPORARY, detail=detail)
    if isinstance(error, TelegramError):  # a conflict, an endpoint gone: not this send's to fix
        return Answer(Outcome.TEMPORARY, detail=detail)
    return Answer(Outcome.REFUSED, detail=detail)  # a defect: retrying would only repeat it
