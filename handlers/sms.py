"""SMS for the members Telegram does not reach ([sms] in the configuration).

/sms @pseudo (a facilitator, in the group): Relais asks them in private for the member's number,
given with the member's consent; the member then gets one SMS asking for a OUI. /sms numero
04 74 12 34 56 sets the number an SMS tells people to call. The gateway posts what members answer
to the webhook (`sms.webhook_path` on the web port), signed with `sms.signing_key`: an answer
counts where a tap counts, APPEL and anything else reach those who run the meeting in private.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.domain import sms
from bot.domain.dialogues import Dialogue
from bot.domain.errors import RefusalError
from bot.domain.facilitators import AdminLookup, group_facilitators, meeting_runners
from bot.domain.groups import find_group_by_id
from bot.domain.people import person_in_group
from bot.services import Services, db, services
from bot.ui import callbacks as cb
from bot.ui.i18n import pick_language, plain, t
from handlers.common import (
    Context,
    answer,
    command_args,
    edit_tapped,
    follow_in_session,
    is_facilitator,
    language_for,
    message_of,
    named_member,
    notify_in_session,
    plan,
    reply,
    require_facilitator,
    say,
    tapped,
    unit_of_work,
    user_of,
)
from handlers.common import dialogue_router as router
from storage.models import Group, Person

log = logging.getLogger(__name__)
DIALOGUE = "sms_number"  # in the facilitator's private chat: the member's number, typed
SMS = web.AppKey("sms", dict)
MAX_AGE = 300  # seconds: an older signed webhook is a replay


# ----------------------------------------------------------------------------- facilitators
async def sms_command(update: Update, context: Context) -> None:
    """/sms @pseudo: the number is asked in private; /sms numero 04…: the number to call."""
    group = await require_facilitator(update, context)
    if group is None:
        return
    if not services(context).settings.sms.enabled:
        reply(update, t(group.language, "sms.off"))
        return
    word, _, rest = command_args(update).partition(" ")
    if word.lower() == "numero":
        try:
            group.sms_call_number = sms.parse_call_number(rest)
        except RefusalError as exc:
            reply(update, t(group.language, exc.key) + "\n" + t(group.language, "sms.usage"))
            return
        reply(update, t(group.language, "sms.call_number_set"))
        return
    if word.lower() == "ajouter":  # a member without Telegram, by name
        try:
            name = sms.validate_name(rest)
        except RefusalError as exc:
            reply(update, t(group.language, exc.key, **exc.values) + "\n" + t(group.language, "sms.usage"))
            return
        await _ask_number(update, context, group, name=name)
        return
    member = await named_member(update, group)
    if member is None:
        reply(update, t(group.language, "sms.usage"))
        return
    await _ask_number(update, context, group, member=member)


async def _ask_number(
    update: Update, context: Context, group: Group, member: Person | None = None, name: str | None = None
) -> None:
    """The number is asked of the facilitator in private: it is never typed in the group."""
    asker = user_of(update)
    facilitator = await person_in_group(db(), group, asker.id)
    if facilitator is None or facilitator[0].private_status != "started":
        reply(update, t(group.language, "sms.start_first"))
        return
    person_id = member.id if member is not None else None
    await router.start(
        context, asker.id, asker.id, DIALOGUE, "number", group_id=group.id, person_id=person_id, name=name
    )
    language = pick_language(facilitator[0].language_code, group.language)
    named = member.first_name if member is not None else str(name)
    say(asker.id, t(language, "sms.ask_number", name=named, group=group.display_name))
    reply(update, t(group.language, "sms.asked_in_private"))


async def number_typed(update: Update, context: Context, dialogue: Dialogue) -> None:
    """The member's number, typed in private: the consent SMS goes out."""
    language = language_for(update, context)
    group = await find_group_by_id(db(), dialogue.get("group_id"))
    person_id, name = dialogue.get("person_id"), dialogue.get("name")
    member = await db().get(Person, person_id) if person_id is not None else None
    if group is None or (member is None and not name):
        await router.end(dialogue)
        return
    now = services(context).clock.now()
    try:
        number = sms.parse_number(message_of(update).text or "")
        if member is None:  # a member without Telegram joins the group now, by name
            member = await sms.add_member_without_telegram(db(), group, str(name), now)
        await sms.register(db(), group, member, number, now)
    except RefusalError as exc:
        reply(update, t(language, exc.key, **exc.values))
        return
    await router.end(dialogue)
    plan([now])
    reply(update, t(language, "sms.registered", name=member.first_name, number=sms.readable(number)))


# ----------------------------------------------------------------------------- the gateway's webhook
def signed(key: str, body: bytes, timestamp: str, signature: str, now: float) -> bool:
    """SMS Gateway for Android's signature: HMAC-SHA256 of the body then the timestamp, in hex,
    with the signing key; a timestamp over five minutes old is a replay."""
    if not key or not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE:
        return False
    expected = hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


async def inbound(request: web.Request) -> web.Response:
    """An SMS received by the gateway. Forged or replayed: 401 and nothing changes; from an
    unknown number: nothing; twice the same event: counted once."""
    svc: Services = request.app[SMS]["services"]
    admins: AdminLookup = request.app[SMS]["admins"]
    body = await request.read()
    key = svc.settings.sms.signing_key.get_secret_value()
    headers = request.headers
    if not signed(key, body, headers.get("X-Timestamp", ""), headers.get("X-Signature", ""), time.time()):
        log.warning("sms webhook refused: bad or missing signature")
        return web.json_response({"ok": False}, status=401)
    try:
        data = json.loads(body)
        event, payload = data["event"], data["payload"]
        text, sender = str(payload["message"]), str(payload["phoneNumber"])
        # One SMS, once: the app has posted one SMS twice under two event ids (its issue #291),
        # so the SMS is known by its sender, its id (made from its text) and when it arrived.
        seen = "|".join(str(payload.get(k, "")) for k in ("phoneNumber", "messageId", "receivedAt"))
        event_key = hashlib.sha256(seen.encode()).hexdigest()
    except (ValueError, KeyError, TypeError):
        return web.json_response({"ok": False}, status=400)
    if event != "sms:received":
        return web.json_response({"ok": True})
    await take_in(svc, admins, event_key, sender, text)
    return web.json_response({"ok": True})


