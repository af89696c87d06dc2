"""🧾 Mes frais: under the private evaluation (or /frais in private), a member who came says what
the costs were for, the amount, and sends the receipt's photo, or takes the group's flat
allowance; the facilitators get each claim in private with ✅ Remboursé / ✖️ Refusé (a refusal
asks for its reason) and the member is told. /frais in the group: a facilitator gets the pending
claims in private (bot/domain/costs.py)."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import costs as c
from bot.domain import evaluations as ev
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.domain.people import find_person, groups_of, person_in_group
from bot.services import db, services
from bot.ui import callbacks as cb
from bot.ui.costs import (
    ask_category,
    category_keyboard,
    claim_for_facilitators,
    claim_saved,
    decision_for_member,
    decision_keyboard,
    pending_text,
)
from bot.ui.i18n import plain, t
from handlers.common import (
    Context,
    answer,
    button_member,
    edit_tapped,
    is_facilitator,
    is_group_chat,
    language_for,
    message_of,
    notify,
    person_language,
    private_reader,
    reply,
    require_facilitator,
    say,
    send,
    tapped,
    tell_runners,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import CostClaim, Group, Meeting, Person

CLAIMING, REFUSING = "costs", "cost_refusal"
RECENT = timedelta(days=60)  # /frais in private: the latest meeting attended within this time


def _allowance(context: Context) -> int | None:
    settings = services(context).settings
    per_half_day = settings.costs.allowance_per_half_day
    if per_half_day is None:
        return None
    return round(per_half_day * 100) * c.half_days(settings.meetings.duration_minutes)


async def _offer(context: Context, person: Person, group: Group, meeting: Meeting) -> None:
    language = person_language(person, group)
    markup = category_keyboard(language, meeting, _allowance(context))
    say(person.telegram_id, ask_category(language, group, meeting), reply_markup=markup)


async def costs_button(update: Update, context: Context) -> None:
    """🧾 Mes frais, under a private message about a meeting."""
    named = await button_member(update, context, Meeting, tapped(update, cb.Costs).meeting_id)
    if named is None:
        return
    meeting, group, person, language = named
    if not await ev.came(db(), meeting, person):
        answer(update, plain(language, "costs.error.not_there"), show_alert=True)
        return
    answer(update)
    await _offer(context, person, group, meeting)


async def _tell_facilitators(
    context: Context, group: Group, meeting: Meeting, person: Person, claim: CostClaim
) -> None:
    reached = await tell_runners(
        context,
        meeting,
        group,
        "cost_claim",
        lambda lang: (claim_for_facilitators(lang, group, meeting, person, claim), decision_keyboard(lang, claim)),
        besides=person,
    )
    for runner in reached if claim.file_id else []:  # the receipt itself, by the id Telegram gave it
        send(runner.telegram_id, "send_photo", photo=claim.file_id)


async def category_button(update: Update, context: Context) -> None:
    data = tapped(update, cb.CostCategory)
    named = await button_member(update, context, Meeting, data.meeting_id)
    if named is None:
        return
    meeting, group, person, language = named
    svc = services(context)
    now = svc.clock.now()
    if data.category == c.ALLOWANCE:
        try:
            claim = await c.claim_allowance(
                db(), meeting, person, svc.settings.costs, svc.settings.meetings.duration_minutes, now
            )
        except RefusalError as exc:
            answer(update, plain(language, exc.key, **exc.values), show_alert=True)
            return
        answer(update)
        edit_tapped(update, claim_saved(language, group, meeting, claim))
        await _tell_facilitators(context, group, meeting, person, claim)
        return
    if not await ev.came(db(), meeting, person):
        answer(update, plain(language, "costs.error.not_there"), show_alert=True)
        return
    answer(update)
    user_id = user_of(update).id
    await router.start(context, user_id, user_id, CLAIMING, "amount", meeting_id=meeting.id, category=data.category)
    edit_tapped(update, t(language, "costs.ask_amount"))


async def _claiming(update: Update, dialogue: Dialogue) -> tuple[Meeting, Group, Person, str] | None:
    meeting = await db().get(Meeting, dialogue.get("meeting_id"))
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    found = await person_in_group(db(), group, user_of(update).id) if group else None
    if meeting is None or group is None or found is None:
        await router.end(dialogue)
        return None
    return meeting, group, found[0], person_language(found[0], group)


async def claim_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The amount (or, at the receipt step, a reminder that a photo is needed)."""
    found = await _claiming(update, dialogue)
    if found is None:
        return
    _meeting, _group, _person, language = found
    if dialogue.step == "receipt":
        reply(update, t(language, "costs.need_photo"))
        return
    try:
        cents = c.parse_amount(message_of(update).text or "", services(context).settings.costs)
    except RefusalError as exc:
        reply(update, t(language, exc.key, **exc.values))  # asked again: the dialogue stays
        return
    await router.next_step(context, dialogue, "receipt", cents=cents)
    reply(update, t(language, "costs.ask_receipt"))


