"""The one classifier of Telegram's answers (bot/outbox/answers.py), used by every sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.outbox.answers import Outcome, classify


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, Outcome.SENT),
        (BadRequest("Message is not modified: specified new message content"), Outcome.SENT),
        (ChatMigrated(-100123), Outcome.MIGRATED),
        (Forbidden("Forbidden: bot was blocked by the user"), Outcome.BLOCKED),
        (RetryAfter(timedelta(seconds=7)), Outcome.RATE_LIMITED),
        (BadRequest("Message to edit not found"), Outcome.REFUSED),
        (BadRequest("TOPIC_CLOSED"), Outcome.REFUSED),
        (TimedOut(), Outcome.TEMPORARY),
        (NetworkError("Bad Gateway"), Outcome.TEMPORARY),
        (Conflict("terminated by other getUpdates request"), Outcome.TEMPORARY),
        (ConnectionResetError(), Outcome.TEMPORARY),
        (ValueError("a defect"), Outcome.REFUSED),
    ],
)
def test_every_answer_has_one_meaning(error, outcome):
    assert classify(error).outcome is outcome


def test_what_the_answer_carries():
    assert classify(ChatMigrated(-100123)).migrated_to == -100123
    assert classify(RetryAfter(timedelta(seconds=7))).retry_after == 7
    assert classify(BadRequest("Chat not found")).detail == "BadRequest"  # the class, never the text
