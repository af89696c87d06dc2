"""Meeting texts and buttons, shared by handlers (replies) and jobs (reminders).

Callback data stays far below Telegram's 64 bytes: it carries ids, never state.
  rsvp:<meeting id>:<y|n|m>   answer          why:<meeting id>:<reason>   reason for "no"
  ics:<meeting id>            calendar file   att:<meeting id>:<person id|ok>   checklist
  car:<meeting id>:<o|r>      carpool offer / request (handlers/carpool.py)
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.lists import format_list
from telegram import InlineKeyboardMarkup

from bot.domain.groups import TIMEZONE_CHOICES
from bot.domain.meetings import REASONS, Counts, ReminderReach
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t, tn
from storage.models import Group, Meeting, MeetingSeries, Person

ANSWER_CODES = {"y": "yes", "n": "no", "m": "maybe"}


def clock(local: datetime, language: str) -> str:
    """'14h', '14h30' in French; '14:30' in English."""
    if language == "fr":
        return f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"
    return f"{local.hour}:{local.minute:02d}"


def when_text(moment: datetime, zone_name: str, language: str) -> str:
    """'mardi 3 décembre à 14h30', in the group's time zone."""
    local = moment.astimezone(ZoneInfo(zone_name))
    day = format_date(local.date(), "EEEE d MMMM", locale=language)
    return f"{day} {'à' if language == 'fr' else 'at'} {clock(local, language)}"


def relative_when(moment: datetime, zone_name: str, language: str, now: datetime) -> str:
    """'aujourd'hui à 18h', 'demain à 9h', or 'vendredi 6 novembre à 18h' further ahead."""
    zone = ZoneInfo(zone_name)
    local = moment.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    if days == 0:
        return t(language, "when.today", time=clock(local, language))
    if days == 1:
        return t(language, "when.tomorrow", time=clock(local, language))
    return when_text(moment, zone_name, language)


def short_when(moment: datetime, zone_name: str, language: str) -> str:
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{format_date(local.date(), 'EEE d MMM', locale=language)} {clock(local, language)}"


def counts_line(language: str, counts: Counts) -> str:
    return t(language, "meeting.counts", yes=counts.yes, no=counts.no, maybe=counts.maybe)


def meeting_body(group: Group, meeting: Meeting, counts: Counts | None = None, language: str | None = None) -> str:
    language = language or group.language
    lines = [
        t(language, "meeting.title", number=meeting.number, topic=meeting.topic),
        t(language, "meeting.when", when=when_text(meeting.starts_at, group.timezone, language)),
        t(language, "meeting.place", place=meeting.place),
    ]
    if meeting.meal:
        lines.append(t(language, "meeting.meal"))
    if meeting.agenda:
        lines.append(t(language, "meeting.agenda", agenda=meeting.agenda))
    if counts is not None:
        lines.append("")
        lines.append(counts_line(language, counts))
    return "\n".join(lines)


def announcement_text(
    group: Group, meeting: Meeting, counts: Counts, series: tuple[MeetingSeries, int] | None = None
) -> str:
    """The announcement; a meeting of a series that ends says so ("jusqu'au 30 juin", "2 sur 6")."""
    text = t(group.language, "meeting.announce_intro") + "\n" + meeting_body(group, meeting, counts)
    if series is not None:
        text += "\n" + series_end_line(group.language, *series)
    return text + "\n" + charter_line(group)


def charter_line(group: Group) -> str:
    """One line of the group's charter, recalled by every announcement: its first line, or the
    default's."""
    if group.charter:
        first = group.charter.splitlines()[0]
        return t(group.language, "charter.line", text=first if len(first) <= 120 else first[:119] + "…")
    return t(group.language, "charter.line_default")


def series_end_line(language: str, series: MeetingSeries, rank: int) -> str:
    if series.max_meetings is not None:
        return t(language, "meeting.series_count", rank=rank, total=series.max_meetings)
    last = series.ends_on
    return t(
        language, "meeting.series_until", day=format_date(last, "EEEE d MMMM yyyy", locale=language) if last else ""
    )


