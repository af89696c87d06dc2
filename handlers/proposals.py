"""Proposals: /proposition (in the group, or in private through the "💡 Faire une proposition"
button), /propositions (the board), the 🔔 Suivre button, and the facilitators' /modifier,
/fusionner and /retirer."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import proposals as p
from bot.domain.deeplinks import PROPOSE, group_payload, start_url
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, only_group, person_in_group, upsert_person
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.proposals import board_text, follow_keyboard, proposal_ack, propose_keyboard
from handlers.common import (
    Context,
    answer,
    ask,
    button_member,
    command_args,
    current_group,
    is_group_chat,
    is_person,
    language_for,
    message_of,
    on_link,
    propose_url,
    publish_change,
    refuse,
    reply,
    require_facilitator,
    say,
    tapped,
    user_info,
    user_of,
    wake_at,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Person, Proposal

log = logging.getLogger(__name__)
DIALOGUE = "proposal"  # a proposal written in private after the button: the group it is for


async def _post_new(context: Context, group: Group, proposal: Proposal) -> None:
    say(
        group.chat_id,
        proposal_ack(group.language, proposal),
        reply_markup=follow_keyboard(group.language, proposal, propose_url(context, group)),
    )


async def _create(context: Context, group: Group, author: Person | None, text: str) -> Proposal:
    svc = services(context)
    proposal, digest = await p.create_proposal(
        db(), group, author, text, svc.clock.now(), svc.settings.proposals, svc.settings.meetings
    )
    wake_at(context, [digest.due_at])
    return proposal


async def propose_command(update: Update, context: Context) -> None:
    """/proposition <texte>: anyone records a proposal; without text, say how."""
    message, user = message_of(update), user_of(update)
    if message is None or user is None:
        return
    text = command_args(update)
    now = services(context).clock.now()
    # An anonymous administrator's (or a channel's) proposal is the group's own: no author.
    person = await upsert_person(db(), user_info(user), now) if is_person(user) else None
    if is_group_chat(update):
        group = await current_group(update)
        if group is None:
            return
    elif person is None:
        return
    else:
        group = await only_group(db(), person)
        if group is None:
            reply(update, t(language_for(update, context), "proposal.private_which_group"))
            return
    if not text.strip():
        reply(
            update,
            t(group.language, "proposal.how"),
            reply_markup=propose_keyboard(group.language, propose_url(context, group)),
        )
        return
    try:
        proposal = await _create(context, group, person, text)
    except RefusalError as exc:
        await refuse(update, group.language, exc)
        return
    if is_group_chat(update):
        reply(
            update,
            proposal_ack(group.language, proposal),
            reply_markup=follow_keyboard(group.language, proposal, propose_url(context, group)),
        )
    else:
        await _post_new(context, group, proposal)
        reply(
            update,
            t(language_for(update, context), "proposal.thanks", number=proposal.number, group=group.display_name),
        )


async def ask_proposal(update: Update, context: Context, group: Group) -> None:
    """Called by /start with a "p" deep link: ask for the proposal in one message."""
    user = update.effective_user
    if user is None:
        return
    await router.start(context, user.id, user.id, DIALOGUE, "text", group_id=group.id)
    language = language_for(update, context)
    ask(
        update,
        t(language, "proposal.ask", group=group.display_name, limit=services(context).settings.proposals.text_max),
        placeholder=plain(language, "proposal.placeholder"),
    )


async def private_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The proposal written in private after the button."""
    message, user = message_of(update), user_of(update)
    language = language_for(update, context)
    now = services(context).clock.now()
    group = await find_group_by_id(db(), dialogue.get("group_id"))
    if user is None:
        return
    person = await upsert_person(db(), user_info(user), now)
    found = await person_in_group(db(), group, user.id) if group else None
    if group is None or found is None or found[1].status != "member":
        await router.end(dialogue)
        reply(update, t(language, "proposal.not_member"))
        return
    try:
        proposal = await _create(context, group, person, message.text or "")
    except RefusalError as exc:
        await refuse(update, language, exc)  # the dialogue stays open: they can send it shorter
        return
    await router.end(dialogue)
    try:
        await _post_new(context, group, proposal)
    except TelegramError as exc:
        log.warning("could not post proposal %s in group %s: %s", proposal.id, group.id, exc.__class__.__name__)
    reply(update, t(language, "proposal.thanks", number=proposal.number, group=group.display_name))