async def claim_photo(update: Update, context: Context, dialogue: Dialogue) -> None:
    found = await _claiming(update, dialogue)
    photos = message_of(update).photo
    if found is None or not photos:
        return
    meeting, group, person, language = found
    if dialogue.step != "receipt":
        reply(update, t(language, "costs.ask_amount"))
        return
    try:
        claim = await c.claim_receipt(
            db(),
            meeting,
            person,
            str(dialogue.get("category")),
            int(dialogue.get("cents")),
            photos[-1].file_id,  # the largest size Telegram made of the picture
            services(context).clock.now(),
        )
    except RefusalError as exc:
        await router.end(dialogue)
        reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    reply(update, claim_saved(language, group, meeting, claim))
    await _tell_facilitators(context, group, meeting, person, claim)


async def _decidable(update: Update, context: Context, claim_id: int) -> tuple[CostClaim, Meeting, Group, str] | None:
    claim = await db().get(CostClaim, claim_id)
    meeting = await db().get(Meeting, claim.meeting_id) if claim else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    language = language_for(update, context, group)
    if claim is None or meeting is None or group is None:
        answer(update, plain(language, "button.invalid"))
        return None
    if not await is_facilitator(context, group, user_of(update).id):
        answer(update, plain(language, "facilitator.only_short"), show_alert=True)
        return None
    if claim.status != "pending":
        answer(update, plain(language, "costs.error.decided"), show_alert=True)
        return None
    return claim, meeting, group, language


async def _tell_member(context: Context, group: Group, meeting: Meeting, claim: CostClaim) -> None:
    member = await db().get(Person, claim.person_id)
    if member is not None:
        text = decision_for_member(person_language(member, group), group, meeting, claim)
        notify(context, member, text, "cost_decision")


async def decision_button(update: Update, context: Context) -> None:
    data = tapped(update, cb.CostDecision)
    found = await _decidable(update, context, data.claim_id)
    if found is None:
        return
    claim, meeting, group, language = found
    by = await find_person(db(), user_of(update).id)
    user_id = user_of(update).id
    if by is None:
        answer(update, plain(language, "button.invalid"))
        return
    answer(update)
    if data.decision == "refuse":  # a refusal is given with its reason: asked first
        await router.start(context, user_id, user_id, REFUSING, "reason", claim_id=claim.id)
        say(user_id, t(language, "costs.ask_reason", number=claim.id))
        return
    await c.decide(db(), claim, by, True, None, services(context).clock.now())
    edit_tapped(update, t(language, "costs.decided_refunded", number=claim.id))
    await _tell_member(context, group, meeting, claim)


async def refusal_text(update: Update, context: Context, dialogue: Dialogue) -> None:
    claim = await db().get(CostClaim, dialogue.get("claim_id"))
    meeting = await db().get(Meeting, claim.meeting_id) if claim else None
    group = await find_group_by_id(db(), meeting.group_id) if meeting else None
    by = await find_person(db(), user_of(update).id)
    if claim is None or meeting is None or group is None or by is None:
        await router.end(dialogue)
        return
    language = language_for(update, context, group)
    if not await is_facilitator(context, group, user_of(update).id):
        await router.end(dialogue)
        return
    try:
        await c.decide(db(), claim, by, False, message_of(update).text, services(context).clock.now())
    except RefusalError as exc:
        if exc.key == "costs.error.decided":
            await router.end(dialogue)
        reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    reply(update, t(language, "costs.decided_refused", number=claim.id))
    await _tell_member(context, group, meeting, claim)


async def costs_command(update: Update, context: Context) -> None:
    """/frais: in the group, a facilitator's pending claims (in private); in private, a member's
    claim for the latest meeting they came to."""
    if is_group_chat(update):
        group = await require_facilitator(update, context)
        if group is None:
            return
        asker = await private_reader(update, context, group, "costs.start_first")
        if asker is None:
            return
        rows = await c.pending(db(), group.id)
        language = group.language
        say(asker.telegram_id, pending_text(language, group, rows))
        for claim, _meeting, _person in rows:
            say(asker.telegram_id, f"n°{claim.id}", reply_markup=decision_keyboard(language, claim))
        reply(update, t(language, "costs.sent"))
        return
    person = await find_person(db(), user_of(update).id)
    now = services(context).clock.now()
    if person is None:
        reply(update, t(language_for(update, context), "costs.nothing_to_claim"))
        return
    for group in await groups_of(db(), person):
        meeting = await ev.latest_attended(db(), group, person, now - RECENT, now)
        if meeting is not None:
            await _offer(context, person, group, meeting)
            return
    reply(update, t(language_for(update, context), "costs.nothing_to_claim"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("frais", costs_command))
    application.add_handler(CallbackQueryHandler(costs_button, pattern=cb.Costs.matches))
    application.add_handler(CallbackQueryHandler(category_button, pattern=cb.CostCategory.matches))
    application.add_handler(CallbackQueryHandler(decision_button, pattern=cb.CostDecision.matches))
    router.on(CLAIMING, router.Route(text=claim_text, photo=claim_photo))
    router.on(REFUSING, router.Route(text=refusal_text))
