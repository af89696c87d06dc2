"""End to end: private chat, deep links, 403s, data export and erasure, the error handler."""

from __future__ import annotations

import json
import logging

from sqlalchemy import func, select

import handlers.facilitators
import handlers.help
from bot.domain.deeplinks import group_payload
from bot.outbox.after_commit import collect, stop_collecting
from bot.outbox.sending import to_group, to_person
from storage.models import Membership, Person
from tests.support.helpers import group_with_bot, last_text, load_group, load_membership, load_person


async def test_start_deep_link_links_person_to_group(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.press(karim, tg.bot_messages(chat.id)[0], "Recevoir mes rappels")
    await relais.settle()
    assert "Groupe ressources Oyonnax" in last_text(relais, karim.id)
    person = await load_person(relais, karim.id)
    assert person.private_status == "started" and person.started_at is not None
    assert (await load_membership(relais, chat.id, karim.id)).private_reminders


async def test_forged_or_stale_deep_link_links_nothing(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    group = await load_group(relais, chat.id)
    good = group_payload(relais.services.link_secret, group.id)
    forged = "g" + str(group.id + 1) + good[len(str(group.id)) + 1 :]
    for payload in (forged, good[:-1] + ("A" if good[-1] != "A" else "B"), "g1", "x" * 64):
        tg.start_private(karim, payload)
        await relais.settle()
        assert "Ce lien n'est plus valable" in last_text(relais, karim.id)
    assert not (await load_membership(relais, chat.id, karim.id)).private_reminders
    # A link to a group the bot was removed from links nothing either.
    tg.remove_bot(chat, awa)
    await relais.settle()
    tg.start_private(karim, good)
    await relais.settle()
    assert "Ce lien n'est plus valable" in last_text(relais, karim.id)


async def sent_after_commit(relais, queue) -> tuple[bool, list]:
    """What `queue()` queues, sent as after an update's commit; returns its result and the
    messages Telegram accepted for it."""
    sends, token = collect()
    try:
        async with relais.services.sessionmaker.begin() as session:  # the notice rows commit
            queued = queue(session)
    finally:
        stop_collecting(token)
    before = len(relais.tg.calls)
    relais.services.sender.submit(sends)
    await relais.services.sender.drain()
    return queued, relais.tg.calls[before:]


async def test_private_403_marks_unreachable_not_error(relais, caplog):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    await relais.settle()
    svc = relais.services
    person = await load_person(relais, karim.id)
    queued, calls = await sent_after_commit(
        relais, lambda s: to_person(s, person, "Rappel", "test", relais.clock.now())
    )
    assert queued and [method for method, _ in calls] == ["sendMessage"]
    tg.block(karim)
    await relais.settle()
    assert (await load_person(relais, karim.id)).private_status == "unreachable"
    # Julie never started the bot: nothing is attempted; forcing the status shows the 403 path.
    julie_row = await load_person(relais, julie.id)
    assert await sent_after_commit(relais, lambda s: to_person(s, julie_row, "Rappel", "test", relais.clock.now())) == (
        False,
        [],
    )
    async with svc.sessionmaker.begin() as session:
        julie_row = await session.scalar(select(Person).where(Person.telegram_id == julie.id))
        julie_row.private_status = "started"
    with caplog.at_level(logging.ERROR):
        queued, calls = await sent_after_commit(
            relais, lambda s: to_person(s, julie_row, "Rappel", "test", relais.clock.now())
        )
        assert queued and len(calls) == 1  # tried, refused with 403
    assert (await load_person(relais, julie.id)).private_status == "unreachable"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_group_send_follows_migration_it_was_not_told_about(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    # The service messages are lost (bot down, say): only the 400 migrate_to_chat_id tells.
    tg.allowed_updates = ["callback_query"]
    supergroup = tg.upgrade_to_supergroup(chat, awa)
    tg.allowed_updates = None
    group = await load_group(relais, chat.id)
    queued, _calls = await sent_after_commit(
        relais, lambda s: to_group(s, group, "Rappel : réunion demain", "test", relais.clock.now())
    )
    assert queued
    assert (await load_group(relais, supergroup.id)) is not None
    assert last_text(relais, supergroup.id) == "Rappel : réunion demain"
    # Removed from the group without being told: the 403 deactivates it.
    supergroup.statuses[tg.bot.id] = "left"
    group = await load_group(relais, supergroup.id)
    queued, calls = await sent_after_commit(relais, lambda s: to_group(s, group, "Rappel", "test", relais.clock.now()))
    assert queued and len(calls) == 1  # tried, refused with 403
    assert not (await load_group(relais, supergroup.id)).active


async def test_my_data_export(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.press(karim, tg.bot_messages(chat.id)[0], "Recevoir mes rappels")
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await relais.settle()
    document = tg.bot_messages(karim.id)[-1].document
    assert document is not None and document.filename == "relais-mes-donnees.json"
    data = json.loads(document.content)
    assert data["telegram_id"] == karim.id and data["person"]["first_name"] == "Karim"
    assert data["person"]["private_messages"] == "started"
    assert data["groups"] == [data["groups"][0]] and data["groups"][0]["group"] == "Groupe ressources Oyonnax"
    assert data["groups"][0]["private_reminders"] is True
    # In the group, the command points to the private chat and discloses nothing.
    tg.say(chat, karim, "/mesdonnees")
    await relais.settle()
    assert "seulement en message privé" in last_text(relais, chat.id)
    assert all(m.document is None for m in tg.bot_messages(chat.id))


async def test_forget_after_confirmation(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await relais.settle()
    confirm = tg.bot_messages(karim.id)[-1]
    tg.press(karim, confirm, "Non, garder")
    await relais.settle()
    assert await load_person(relais, karim.id) is not None
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui, tout effacer")
    await relais.settle()
    assert "est effacé" in last_text(relais, karim.id)
    assert await load_person(relais, karim.id) is None
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Membership)) == 2  # Awa and Julie
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await relais.settle()
    assert json.loads(tg.bot_messages(karim.id)[-1].document.content)["stored"] is False
    # Replaying the confirmation button later (an old client, a forged query) is harmless: its
    # message has no buttons any more.
    tg.send_callback(karim, confirm, "forget:yes")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est plus valable."
    assert tg.find_message(karim.id, confirm.message_id).text == "D'accord, rien n'est effacé."
    # On a message that has buttons, a second "yes" from someone with nothing stored says so.
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await relais.settle()
    again = tg.bot_messages(karim.id)[-1]
    tg.press(karim, again, "Oui, tout effacer")
    await relais.settle()
    assert "ne gardait rien" in tg.find_message(karim.id, again.message_id).text


def fail_once(monkeypatch, module, name: str) -> None:
    """The handler's next call of `name` raises, half-way through the update (a defect)."""
    original = getattr(module, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a defect half-way through the update")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


async def test_error_handler_apologises_and_keeps_running(relais, caplog, monkeypatch):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    fail_once(monkeypatch, handlers.help, "reply")
    with caplog.at_level(logging.INFO):
        tg.say(chat, karim, "/aide")
        await relais.settle()
    assert "Désolé, quelque chose n'a pas marché" in last_text(relais, chat.id)
    errors = [r for r in caplog.records if r.name == "relais.errors"]
    assert errors and f"chat {chat.id}" in errors[0].getMessage()
    for record in caplog.records:  # ids only: no names, no texts, no token
        text = record.getMessage() + (record.exc_text or "")
        assert "Karim" not in text and "Awa" not in text and tg.token not in text
    tg.say(chat, karim, "/aide")
    await relais.settle()
    assert "touchez les boutons" in last_text(relais, chat.id)


async def test_failed_update_changes_nothing_and_says_nothing(relais, monkeypatch):
    """One transaction per update: a handler that fails half-way leaves no partial write, and
    what it had queued to say is not said (only the apology)."""
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    fail_once(monkeypatch, handlers.facilitators, "reply")
    tg.say(chat, awa, "/animateur @julie_m")  # writes named_facilitator, then fails
    await relais.settle()
    assert not (await load_membership(relais, chat.id, julie.id)).named_facilitator
    assert "Désolé" in last_text(relais, chat.id)


async def test_a_reply_survives_a_telegram_hiccup(relais):
    """Sent after the commit: a 500 from Telegram is retried, the update's work is kept."""
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.script_fault("sendMessage", "500", times=1)
    tg.say(chat, awa, "/animateur @julie_m")
    await relais.settle()
    assert (await load_membership(relais, chat.id, julie.id)).named_facilitator
    assert "Julie" in last_text(relais, chat.id)


async def test_unknown_button_is_answered_and_changes_nothing(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    greeting = tg.bot_messages(chat.id)[0]
    for data in ("forget:yes", "cfg:ok", "zzz", "x" * 64):
        tg.send_callback(karim, greeting, data)
        await relais.settle()
    assert await load_person(relais, karim.id) is not None
    assert tg.last_callback_answer() == "Ce bouton n'est plus valable."
