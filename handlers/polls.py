"""Quick polls and proposal votes: /sondage, /vote, and the poll / poll_answer updates that
carry the counts and (for non-anonymous polls) who voted. poll_answer has no chat: the poll id
finds the group in the database."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InputPollOption, Update
from telegram.ext import Application, CommandHandler, PollAnswerHandler, PollHandler

from bot.domain import polls
from bot.domain.errors import RefusalError
from bot.domain.people import find_person, seen_in_group
from bot.services import db, services
from bot.ui.i18n import plain
from bot.ui.proposals import close_poll_keyboard, poll_intro, vote_question
from handlers.common import (
    Context,
    command_args,
    poll_answer_of,
    poll_of,
    poll_record,
    refuse,
    reply,
    require_facilitator,
    send,
    user_info,
    user_of,
)
from storage.models import Group, Proposal


async def _open(
    update: Update,
    context: Context,
    group: Group,
    question: str,
    options: list[str],
    anonymous: bool,
    deadline: str | None,
    proposal: Proposal | None,
) -> None:
    """Send the native poll; once Telegram has it (its id is what votes name), record it with its
    reminder and closing, in a transaction of its own."""
    svc = services(context)
    now = svc.clock.now()
    closes = polls.closing_time(deadline, now, ZoneInfo(group.timezone), svc.settings.proposals)
    reply(update, poll_intro(group.language, group, closes, anonymous, now))
    creator = await find_person(db(), user_of(update).id)
    draft = polls.PollDraft(
        group.id,
        question,
        tuple(options),
        anonymous,
        proposal.id if proposal else None,
        creator.id if creator else None,
        now,
        closes,
        polls.reminder_time(now, closes, svc.settings.proposals),
    )

    # Texts people typed: never parsed as HTML (the bot's default parse mode would refuse "a < b").
    send(
        group.chat_id,
        "send_poll",
        on_sent=poll_record(draft),
        question=question,
        options=[InputPollOption(option, text_parse_mode=None) for option in options],
        is_anonymous=anonymous,
        question_parse_mode=None,
        reply_markup=close_poll_keyboard(group.language),
    )


async def poll_command(update: Update, context: Context) -> None:
    """/sondage Question ? | Option A | Option B [| jusqu'à demain 12h] [--anonyme]."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    try:
        spec = polls.parse_poll(command_args(update))
        await _open(update, context, group, spec.question, list(spec.options), spec.anonymous, spec.deadline, None)
    except RefusalError as exc:
        await refuse(update, group.language, exc, "poll.example")


async def vote_command(update: Update, context: Context) -> None:
    """/vote 12 [jusqu'à 18h | pendant 5 min | 10 minutes] [--anonyme]: Pour / Contre / Je ne sais pas."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    try:
        spec = polls.parse_vote(command_args(update))
        proposal = await polls.votable_proposal(db(), group, spec.number)
        options = [plain(group.language, key) for key in polls.VOTE_OPTIONS]
        await _open(
            update,
            context,
            group,
            vote_question(group.language, proposal),
            options,
            spec.anonymous,
            spec.deadline,
            proposal,
        )
    except RefusalError as exc:
        await refuse(update, group.language, exc, "vote.example")


async def on_poll(update: Update, context: Context) -> None:
    """New counts for one of our polls (anonymous polls have nothing else)."""
    poll = poll_of(update)
    await polls.record_counts(db(), poll.id, [option.voter_count for option in poll.options], poll.total_voter_count)


async def on_poll_answer(update: Update, context: Context) -> None:
    """Who voted in a non-anonymous poll; the voter is a member of the poll's group."""
    answer = poll_answer_of(update)
    if answer.user is None or answer.user.is_bot:
        return
    found = await polls.find_poll_and_group(db(), answer.poll_id)
    if found is None or not found[1].active:
        return
    poll, group = found
    now = services(context).clock.now()
    person, _membership = await seen_in_group(db(), group, user_info(answer.user), now)  # a voter is a member
    await polls.record_vote(db(), poll, person, list(answer.option_ids), now)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("sondage", poll_command))
    application.add_handler(CommandHandler("vote", vote_command))
    application.add_handler(PollHandler(on_poll))
    application.add_handler(PollAnswerHandler(on_poll_answer))