async def take_in(svc: Services, admins: AdminLookup, event_key: str, sender: str, text: str) -> str:
    """One SMS received (by the webhook or from the operator's inbox), in one transaction: what it
    did (bot/domain/sms.py, `Received.outcome`)."""
    try:
        number = sms.parse_number(sender)
    except RefusalError:
        return "unknown"  # a short code, a foreign operator's service: not a member
    now = svc.clock.now()
    with unit_of_work(svc.sender, svc.refresher, svc.wake_at) as work:
        async with svc.update_turn(), svc.sessionmaker.begin() as session:
            got = await sms.receive(session, event_key, number, text, now)
            log.info("sms received: %s", got.outcome)  # the outcome only: never the number or the words
            svc.metrics.sms_received.labels(got.outcome).inc()
            if got.outcome in ("consented", "stopped"):
                plan([now])  # the one confirmation, by SMS
            if got.group is not None and got.person is not None:
                await _tell(session, svc, admins, got, number, now)
            await work.write_down(session, now)
        work.committed = True
    return got.outcome


async def collect(svc: Services, admins: AdminLookup) -> int:
    """The operator's inbox (ovh): each SMS taken in, then cleared. Cleared only once its
    transaction is committed, and known by its id, sender and arrival: read twice (a crash before
    the clearing, two processes reading at once), it counts once. Returns how many were read."""
    assert svc.sms is not None
    waiting = await svc.sms.inbox()
    for inbound in waiting:
        seen = "|".join(("ovh", inbound.id, inbound.number, inbound.received_at))
        # Two processes reading at once: the second's insert of the same key waits for the
        # first's commit, then finds it (sms.receive: "duplicate").
        await take_in(svc, admins, hashlib.sha256(seen.encode()).hexdigest(), inbound.number, inbound.text)
        await svc.sms.clear(inbound)
    return len(waiting)


async def collect_forever(svc: Services, admins: AdminLookup) -> None:
    """Reads the operator's inbox every `sms.collect_seconds` (real time, as Telegram's polling)."""
    while True:
        try:
            await collect(svc, admins)
        except Exception:
            log.exception("sms inbox: collection failed; tried again later")
        await asyncio.sleep(svc.settings.sms.collect_seconds)


async def _tell(
    session: Any, svc: Services, admins: AdminLookup, got: sms.Received, number: str, now: datetime
) -> None:
    """An answer moves the announcement's counts; a call asked for, a reason or a message goes to
    those who run the next meeting (the facilitators when none is planned), in private."""
    group, person, answer = got.group, got.person, got.answer
    assert group is not None and person is not None and answer is not None
    if got.outcome == "answered" and got.meeting is not None:
        if got.meeting.announcement_message_id is not None:
            messages = {"announcement": got.meeting.announcement_message_id}
            await follow_in_session(session, group.chat_id, got.meeting.id, messages, now)
        if not (answer.kind == "no" and answer.rest):
            return
        key, values = "sms.reason_to_runners", {"text": answer.rest}
    elif got.outcome == "call":
        key, values = "sms.call_to_runners", {"number": sms.readable(number)}
    elif got.outcome == "message":
        key, values = "sms.message_to_runners", {"text": answer.rest}
    else:
        return
    if got.meeting is not None:
        readers = await meeting_runners(session, got.meeting, group, admins)
    else:
        readers = await group_facilitators(session, group, admins)
    for reader in readers:
        language = pick_language(reader.language_code, group.language)
        text = t(language, key, name=person.first_name, group=group.display_name, **values)
        markup = None
        if got.outcome == "call" and got.received_id is not None:
            done = cb.key(plain(language, "button.sms_call_done"), cb.SmsCallDone(got.received_id))
            markup = InlineKeyboardMarkup([[done]])
        notify_in_session(session, reader, text, "sms", now, reply_markup=markup)


async def call_done_button(update: Update, context: Context) -> None:
    """✅ Rappel fait: a facilitator of the member's group called them back (told once)."""
    language = language_for(update, context)
    data = tapped(update, cb.SmsCallDone)
    call = await sms.call_back(db(), data.received_id)
    if call is None:
        answer(update, plain(language, "button.invalid"))
        return
    if not await is_facilitator(context, call.group, user_of(update).id):
        answer(update, plain(language, "facilitator.only"), show_alert=True)
        return
    answer(update)
    key = "sms.call_done" if call.done(services(context).clock.now()) else "sms.call_already_done"
    edit_tapped(update, t(language, key, name=call.member.first_name, by=user_of(update).first_name))


def setup_sms(app: web.Application, svc: Services, admins: AdminLookup) -> None:
    """The webhook, for a gateway that posts the answers (android, fake)."""
    if svc.settings.sms.provider == "ovh":
        return  # its answers are collected from its inbox (collect_forever)
    app[SMS] = {"services": svc, "admins": admins}
    app.router.add_post(svc.settings.sms.webhook_path, inbound)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("sms", sms_command))
    application.add_handler(CallbackQueryHandler(call_done_button, pattern=cb.SmsCallDone.matches))
    router.on(DIALOGUE, router.Route(text=number_typed, ttl=timedelta(minutes=30)))
