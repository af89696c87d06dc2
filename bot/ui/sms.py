"""What an SMS says: short, plain, 7-bit where French allows (one SMS, not three), never more than
two SMS long. The meeting by day, time and place; the answers by number; a number to call."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.sms import readable, segments, to_gsm
from bot.ui.i18n import plain
from bot.ui.meetings import when_text
from storage.models import Group, Meeting

MAX_SEGMENTS = 2


def _fit(text: str, place: str, build: Callable[[str], str]) -> str:
    """The text, its place shortened word by word until it fits in two SMS."""
    words = place.split()
    while len(words) > 1 and segments(to_gsm(text)) > MAX_SEGMENTS:
        words.pop()
        text = build(" ".join(words) + "…")
    return to_gsm(text)


def consent_text(language: str, group: Group) -> str:
    return to_gsm(plain(language, "sms.consent", group=group.display_name))


def reminder_text(language: str, group: Group, meeting: Meeting) -> str:
    when = when_text(meeting.starts_at, group.timezone, language)

    def build(place: str) -> str:
        text = plain(language, "sms.reminder", group=group.display_name, when=when, place=place)
        if group.sms_call_number:
            text += " " + plain(language, "sms.call", number=readable(group.sms_call_number))
        return text

    return _fit(build(meeting.place), meeting.place, build)


def change_text(language: str, group: Group, meeting: Meeting) -> str:
    when = when_text(meeting.starts_at, group.timezone, language)
    if meeting.status == "cancelled":
        return to_gsm(plain(language, "sms.cancelled", group=group.display_name, when=when))

    def build(place: str) -> str:
        return plain(language, "sms.moved", group=group.display_name, when=when, place=place)

    return _fit(build(meeting.place), meeting.place, build)


def reply_text(language: str, stopped: bool) -> str:
    return to_gsm(plain(language, "sms.stopped" if stopped else "sms.consented"))
