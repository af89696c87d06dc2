"""Le suivi: facilitators move proposals through the follow-up with /suivi (one line or
buttons), set the group's vote rule with /quorum, and get the indicators with /indicateurs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import answers, carpool
from bot.domain import proposals as p
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.people import find_person
from bot.domain.polls import set_quorum
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.carpool import figures_text
from bot.ui.i18n import plain, t
from bot.ui.proposals import CODE_STATES, excerpt, indicators_text, pick_proposal_keyboard, state_keyboard
from handlers.common import (
    Context,
    answer,
    ask,
    asker_name,
    command_args,
    current_group,
    edit_tapped,
    is_facilitator,
    private_reader,
    publish_change,
    query_of,
    refuse,
    reply,
    require_facilitator,
    say,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Proposal

DIALOGUE = "follow_up_note"  # a state change waiting for its note (to whom, why), as a reply to the bot


async def _apply(
    update: Update,
    context: Context,
    group: Group,
    proposal: Proposal,
    state: str,
    note: str | None,
    progress: int | None,
) -> str:
    """Change the state; returns the sentence posted in the group. Raises RefusalError."""
    person = await find_person(db(), user_of(update).id)
    svc = services(context)
    change = await p.change_state(
        db(), proposal, state, note, progress, person, svc.clock.now(), svc.settings.proposals
    )
    return await publish_change(update, context, group, proposal, change)


async def follow_up_command(update: Update, context: Context) -> None:
    """/suivi 12 transmise Commission insertion du 15/01; /suivi 12 (buttons); /suivi (pick one)."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    args = command_args(update)
    try:
        if not args:
            items = [
                item
                for state in ("new", "adopted", "sent", "studying", "accepted", "in_progress")
                for item in (await p.board(db(), group)).get(state, [])
            ]
            if not items:
                reply(update, t(group.language, "board.empty", group=group.display_name))
                return
            reply(update, t(group.language, "suivi.pick"), reply_markup=pick_proposal_keyboard(items[:30]))
            return
        if len(args.split()) == 1:
            number = p.parse_number(args)
            if number is None:
                raise p.ProposalError("proposal.error.number", token=args[:20])
            proposal = await p.require_proposal(db(), group, number)
            reply(update, _state_question(group, proposal), reply_markup=state_keyboard(group.language, proposal))
            return
        wanted = p.parse_follow_up(args)
        proposal = await p.require_proposal(db(), group, wanted.number)
        sentence = await _apply(update, context, group, proposal, wanted.state, wanted.note, wanted.progress)
    except RefusalError as exc:
        await refuse(update, group.language, exc, "suivi.example")
        return
    reply(update, sentence)


def _state_question(group: Group, proposal: Proposal) -> str:
    return t(
        group.language,
        "suivi.question",
        number=proposal.number,
        text=excerpt(proposal.text),
        state=plain(group.language, f"state.{proposal.state}"),
    )


FOLLOW_UP_TAPS = (cb.PickForFollowUp, cb.FollowUpState)


async def state_button(update: Update, context: Context) -> None:
    """A proposal picked shows its states; a state picked is applied (or its note is asked for)."""
    query, user = query_of(update), user_of(update)
    data = cb.decode(query.data)
    group = await current_group(update)
    proposal = await db().get(Proposal, data.proposal_id) if isinstance(data, FOLLOW_UP_TAPS) else None
    language = group.language if group else "fr"
    if group is None or proposal is None or proposal.group_id != group.id:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, group, user.id):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return
    if not isinstance(data, cb.FollowUpState):
        answer(update)
        edit_tapped(update, _state_question(group, proposal), reply_markup=state_keyboard(group.language, proposal))
        return
    state = CODE_STATES.get(data.code)
    if state is None:
        answer(update, plain(language, "button.invalid"))
        return
    if state in p.NOTE_REQUIRED:
        answer(update)
        question = t(language, f"suivi.ask_note.{state}", number=proposal.number, text=excerpt(proposal.text))
        if state == "sent":  # the department's list, to copy a name from; and the deadline's form
            listed = [addressee.name for addressee in await answers.addressees(db())]
            key = "suivi.ask_note.sent_listed" if listed else "suivi.ask_note.sent_how"
            days = services(context).settings.proposals.answer_days
            question += "\n" + t(language, key, names=", ".join(listed[:12]), days=days)
        edit_tapped(update, question)
        dialogue = await router.start(context, user.id, group.chat_id, DIALOGUE, "note")
        await router.next_step(context, dialogue, "note", proposal_id=proposal.id, state=state)
        ask(
            update,
            t(language, "suivi.ask_reply", name=asker_name(update)),
            router.prompt_of(dialogue, "note"),
            placeholder=plain(language, f"suivi.placeholder.{state}"),
        )
        return
    try:
        sentence = await _apply(update, context, group, proposal, state, None, None)
    except RefusalError as exc:
        answer(update, plain(language, exc.key, **exc.values), show_alert=True)
        return
    answer(update)
    edit_tapped(update, sentence)


async def note_reply(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The recipient of a transmission, or the reason of a refusal, typed in reply to the bot."""
    group = await current_group(update)
    message = update.effective_message
    if group is None or message is None or not await is_facilitator(context, group, user_of(update).id):
        return
    proposal = await db().get(Proposal, dialogue.get("proposal_id"))
    if proposal is None:
        await router.end(dialogue)
        return
    try:
        sentence = await _apply(update, context, group, proposal, dialogue.get("state"), message.text, None)
    except RefusalError as exc:
        await refuse(update, group.language, exc)
        return
    await router.end(dialogue)
    reply(update, sentence)


async def quorum_command(update: Update, context: Context) -> None:
    """/quorum 50: a proposal vote counts only when half the members voted; /quorum 0: no quorum."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    arg = command_args(update).rstrip("%").strip()
    if not arg:
        reply(update, t(group.language, "quorum.current", quorum=group.quorum_percent))
        return
    try:
        set_quorum(group, arg)
    except RefusalError as exc:
        reply(update, t(group.language, exc.key))
        return
    reply(
        update, t(group.language, "quorum.set" if group.quorum_percent else "quorum.none", quorum=group.quorum_percent)
    )


async def indicators_command(update: Update, context: Context) -> None:
    """/indicateurs: sent in private, since it names members; the group only hears where to look."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    text = (
        indicators_text(group.language, group, await p.indicators(db(), group))
        + "\n\n"
        + figures_text(group.language, group, await carpool.figures(db(), group))
    )
    asker = await private_reader(update, context, group, "indicators.start_first")
    if asker is None:
        return
    say(asker.telegram_id, text)
    reply(update, t(group.language, "indicators.sent"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("suivi", follow_up_command))
    application.add_handler(CommandHandler("quorum", quorum_command))
    application.add_handler(CommandHandler("indicateurs", indicators_command))
    application.add_handler(CallbackQueryHandler(state_button, pattern=cb.any_of(*FOLLOW_UP_TAPS)))
    router.on(DIALOGUE, router.Route(text=note_reply, reply_to_prompt=True))
