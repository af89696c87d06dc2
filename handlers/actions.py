"""Action items: /action @pseudo Appeler la CAF pour les horaires | 20/12 records who does what
by when; /actions lists what is open. The owner taps ✅ C'est fait or ⛔ Je suis bloqué·e, under
the group message or the private reminder, and the group sees the result."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import actions as a
from bot.domain.errors import RefusalError
from bot.domain.people import find_member_by_username, find_person, person_in_group, upsert_person
from bot.domain.proposals import ProposalError
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import plain, t
from bot.ui.proposals import action_keyboard, action_result_text, action_text, day_text
from handlers.common import (
    Context,
    after_sent,
    answer,
    button_object,
    command_args,
    edit_tapped,
    is_facilitator,
    is_group_chat,
    query_of,
    refuse,
    reply,
    require_facilitator,
    say,
    someone_named,
    tapped,
    user_info,
    user_of,
    wake_at,
)
from storage.models import ActionItem, Person


async def action_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    svc = services(context)
    now = svc.clock.now()
    try:
        spec = a.parse_action(command_args(update))
        if spec.username is not None:
            found = await find_member_by_username(db(), group, spec.username)
            owner = found[0] if found and found[1].status == "member" else None
            if owner is None:
                raise ProposalError("action.error.unknown_member", username=spec.username)
        elif (named := someone_named(update)) is not None:
            owner = await upsert_person(db(), user_info(named), now)
        else:
            raise ProposalError("action.error.who")
        due = a.due_day(spec, now, ZoneInfo(group.timezone))
        creator = await find_person(db(), user_of(update).id)
        action, remind = await a.create_action(db(), group, owner, spec.text, due, creator, now, svc.settings.meetings)
    except RefusalError as exc:
        await refuse(update, group.language, exc, "action.example")
        return
    reply(
        update,
        action_text(group.language, action, owner.first_name),
        on_sent=after_sent("action", id=action.id),
        reply_markup=action_keyboard(group.language, action),
    )
    if remind is not None:
        wake_at(context, [remind])


async def list_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    rows = await a.open_actions(db(), group)
    if not rows:
        reply(update, t(group.language, "action.none"))
        return
    lines = [t(group.language, "action.list_title")]
    for action, owner in rows[:40]:
        lines.append(
            t(
                group.language,
                f"action.list_line_{action.status}",
                name=owner.first_name if owner else plain(group.language, "someone"),
                text=action.text,
                day=day_text(action.due_on, group.language),
            )
        )
    reply(update, "\n".join(lines))


async def status_button(update: Update, context: Context) -> None:
    """✅ C'est fait / ⛔ Je suis bloqué·e, pressed by the owner (or a facilitator), in the group or in private."""
    _query, user = query_of(update), user_of(update)
    data = tapped(update, cb.ActionStatus)
    named = await button_object(update, context, ActionItem, data.action_id)
    if named is None:
        return
    action, group, language = named
    in_group = is_group_chat(update)
    owner = await db().get(Person, action.owner_id) if action.owner_id else None
    is_owner = owner is not None and owner.telegram_id == user.id
    if not is_owner and not (
        await person_in_group(db(), group, user.id) and await is_facilitator(context, group, user.id)
    ):
        answer(update, plain(language, "action.not_yours"), show_alert=True)
        return
    status = {"d": "done", "b": "blocked"}[data.code]
    changed = await a.set_status(db(), action, status, services(context).clock.now())
    answer(update, plain(language, f"action.noted_{status}"))
    if not changed:
        return
    name = owner.first_name if owner else plain(group.language, "someone")
    result = action_result_text(group.language, action, name)
    markup = action_keyboard(language, action) if status == "blocked" else None  # blocked can still become done
    edit_tapped(update, result if in_group else action_result_text(language, action, name), reply_markup=markup)
    if not in_group:
        say(group.chat_id, result)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("action", action_command))
    application.add_handler(CommandHandler("actions", list_command))
    application.add_handler(CallbackQueryHandler(status_button, pattern=cb.ActionStatus.matches))
