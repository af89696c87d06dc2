"""/quand: the candidate dates with their counts, who can come when (facilitators, in private),
and the outcome."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t, tn
from bot.ui.meetings import short_when, when_text
from storage.models import DateOption, DatePoll, Group, Meeting, Person


def date_poll_text(language: str, group: Group, poll: DatePoll) -> str:
    return t(
        language,
        "when.poll",
        topic=poll.topic,
        place=poll.place,
        until=when_text(poll.closes_at, group.timezone, language),
    )


def date_poll_keyboard(
    language: str, group: Group, poll: DatePoll, options: list[DateOption], counts: dict[int, int]
) -> InlineKeyboardMarkup:
    rows = [
        [
            cb.key(
                f"✋ {short_when(option.starts_at, group.timezone, language)} · {counts.get(option.id, 0)}",
                cb.DateTickButton(option.id),
            )
        ]
        for option in options
    ]
    rows.append([cb.key(plain(language, "button.date_choose"), cb.DateChoose(poll.id))])
    return InlineKeyboardMarkup(rows)


def who_text(
    language: str, group: Group, poll: DatePoll, options: list[DateOption], who: dict[int, list[Person]]
) -> str:
    lines = [t(language, "when.who_title", topic=poll.topic, group=group.display_name)]
    for option in options:
        names = ", ".join(person.first_name for person in who.get(option.id, [])) or plain(language, "digest.nobody")
        lines.append(
            tn(
                language,
                "when.who_line",
                len(who.get(option.id, [])),
                when=when_text(option.starts_at, group.timezone, language),
                names=names,
            )
        )
    return "\n".join(lines)


def pick_keyboard(language: str, group: Group, options: list[DateOption]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(
                    plain(language, "button.date_pick", when=short_when(option.starts_at, group.timezone, language)),
                    cb.DatePick(option.id),
                )
            ]
            for option in options
        ]
    )


def date_poll_outcome(
    language: str, group: Group, poll: DatePoll, meeting: Meeting | None, counts: dict[int, int]
) -> str:
    if meeting is None:
        return t(language, "when.none_chosen", topic=poll.topic)
    coming = max(counts.values(), default=0)
    return tn(
        language,
        "when.chosen",
        coming,
        when=when_text(meeting.starts_at, group.timezone, language),
        place=meeting.place,
    )
