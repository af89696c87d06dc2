"""Texts of the decision-maker's answer: the deadline on the board, the link for the facilitator,
the mails to the addressee, the deadline passed, and the note an answer leaves in the follow-up."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.answers import ANSWER_STATES, AnswerForm
from bot.domain.proposals import NOTE_MAX
from bot.ui.deadlines import due_day, of_name
from bot.ui.i18n import plain, t
from bot.ui.proposals import excerpt
from storage.models import Group, Proposal

# The answer form's word for each state (the radio button an answer is shown by).
STATE_WORDS = {state: word for word, state in ANSWER_STATES.items()}


def answer_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/reponse/{token}"


def _about(language: str, key: str, proposal: Proposal, **values: object) -> str:
    """A message about a transmitted proposal: its number and excerpt, who it went to."""
    name = proposal.addressee_name or ""
    return t(
        language,
        key,
        number=proposal.number,
        text=excerpt(proposal.text),
        name=name,
        of_name=of_name(language, name),
        **values,
    )


def link_text(language: str, group: Group, proposal: Proposal, url: str, mailed: bool) -> str:
    key = "answer.link_mailed" if mailed else "answer.link"
    return _about(
        language, key, proposal, group=group.display_name, day=due_day(proposal, group.timezone, language), url=url
    )


def forward_text(language: str, group: Group, proposal: Proposal, url: str) -> str:
    day = due_day(proposal, group.timezone, language)
    return _about(language, "answer.forward_again", proposal, group=group.display_name, day=day, url=url)


def overdue_days(proposal: Proposal) -> int:
    assert proposal.answer_due is not None and proposal.transmitted_at is not None
    return round((proposal.answer_due - proposal.transmitted_at).total_seconds() / 86400)


def overdue_group_text(language: str, proposal: Proposal) -> str:
    return _about(language, "answer.overdue_group", proposal, days=overdue_days(proposal))


def overdue_report_text(language: str, group: Group, proposal: Proposal) -> str:
    return _about(language, "answer.overdue_report", proposal, days=overdue_days(proposal), group=group.display_name)


def answer_note(language: str, name: str, form: AnswerForm) -> str:
    """What the follow-up keeps of an answer: who, until when (à l'étude), in their words."""
    until = format_date(form.until, "d MMMM y", locale=language) if form.until else ""
    if form.text:
        key = "answer.note_until" if until else "answer.note"
    else:
        key = "answer.note_until_bare" if until else "answer.note_bare"
    values = {"name": name, "of_name": of_name(language, name), "until": until}
    room = NOTE_MAX - len(plain(language, key, text="", **values))
    return plain(language, key, text=excerpt(form.text or "", max(room, 20)), **values)[:NOTE_MAX]


def mail_text(language: str, group: Group, proposal: Proposal, url: str, reminder: bool) -> tuple[str, str]:
    """The subject and the plain-text body of the mail that carries the link (or its reminder)."""
    day = due_day(proposal, group.timezone, language)
    assert proposal.transmitted_at is not None
    sent_on = format_date(
        proposal.transmitted_at.astimezone(ZoneInfo(group.timezone)).date(), "d MMMM y", locale=language
    )
    values = {"group": group.display_name, "day": day, "number": proposal.number, "name": proposal.addressee_name or ""}
    subject = plain(language, "answer.mail_reminder_subject" if reminder else "answer.mail_subject", **values)
    body = plain(
        language,
        "answer.mail_reminder_body" if reminder else "answer.mail_body",
        text=proposal.text,
        url=url,
        sent_on=sent_on,
        **values,
    )
    return subject[:200], body


def until_text(language: str, day: date) -> str:
    return format_date(day, "d MMMM y", locale=language)
