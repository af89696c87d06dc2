"""Membership texts and buttons: a term ending (to the member, to the facilitators), the thank-you
of someone who leaves, the group line for arrivals and departures, /membres and /groupes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.lists import format_list
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.membership import ExitFacts, RosterLine, minute_key, term_ended
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t, tn
from bot.ui.lengths import split_text
from storage.models import Group, Membership, Person

MESSAGE_MAX = 4000  # below Telegram's 4,096 UTF-16 units: a long roster is cut into several messages


def day(moment: datetime, group: Group, language: str) -> str:
    """'3 mars 2027', in the group's time zone."""
    return format_date(moment.astimezone(ZoneInfo(group.timezone)).date(), "d MMMM y", locale=language)


def names_list(people: list[Person], language: str) -> str:
    """'Karim, Julie et Lina'."""
    return format_list([person.first_name for person in people], locale=language)


# ----------------------------------------------------------------------------- terms
def _term_key(membership: Membership) -> int:
    assert membership.term_ends_at is not None
    return minute_key(membership.term_ends_at)


def term_question(language: str, group: Group, membership: Membership) -> str:
    assert membership.term_ends_at is not None
    return t(language, "term.ask", group=group.display_name, day=day(membership.term_ends_at, group, language))


def wish_keyboard(language: str, membership: Membership) -> InlineKeyboardMarkup:
    key = _term_key(membership)
    return InlineKeyboardMarkup(
        [
            [cb.key(plain(language, "button.term_stay"), cb.TermWish(membership.id, key, "stay"))],
            [cb.key(plain(language, "button.term_stop"), cb.TermWish(membership.id, key, "stop"))],
        ]
    )


def term_warning(language: str, group: Group, member: Person, membership: Membership, reachable: bool) -> str:
    assert membership.term_ends_at is not None
    values = {
        "name": member.first_name,
        "group": group.display_name,
        "day": day(membership.term_ends_at, group, language),
        "since": day(membership.joined_at, group, language),
    }
    ask = "term.warn.asked" if reachable else "term.warn.unreachable"
    return (
        t(language, "term.warn", **values) + "\n" + t(language, ask, **values) + "\n" + t(language, "term.you_decide")
    )


def decision_keyboard(language: str, membership: Membership, ended: bool = False) -> InlineKeyboardMarkup:
    key = _term_key(membership)
    row = [cb.key(plain(language, "button.term_renew"), cb.TermDecision(membership.id, key, "renew"))]
    if not ended:
        row.append(cb.key(plain(language, "button.term_end"), cb.TermDecision(membership.id, key, "end")))
    return InlineKeyboardMarkup([row])


def wish_notice(language: str, group: Group, member: Person, membership: Membership) -> str:
    assert membership.term_ends_at is not None and membership.stay_wish is not None
    return t(
        language,
        f"term.wish.{membership.stay_wish}",
        name=member.first_name,
        group=group.display_name,
        day=day(membership.term_ends_at, group, language),
    )


def term_over(language: str, group: Group, member: Person, membership: Membership) -> str:
    assert membership.term_ends_at is not None
    return t(
        language,
        "term.ended",
        name=member.first_name,
        group=group.display_name,
        day=day(membership.term_ends_at, group, language),
    )


# ----------------------------------------------------------------------------- leaving
def farewell_text(
    language: str, group: Group, member: Person, facts: ExitFacts, others: list[Group], contact: str
) -> str:
    """The thank-you: what the group did while they were there, the attestation, other groups."""
    lines = [
        t(language, "farewell.title", name=member.first_name, group=group.display_name),
        t(
            language,
            "farewell.period",
            since=day(facts.since, group, language),
            until=day(facts.until, group, language),
        ),
    ]
    meetings = tn(language, "farewell.meetings", facts.meetings)
    if facts.attended:
        meetings += tn(language, "farewell.attended", facts.attended)
    lines.append(meetings)
    if facts.proposals:
        lines.append(tn(language, "farewell.proposals", facts.proposals))
    if facts.transmitted:
        lines.append(tn(language, "farewell.transmitted", facts.transmitted))
    if facts.taken:
        lines.append(tn(language, "farewell.taken", facts.taken))
    lines += ["", t(language, "farewell.attestation")]
    if others:
        lines += ["", t(language, "farewell.others")]
        for other in others:
            key = "farewell.other_usual" if other.card_usual else "farewell.other"
            lines.append(t(language, key, name=other.display_name, usual=other.card_usual or ""))
        if contact:
            lines.append(t(language, "farewell.contact", contact=contact))
    lines.append(t(language, "farewell.outro"))
    return "\n".join(lines)


def farewell_keyboard(language: str, group: Group) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.exit_attestation"), cb.ExitAttestation(group.id))]])


def group_line(language: str, arrived: list[Person], left: list[Person]) -> str:
    """One line for the last minute's arrivals and departures; never why anyone left."""
    lines = []
    if arrived:
        lines.append(tn(language, "members.welcome", len(arrived), names=names_list(arrived, language)))
    if left:
        lines.append(tn(language, "members.left", len(left), names=names_list(left, language)))
    return "\n".join(lines)


def discover_keyboard(language: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(plain(language, "button.discover_group"), url=url)]])


# ----------------------------------------------------------------------------- /membres
def roster_messages(
    language: str, group: Group, lines_of: list[RosterLine], now: datetime, admins: frozenset[int]
) -> list[str]:
    """/membres: each member with their start date, term (not for the group's administrators:
    terms are the members'), attendance over six months and whether private messages reach them,
    cut into messages Telegram accepts."""
    if not lines_of:
        return [t(language, "roster.empty", group=group.display_name)]
    lines = [tn(language, "roster.title", len(lines_of), group=group.display_name)]
    for row in lines_of:
        person, membership = row.person, row.membership
        handle = f" @{person.username}" if person.username else ""
        line = t(
            language, "roster.line", name=person.first_name + handle, since=day(membership.joined_at, group, language)
        )
        if membership.term_ends_at is not None and person.telegram_id not in admins:
            key = "roster.term_over" if term_ended(membership, now) else "roster.term"
            line += t(language, key, day=day(membership.term_ends_at, group, language))
        if membership.stay_wish:
            line += t(language, f"roster.wish.{membership.stay_wish}")
        line += t(language, "roster.attendance", attended=row.attended, held=row.held)
        line += t(language, f"roster.why.{row.unreachable}" if row.unreachable else "roster.reachable")
        lines.append(line)
    return split_text("\n".join(lines), MESSAGE_MAX)


# ----------------------------------------------------------------------------- /groupes
def listed_keyboard(language: str, groups: list[Group]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(
                    plain(
                        language,
                        "button.listed_on" if group.listed else "button.listed_off",
                        name=group.display_name[:40],
                    ),
                    cb.ListedGroup(group.id),
                )
            ]
            for group in groups
        ]
    )
