"""Texts and buttons for proposals, polls, priorities and action items, shared by handlers and jobs.

Callback data (far below Telegram's 64 bytes; ids only, every press checked again):
  fol:<proposal id>                 follow / stop following
  sv:<proposal id>[:<state code>]   follow-up: pick the state (facilitators)
  prio:<round id>:<proposal id>     pick in a priority round
  act:<action id>:<d|b>             action item done / blocked
"""

from __future__ import annotations

import json
from datetime import date, datetime

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.closing import ROUND, Closable
from bot.domain.proposals import FOLLOW_UP, Indicators
from bot.ui import callbacks as cb
from bot.ui.deadlines import waiting_line
from bot.ui.i18n import Markup, plain, t, tn
from bot.ui.meetings import relative_when, when_text
from storage.models import ActionItem, Group, Poll, PriorityRound, Proposal

EXCERPT = 60
SECTION_LINES = 12  # per state on the board (a board over Telegram's length goes as several messages)
STATE_CODES = {
    "new": "n",
    "adopted": "a",
    "not_adopted": "x",
    "sent": "s",
    "studying": "e",
    "accepted": "c",
    "refused": "r",
    "in_progress": "p",
    "done": "d",
}
CODE_STATES = {code: state for state, code in STATE_CODES.items()}
OPTIONAL_NOTE = ("new", "adopted", "not_adopted", "studying", "accepted", "in_progress", "done")


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The text, or its beginning cut between two words (a word cut in half reads as a typo) and
    marked "…", within `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rstrip().rfind(" ")
    if space > limit // 2:  # a word boundary not too far back; a very long word is cut itself
        cut = cut[:space]
    return cut.rstrip() + "…"


def day_text(day: date, language: str) -> str:
    return format_date(day, "EEEE d MMMM", locale=language)


# ----------------------------------------------------------------------------- proposals
def proposal_ack(language: str, proposal: Proposal) -> str:
    return t(language, "proposal.created", number=proposal.number, text=proposal.text)


def change_sentence(
    language: str,
    proposal: Proposal,
    state: str,
    note: str | None,
    progress: int | None,
    target: Proposal | None = None,
) -> str:
    """One short sentence for the group, the author and the followers."""
    text = excerpt(proposal.text)
    sentence = t(
        language,
        f"suivi.sentence.{state}",
        number=proposal.number,
        text=text,
        note=note or "",
        target=target.number if target else "",
    )
    if state == "in_progress" and progress is not None:
        sentence += " " + t(language, "suivi.progress", progress=progress)
    if note and state in OPTIONAL_NOTE:
        sentence += " " + t(language, "suivi.note", note=note)
    return sentence


def news_text(language: str, group: Group, sentence: str) -> str:
    return t(language, "news.intro", group=group.display_name) + "\n" + Markup(sentence)


def board_line(language: str, proposal: Proposal, zone: str = "Europe/Paris") -> str:
    line = t(language, "board.line", number=proposal.number, text=excerpt(proposal.text, 80))
    if proposal.state == "in_progress" and proposal.progress is not None:
        line += t(language, "board.progress", progress=proposal.progress)
    elif proposal.state_note and proposal.state in ("sent", "refused"):
        line += t(language, "board.note", note=excerpt(proposal.state_note, 60))
    waiting = waiting_line(language, proposal, zone)  # "réponse attendue avant le 12 février"
    return line + " — " + waiting if waiting else line


def board_text(language: str, group: Group, board: dict[str, list[Proposal]]) -> str:
    if not board:
        return t(language, "board.empty", group=group.display_name)
    lines = [t(language, "board.title", group=group.display_name)]
    for state in FOLLOW_UP:
        items = board.get(state)
        if not items:
            continue
        lines += ["", t(language, f"board.head.{state}", count=len(items))]
        lines += [board_line(language, proposal, group.timezone) for proposal in items[:SECTION_LINES]]
        if len(items) > SECTION_LINES:
            lines.append(t(language, "board.more", count=len(items) - SECTION_LINES))
    return "\n".join(lines)


def digest_text(language: str, group: Group, board: dict[str, list[Proposal]], moved: list[Proposal]) -> str:
    """The monthly "Où en sont nos propositions ?": counts by state and what moved this month."""
    lines = [t(language, "digest_p.title"), ""]
    for state in FOLLOW_UP:
        if board.get(state):
            lines.append(t(language, f"board.head.{state}", count=len(board[state])))
    if moved:
        lines += ["", t(language, "digest_p.moved")]
        lines += _moved_lines(language, moved)
    lines += ["", t(language, "digest_p.more")]
    return "\n".join(lines)


def _moved_lines(language: str, moved: list[Proposal]) -> list[str]:
    return [
        t(
            language,
            "digest_p.moved_line",
            number=p.number,
            text=excerpt(p.text, 50),
            state=plain(language, f"state.{p.state}"),
        )
        for p in moved[:SECTION_LINES]
    ]


def changes_block(language: str, moved: list[Proposal]) -> str:
    """For the first meeting reminder: proposals whose follow-up moved since the last meeting."""
    lines = [t(language, "reminder.proposals_moved")]
    lines += _moved_lines(language, moved)
    return "\n".join(lines)


def propose_button(language: str, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(plain(language, "button.propose"), url=url)


def propose_keyboard(language: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[propose_button(language, url)]])


def digest_keyboard(language: str, url: str) -> InlineKeyboardMarkup:
    """Under the monthly digest: a new proposal, and the whole board (🗂 Nos propositions)."""
    return InlineKeyboardMarkup(
        [[propose_button(language, url)], [cb.key(plain(language, "button.board"), cb.ShowBoard())]]
    )


def follow_keyboard(language: str, proposal: Proposal, propose_url: str | None = None) -> InlineKeyboardMarkup:
    row = [cb.key(plain(language, "button.follow"), cb.Follow(proposal.id))]
    if propose_url:
        row.append(propose_button(language, propose_url))
    return InlineKeyboardMarkup([row])


def state_keyboard(language: str, proposal: Proposal) -> InlineKeyboardMarkup:
    buttons = [
        cb.key(plain(language, f"state.button.{state}"), cb.FollowUpState(proposal.id, STATE_CODES[state]))
        for state in FOLLOW_UP
        if state != proposal.state or state == "in_progress"
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def pick_proposal_keyboard(proposals: list[Proposal]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[cb.key(f"n°{p.number} · {excerpt(p.text, 40)}", cb.PickForFollowUp(p.id))] for p in proposals]
    )


def indicators_text(language: str, group: Group, found: Indicators) -> str:
    lines = [t(language, "indicators.title", group=group.display_name), ""]
    total = sum(found.by_state.values())
    lines.append(t(language, "indicators.total", count=total))
    for state in FOLLOW_UP:
        if found.by_state.get(state):
            lines.append(
                t(language, "indicators.state", state=plain(language, f"state.{state}"), count=found.by_state[state])
            )
    rate = found.taken_rate
    lines.append("")
    lines.append(
        t(
            language,
            "indicators.taken",
            taken=found.taken_into_account,
            transmitted=found.transmitted,
            rate=f"{rate} %" if rate is not None else "—",
        )
    )
    lines.append(
        t(
            language,
            "indicators.attendance",
            rate=f"{found.attendance_rate} %" if found.attendance_rate is not None else "—",
            meetings=found.meetings_recorded,
        )
    )
    lines += [
        "",
        t(
            language,
            "report.contributions",
            proposals=found.proposals_made,
            votes=found.votes_cast,
            actions=found.actions_done,
        ),
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- polls
def vote_question(language: str, proposal: Proposal) -> str:
    return plain(language, "vote.question", number=proposal.number, text=excerpt(proposal.text, 240))


def poll_intro(language: str, group: Group, poll_closes: datetime, anonymous: bool, now: datetime) -> str:
    """Said back when a poll opens: until when, as a person says it ("aujourd'hui à 18h",
    "demain à 18h" when 18h had passed), and who sees the answers."""
    key = "poll.intro_anonymous" if anonymous else "poll.intro"
    return t(language, key, when=relative_when(poll_closes, group.timezone, language, now))


def poll_link(group: Group, poll: Poll) -> str | None:
    """A link to the poll message; only supergroups have message links."""
    text = str(group.chat_id)
    return f"https://t.me/c/{text[4:]}/{poll.message_id}" if text.startswith("-100") else None


def poll_nudge_text(language: str, group: Group, poll: Poll) -> str:
    return t(
        language,
        "poll.nudge",
        group=group.display_name,
        question=poll.question,
        when=when_text(poll.closes_at, group.timezone, language),
    )


def poll_group_reminder_text(language: str, group: Group, poll: Poll) -> str:
    return t(
        language,
        "poll.group_reminder",
        question=excerpt(poll.question, 120),
        when=when_text(poll.closes_at, group.timezone, language),
    )


def poll_summary(language: str, group: Group, poll: Poll, members: int, proposal: Proposal | None) -> str:
    options, counts = json.loads(poll.options), json.loads(poll.counts)
    voters = poll.voters
    if poll.proposal_id is not None and proposal is not None:
        lines = [t(language, "vote.closed", number=proposal.number, text=excerpt(proposal.text))]
    else:
        lines = [t(language, "poll.closed", question=poll.question)]
    for option, count in zip(options, counts, strict=False):
        share = round(100 * count / voters) if voters else 0
        lines.append(t(language, "poll.result_line", option=option, count=count, share=share))
    rate = round(100 * voters / members) if members else 0
    lines.append(t(language, "poll.participation", voters=voters, members=members, rate=rate))
    outcome = poll.outcome or "none"
    if outcome.startswith("option:"):
        lines.append(t(language, "poll.outcome_option", option=options[int(outcome.split(":")[1])]))
    elif outcome == "tie":
        best = max(counts)
        lines.append(
            t(
                language,
                "poll.outcome_tie",
                options=", ".join(o for o, c in zip(options, counts, strict=False) if c == best),
            )
        )
    elif outcome in ("adopted", "not_adopted"):
        lines.append(t(language, f"vote.outcome_{outcome}", number=proposal.number if proposal else ""))
    elif outcome == "no_quorum":
        lines.append(t(language, "vote.outcome_no_quorum", quorum=group.quorum_percent))
    else:
        lines.append(t(language, "poll.outcome_none"))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- priorities
def priority_text(language: str, group: Group, round_: PriorityRound, participants: int) -> str:
    return (
        tn(language, "priorities.intro", round_.max_picks, when=when_text(round_.closes_at, group.timezone, language))
        + "\n"
        + t(language, "priorities.participants", count=participants)
    )


def priority_keyboard(language: str, round_: PriorityRound, proposals: list[Proposal]) -> InlineKeyboardMarkup | None:
    """One button per open proposal, and 🔒 for facilitators; None when none is left open (every
    one withdrawn or decided since the round began): Telegram refuses an empty keyboard."""
    if not proposals:
        return None
    rows = [[cb.key(f"n°{p.number} · {excerpt(p.text, 45)}", cb.PriorityPick(round_.id, p.id))] for p in proposals]
    rows.append([cb.key(plain(language, "button.close_round"), cb.Close("round", round_.id))])
    return InlineKeyboardMarkup(rows)


def close_poll_keyboard(language: str) -> InlineKeyboardMarkup:
    """Under a poll or a vote: 🔒 for facilitators, to close it now."""
    return InlineKeyboardMarkup([[cb.key(plain(language, "button.close_vote"), cb.CloseThisPoll())]])


def closable_label(language: str, item: Closable) -> str:
    """A button in /clore's choice, when several polls, votes or rounds are open."""
    if item.kind == ROUND:
        return plain(language, "close.item_round")
    if item.proposal_number is not None:
        return plain(language, "close.item_vote", number=item.proposal_number)
    return plain(language, "close.item_poll", question=excerpt(item.question, 40))


def ranking_text(language: str, ranking: list[tuple[Proposal, int]], participants: int) -> str:
    if not ranking:
        return t(language, "priorities.nobody")
    lines = [t(language, "priorities.ranking", count=participants)]
    for place, (proposal, picks) in enumerate(ranking[:15], start=1):
        lines.append(
            t(
                language,
                "priorities.line",
                place=place,
                number=proposal.number,
                text=excerpt(proposal.text, 70),
                picks=picks,
            )
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- action items
def action_keyboard(language: str, action: ActionItem) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.action_done"), cb.ActionStatus(action.id, "d")),
                cb.key(plain(language, "button.action_blocked"), cb.ActionStatus(action.id, "b")),
            ]
        ]
    )


def action_text(language: str, action: ActionItem, owner_name: str) -> str:
    return t(language, "action.created", name=owner_name, text=action.text, day=day_text(action.due_on, language))


def action_reminder_text(language: str, group: Group, action: ActionItem, owner_name: str, private: bool) -> str:
    key = "action.reminder" if private else "action.reminder_group"
    return t(
        language,
        key,
        name=owner_name,
        text=action.text,
        day=day_text(action.due_on, language),
        group=group.display_name,
    )


def action_result_text(language: str, action: ActionItem, owner_name: str) -> str:
    return t(language, f"action.result_{action.status}", name=owner_name, text=action.text)