async def board_command(update: Update, context: Context) -> None:
    """/propositions: the follow-up board, like the paper "tableau de suivi"."""
    group = await current_group(update)
    if group is None:
        reply(update, t(language_for(update, context), "setup.only_in_group"))
        return
    text = board_text(group.language, group, await p.board(db(), group))
    reply(update, text, reply_markup=propose_keyboard(group.language, propose_url(context, group)))


async def board_button(update: Update, context: Context) -> None:
    """🗂 Nos propositions (under /aide): the same board as /propositions, in the group."""
    answer(update)
    await board_command(update, context)


async def _facilitator_args(update: Update, context: Context) -> tuple[Group, str] | None:
    group = await require_facilitator(update, context)
    if group is None:
        return None
    return group, command_args(update)


async def edit_command(update: Update, context: Context) -> None:
    """/modifier 12 nouveau texte."""
    found = await _facilitator_args(update, context)
    if found is None:
        return
    group, args = found
    try:
        proposal, text = await p.numbered(db(), group, args, "proposal.error.edit_form", text_required=True)
        await p.edit_proposal(db(), proposal, text, services(context).settings.proposals)
    except RefusalError as exc:
        await refuse(update, group.language, exc)
        return
    reply(update, t(group.language, "proposal.edited", number=proposal.number, text=proposal.text))


async def merge_command(update: Update, context: Context) -> None:
    """/fusionner 13 12: n°13 (the duplicate) joins n°12."""
    found = await _facilitator_args(update, context)
    if found is None:
        return
    group, args = found
    words = [
        word
        for word in args.replace(",", " ").split()
        if word.lower() not in ("dans", "avec", "et", "->", "→", "in", "into")
    ]
    numbers = [p.parse_number(word) for word in words]
    try:
        source_number, target_number = numbers if len(numbers) == 2 else (None, None)
        if source_number is None or target_number is None:
            raise p.ProposalError("proposal.error.merge_form")
        source = await p.require_proposal(db(), group, source_number)
        target = await p.require_proposal(db(), group, target_number)
        person = await find_person(db(), user_of(update).id)
        change = await p.merge(db(), source, target, person, services(context).clock.now())
    except RefusalError as exc:
        await refuse(update, group.language, exc)
        return
    reply(update, await publish_change(update, context, group, source, change, target))


async def withdraw_command(update: Update, context: Context) -> None:
    """/retirer 12 raison: the reason is required and told to the group."""
    found = await _facilitator_args(update, context)
    if found is None:
        return
    group, args = found
    try:
        proposal, reason = await p.numbered(db(), group, args, "proposal.error.withdraw_form")
        person = await find_person(db(), user_of(update).id)
        change = await p.withdraw(db(), proposal, reason, person, services(context).clock.now())
    except RefusalError as exc:
        await refuse(
            update, group.language, exc, "proposal.withdraw_example" if exc.key == "proposal.error.reason" else None
        )
        return
    reply(update, await publish_change(update, context, group, proposal, change))


async def follow_button(update: Update, context: Context) -> None:
    """🔔 Suivre: the person gets every change of this proposal in private."""
    named = await button_member(update, context, Proposal, tapped(update, cb.Follow).proposal_id)
    if named is None:
        return
    proposal, group, person, language = named
    if proposal.state in p.GONE:
        answer(update, plain(language, "proposal.error.gone", number=proposal.number), show_alert=True)
        return
    following = await p.toggle_follow(db(), proposal, person)
    if following and person.private_status != "started":
        # Relais cannot write to them yet: open the private chat so that they press Start.
        svc = services(context)
        answer(update, url=start_url(svc.bot_username, group_payload(svc.link_secret, group.id)))
        return
    answer(
        update,
        plain(language, "follow.on" if following else "follow.off", number=proposal.number),
        show_alert=following,
    )


def register(application: Application) -> None:
    on_link(PROPOSE, "group", ask_proposal)
    application.add_handler(CommandHandler("proposition", propose_command))
    application.add_handler(CommandHandler("propositions", board_command))
    application.add_handler(CallbackQueryHandler(board_button, pattern=cb.ShowBoard.matches))
    application.add_handler(CommandHandler("modifier", edit_command))
    application.add_handler(CommandHandler("fusionner", merge_command))
    application.add_handler(CommandHandler("retirer", withdraw_command))
    application.add_handler(CallbackQueryHandler(follow_button, pattern=cb.Follow.matches))
    router.on(DIALOGUE, router.Route(text=private_text))
