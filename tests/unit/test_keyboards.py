"""Keyboards Telegram would refuse are never built: an empty inline keyboard becomes no keyboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ui.carpool import time_keyboard
from bot.ui.proposals import priority_keyboard
from storage.models import Group, Meeting, PriorityRound

GROUP = Group(id=1, chat_id=-1, title="G", timezone="Europe/Paris", language="fr")


def test_a_round_with_no_open_proposal_left_has_no_keyboard():
    assert priority_keyboard("fr", PriorityRound(id=3, group_id=1, max_picks=3), []) is None


def test_no_departure_time_left_to_offer_means_no_keyboard():
    starts = datetime(2026, 11, 12, 13, 0, tzinfo=UTC)
    meeting = Meeting(id=5, group_id=1, number=1, starts_at=starts, place="P", topic="T")
    assert time_keyboard("fr", GROUP, meeting, starts - timedelta(minutes=10)) is None
    offered = time_keyboard("fr", GROUP, meeting, starts - timedelta(hours=3))
    assert offered is not None and offered.inline_keyboard[0]