def rsvp_keyboard(
    language: str, meeting: Meeting, with_calendar: bool = True, with_pause: bool = False
) -> InlineKeyboardMarkup:
    rows = [
        [
            cb.key(plain(language, "button.rsvp_yes"), cb.Answer(meeting.id, "y")),
            cb.key(plain(language, "button.rsvp_no"), cb.Answer(meeting.id, "n")),
            cb.key(plain(language, "button.rsvp_maybe"), cb.Answer(meeting.id, "m")),
        ]
    ]
    question = cb.key(plain(language, "button.question"), cb.AskQuestion(meeting.id))
    if with_calendar:
        rows.append([cb.key(plain(language, "button.calendar"), cb.CalendarFile(meeting.id)), question])
    else:
        rows.append([question])
    # Carpooling: mobility is the first reason people cannot come.
    rows.append(
        [
            cb.key(plain(language, "button.car_offer"), cb.Carpool(meeting.id, "o")),
            cb.key(plain(language, "button.car_request"), cb.Carpool(meeting.id, "r")),
        ]
    )  # the same two as bot/ui/carpool.car_keyboard (which imports this module)
    # Childcare and meals are barriers beside transport: said in private, counted for facilitators.
    needs = [cb.key(plain(language, "button.need_childcare"), cb.Need(meeting.id, "kids"))]
    if meeting.meal:
        needs.append(cb.key(plain(language, "button.need_meal"), cb.Need(meeting.id, "meal")))
    rows.append(needs)
    if with_pause:  # in private: stopping reminders is one tap away, and erases nothing
        rows.append([cb.key(plain(language, "button.private_off"), cb.PrivateMessages("off"))])
    return InlineKeyboardMarkup(rows)


def reason_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    buttons = [cb.key(plain(language, f"reason.{reason}"), cb.AbsenceReason(meeting.id, reason)) for reason in REASONS]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:4], buttons[4:]])


def days_until(meeting: Meeting, zone_name: str, now: datetime) -> int:
    """Calendar days from `now` to the meeting, in the group's time zone (0: today)."""
    zone = ZoneInfo(zone_name)
    return (meeting.starts_at.astimezone(zone).date() - now.astimezone(zone).date()).days


def reminder_intro(language: str, meeting: Meeting, zone_name: str, now: datetime) -> str:
    """ "C'est demain !", "Dans une semaine :", as a person would say it."""
    days = days_until(meeting, zone_name, now)
    if days <= 0:
        return t(language, "reminder.today")
    if days == 1:
        return t(language, "reminder.tomorrow")
    if days == 7:
        return t(language, "reminder.in_a_week")
    return tn(language, "reminder.in_days", days)


def reminder_text(group: Group, meeting: Meeting, counts: Counts, now: datetime) -> str:
    return reminder_intro(group.language, meeting, group.timezone, now) + "\n" + meeting_body(group, meeting, counts)


def private_reminder_text(language: str, group: Group, meeting: Meeting, answered: str | None, now: datetime) -> str:
    """The reminder in private: when, where, and what the person said (or a gentle nudge)."""
    lines = [
        reminder_intro(language, meeting, group.timezone, now),
        t(language, "meeting.private_group", group=group.display_name),
        meeting_body(group, meeting, language=language),
        "",
        t(language, "reminder.nudge" if answered is None else f"reminder.you_said.{answered}"),
    ]
    return "\n".join(lines)


def answered_keyboard(language: str, meeting: Meeting) -> InlineKeyboardMarkup:
    """Under a private reminder to someone who answered: one button to change it, not six again."""
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.change_answer"), cb.ChangeAnswer(meeting.id)),
                cb.key(plain(language, "button.question"), cb.AskQuestion(meeting.id)),
            ],
            [cb.key(plain(language, "button.private_off"), cb.PrivateMessages("off"))],
        ]
    )


def _reason(language: str, reason: str | None) -> str:
    return plain(language, f"reason.{reason or 'none'}")


def digest_text(
    language: str,
    group: Group,
    meeting: Meeting,
    members: list,
    runners: set[int],
    with_reasons: bool = True,
    texted: frozenset[int] = frozenset(),
) -> str:
    """For those who run the meeting only (bot/domain/facilitators.py): who has not answered, who
    declined and, for those who may read it, why. `runners` (person ids) are not listed as silent;
    those reached by SMS (`texted`) are marked so."""

    def name(person: Person) -> str:
        return person.first_name + (" (SMS)" if person.id in texted else "")

    silent = [name(person) for person, _, rsvp in members if rsvp is None and person.id not in runners]
    declined = [
        f"{name(person)} ({_reason(language, rsvp.reason)})" if with_reasons else name(person)
        for person, _, rsvp in members
        if rsvp is not None and rsvp.answer == "no"
    ]
    counts = Counts(
        yes=sum(1 for _, _, r in members if r and r.answer == "yes"),
        no=len(declined),
        maybe=sum(1 for _, _, r in members if r and r.answer == "maybe"),
    )
    lines = [t(language, "digest.intro", group=group.display_name), meeting_body(group, meeting, counts, language), ""]
    lines.append(t(language, "digest.silent", names=", ".join(silent) if silent else plain(language, "digest.nobody")))
    lines.append(
        t(language, "digest.declined", names=", ".join(declined) if declined else plain(language, "digest.nobody"))
    )
    return "\n".join(lines)


CHECKLIST_PAGE = 90  # names per page: with the page turns and "Enregistrer", under Telegram's 100 buttons


