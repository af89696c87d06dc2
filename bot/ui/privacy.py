"""What a person reads about their own data: the readable summary beside the export, and the
buttons that stop or resume Relais' private messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ui import callbacks as cb
from bot.ui.i18n import Markup, plain, t, tn


def pause_button(language: str, paused: bool) -> InlineKeyboardButton:
    """🔕 to stop private messages, or 🔔 to get them again."""
    if paused:
        return cb.key(plain(language, "button.private_on"), cb.PrivateMessages("on"))
    return cb.key(plain(language, "button.private_off"), cb.PrivateMessages("off"))


def pause_keyboard(language: str, paused: bool, with_forget: bool = False) -> InlineKeyboardMarkup:
    """🔕 / 🔔, and 📋 Mes présences: what a person can ask about themself, one tap each; under
    their data, 🗑 Tout effacer too."""
    rows = [[pause_button(language, paused)], [cb.key(plain(language, "button.my_attendance"), cb.MyAttendance())]]
    if with_forget:
        rows.append([cb.key(plain(language, "button.forget"), cb.MyData("forget"))])
    return InlineKeyboardMarkup(rows)


# Export section -> the plural line that counts it in the summary (sections not named here are
# counted together as what the person created for the group's facilitation).
_LINES = {
    "meeting_answers": "privacy.summary.answers",
    "attendance": "privacy.summary.attendance",
    "proposals": "privacy.summary.proposals",
    "following": "privacy.summary.following",
    "poll_votes": "privacy.summary.votes",
    "priority_picks": "privacy.summary.picks",
    "actions": "privacy.summary.actions",
    "messages_sent_or_planned": "privacy.summary.messages",
    "dialogues_in_progress": "privacy.summary.dialogues",
    "questions_asked": "privacy.summary.questions",
    "meeting_needs": "privacy.summary.needs",
    "evaluations": "privacy.summary.evaluations",
    "minutes_reviews": "privacy.summary.minutes",
    "cost_claims": "privacy.summary.costs",
}
_FACILITATION = (
    "meetings_created",
    "proposal_changes_made",
    "polls_created",
    "priority_rounds_created",
    "actions_created",
    "questions_answered",
    "date_polls_created",
    "minutes_written",
    "cost_claims_decided",
)


def _since(language: str, entry: dict[str, Any]) -> str:
    """ "Groupe ressources (depuis le 3 mars 2025)": the start date kept for each group."""
    joined = datetime.fromisoformat(entry["joined_at"]).date()
    return t(
        language, "privacy.summary.since", group=entry["group"], day=format_date(joined, "d MMMM y", locale=language)
    )


def summary_text(language: str, data: dict[str, Any], reasons_days: int) -> str:
    """ "Vous avez répondu à 4 réunions…": the export in a few plain lines, in French by default."""
    if not data.get("stored"):
        return t(language, "privacy.nothing_stored")
    person = data["person"]
    lines = [t(language, "privacy.summary.intro", name=person["first_name"])]
    lines.append(t(language, "privacy.summary.identity"))
    groups = [_since(language, entry) for entry in data["groups"] if entry["status"] == "member"]
    if groups:
        lines.append(tn(language, "privacy.summary.groups", len(groups), names=Markup(", ".join(groups))))
    for section, key in _LINES.items():
        if data[section]:
            lines.append(tn(language, key, len(data[section])))
        if section == "meeting_answers":
            reasons = sum(1 for answer in data[section] if answer["absence_reason"])
            if reasons:
                lines.append(tn(language, "privacy.summary.reasons", reasons, days=reasons_days))
    rides = len(data["ride_offers"]) + len(data["ride_requests"])
    if rides:
        lines.append(tn(language, "privacy.summary.rides", rides))
    made = sum(len(data[section]) for section in _FACILITATION)
    if made:
        lines.append(tn(language, "privacy.summary.facilitation", made))
    if person["private_messages_paused"]:
        lines.append(t(language, "privacy.summary.paused"))
    lines.append(t(language, "privacy.summary.outro"))
    return "\n".join(lines)