def checklist_names(people: list[Person]) -> dict[int, str]:
    """Each person's name in the checklist, told apart from a namesake (a wrong tick would end up
    in an official attestation): their @username, or else a number in the order they came."""
    counts = Counter(person.first_name for person in people)
    seen: Counter[str] = Counter()
    names = {}
    for person in sorted(people, key=lambda p: p.id):
        name = person.first_name[:40]
        if counts[person.first_name] > 1 and person.username:
            name += f" @{person.username}"
        elif counts[person.first_name] > 1:
            seen[person.first_name] += 1
            name += f" ({seen[person.first_name]})"
        names[person.id] = name
    return names


def checklist_page_of(rows: list[tuple[Person, bool]], person_id: int) -> int:
    return next((index // CHECKLIST_PAGE for index, (person, _) in enumerate(rows) if person.id == person_id), 0)


def attendance_keyboard(
    language: str, meeting: Meeting, rows: list[tuple[Person, bool]], page: int = 0
) -> InlineKeyboardMarkup:
    names = checklist_names([person for person, _ in rows])
    pages = max(1, -(-len(rows) // CHECKLIST_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = rows[page * CHECKLIST_PAGE : (page + 1) * CHECKLIST_PAGE]
    buttons = [
        [cb.key(("✅ " if present else "⬜ ") + names[person.id], cb.Attendance(meeting.id, person.id))]
        for person, present in shown
    ]
    if pages > 1:
        turns = []
        if page > 0:
            turns.append(cb.key(plain(language, "button.page_previous"), cb.AttendancePage(meeting.id, page - 1)))
        if page < pages - 1:
            turns.append(cb.key(plain(language, "button.page_next"), cb.AttendancePage(meeting.id, page + 1)))
        buttons.append(turns)
    buttons.append([cb.key(plain(language, "button.attendance_save"), cb.Attendance(meeting.id, "ok"))])
    return InlineKeyboardMarkup(buttons)


def draft_preview(language: str, when: str, place: str, topic: str) -> str:
    """The guided /reunion's last step: what will be announced, before it is."""
    return "\n".join(
        [
            t(language, "meeting.preview", when=when),
            t(language, "meeting.place", place=place),
            t(language, "meeting.topic", topic=topic),
        ]
    )


def publish_keyboard(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.publish"), cb.PublishMeeting("ok")),
                cb.key(plain(language, "button.cancel"), cb.PublishMeeting("no")),
            ]
        ]
    )


def timezone_keyboard(language: str) -> InlineKeyboardMarkup:
    """/configurer: one button per time zone a group may be in."""
    return InlineKeyboardMarkup(
        [
            [cb.key(plain(language, f"timezone.{zone}"), cb.TimeZoneChoice(index))]
            for index, zone in enumerate(TIMEZONE_CHOICES)
        ]
    )


def save_keyboard(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.save"), cb.SaveSetup("ok")),
                cb.key(plain(language, "button.cancel"), cb.SaveSetup("no")),
            ]
        ]
    )


def reminders_confirmation(language: str, group: Group, reach: ReminderReach) -> str:
    """For the facilitator who planned a meeting: when the reminders go out, and how many members
    will get them in private (the others see them in the group only)."""
    if not reach.moments:
        return t(language, "meeting.reminders_none")
    moments = format_list([when_text(moment, group.timezone, language) for moment in reach.moments], locale=language)
    return (
        t(language, "meeting.reminders_plan", moments=moments)
        + " "
        + tn(language, "meeting.reminders_private", reach.in_private, total=reach.members)
    )


ALERT_MAX = 200  # Telegram's limit for the text of a tap's answer


def my_meetings_lines(language: str, group: Group, coming: list[tuple[Meeting, str | None]]) -> list[str]:
    """One line per coming meeting: when, where, and what the person said."""
    return [
        t(
            language,
            "mine.line",
            when=when_text(meeting.starts_at, group.timezone, language),
            place=meeting.place,
            answer=t(language, f"reminder.you_said.{answer}" if answer else "mine.you_said_none"),
        )
        for meeting, answer in coming
    ]


def my_meetings_alert(language: str, group: Group, coming: list[tuple[Meeting, str | None]]) -> str:
    """📋 Mes réunions tapped in the group: as many coming meetings as a tap's answer holds (plain
    text, 200 characters); the next one always, cut short if its place is very long."""
    if not coming:
        return plain(language, "mine.none")
    lines = [html.unescape(line) for line in my_meetings_lines(language, group, coming)]
    shown = lines[:1]
    for line in lines[1:]:
        if len("\n\n".join([*shown, line])) > ALERT_MAX:
            break
        shown.append(line)
    text = "\n\n".join(shown)
    return text if len(text) <= ALERT_MAX else text[: ALERT_MAX - 1] + "…"
