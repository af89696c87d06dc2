"""End to end: action items with their reminders and one-tap results; the monthly digest and the
J-7 meeting reminder listing what moved."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import ActionItem, ScheduledEvent
from tests.support.helpers import group_with_bot, last_text

UTC = UTC


def private_texts(h, user) -> list[str]:
    return [m.text for m in h.tg.bot_messages(user.id)] if user.id in h.tg.chats else []


async def actions(h) -> list[ActionItem]:
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(ActionItem).order_by(ActionItem.id)))


async def test_action_items_reminded_and_reported_with_one_tap(relais):
    chat, awa, (karim, julie, sami, lina) = await group_with_bot(relais, members=4)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, "/action @karim_m Appeler la CAF pour les horaires | 20/11")
    await relais.settle()
    karims = tg.bot_messages(chat.id)[-1]
    assert karims.text == "📝 Action pour Karim : Appeler la CAF pour les horaires\nÀ faire pour vendredi 20 novembre."
    assert karims.labels() == ["✅ C'est fait", "⛔ J'ai besoin d'aide"]
    # Reply form: the action goes to the person whose message the command answers.
    tg.say(chat, lina, "/prochaine")
    await relais.settle()
    linas_message = [m for m in tg.chat_messages(chat.id) if m.sender_id == lina.id][-1]
    tg.reply(chat, awa, linas_message, "/action Réserver la salle | 19/11")
    await relais.settle()
    linas = tg.bot_messages(chat.id)[-1]
    assert linas.text.startswith("📝 Action pour Lina : Réserver la salle")
    # Only the owner (or a facilitator) answers.
    tg.press(julie, karims, "C'est fait")
    await relais.settle()
    assert tg.last_callback_answer() == "Seule la personne chargée de l'action (ou l'animation) peut répondre."
    assert [a.status for a in await actions(relais)] == ["open", "open"]
    # The day before at 10:00: Lina never started the bot, so her reminder is in the group.
    relais.clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    assert last_text(relais, chat.id) == "⏰ Rappel pour Lina : Réserver la salle (prévu pour jeudi 19 novembre)."
    relais.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    report = await relais.run_jobs()
    assert report.sent == 1
    reminder = tg.bot_messages(karim.id)[-1]
    assert reminder.text.startswith("⏰ Rappel (groupe « Groupe ressources Oyonnax ») : Appeler la CAF")
    tg.press(karim, reminder, "C'est fait")
    await relais.settle()
    assert reminder.text == "✅ C'est fait : Appeler la CAF pour les horaires. Merci Karim !"
    assert last_text(relais, chat.id) == "✅ C'est fait : Appeler la CAF pour les horaires. Merci Karim !"
    assert reminder.buttons() == []
    tg.press(lina, linas, "besoin d'aide")
    await relais.settle()
    assert linas.text == "⛔ Lina a besoin d'aide pour : Réserver la salle. L'animation va voir comment aider."
    assert "✅ C'est fait" in linas.labels()  # still possible later
    tg.say(chat, awa, "/actions")
    await relais.settle()
    listing = last_text(relais, chat.id)
    assert "⛔ Lina : Réserver la salle (pour jeudi 19 novembre), besoin d'aide" in listing and "Karim" not in listing
    assert [a.status for a in await actions(relais)] == ["done", "blocked"]
    assert (await relais.run_jobs()).sent == 0


async def test_bad_action_commands_change_nothing(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    cases = {
        "/action Appeler la CAF | 20/11": "Pour qui ?",
        "/action @inconnu_x Appeler la CAF | 20/11": "Je ne connais pas @inconnu_x dans ce groupe",
        "/action @karim_m Appeler la CAF | 31/02": "",
        "/action @karim_m Appeler la CAF": "Écrivez qui, quoi, puis la date",
        "/action @karim_m  | 20/11": "Écrivez qui, quoi, puis la date",
        "/action @k! Appeler | 20/11": "n'est pas un pseudo Telegram",
        "/action @karim_m " + "a" * 301 + " | 20/11": "L'action est trop longue (301 caractères)",
        "/action @karim_m Appeler la CAF | hier": "",
    }
    for command, expected in cases.items():
        tg.say(chat, awa, command)
        await relais.settle()
        assert expected in last_text(relais, chat.id) and "Exemple" in last_text(relais, chat.id), command
    tg.say(chat, karim, "/action @julie_m Appeler la CAF | 20/11")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    assert await actions(relais) == []


async def test_monthly_digest_and_first_reminder_list_what_moved(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, "/proposition Des horaires de bus adaptés")
    tg.say(chat, karim, "/proposition Une garderie")
    tg.say(chat, awa, "/suivi 1 transmise Commission insertion")
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 5, 9, 0, tzinfo=UTC))  # J-7
    await relais.run_jobs()
    reminder = last_text(relais, chat.id)
    assert "Du nouveau sur nos propositions depuis la dernière réunion" in reminder
    assert "n°1 Des horaires de bus adaptés : transmise" in reminder and "garderie" not in reminder
    relais.clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))  # J-1: no list
    await relais.run_jobs()
    assert "C'est demain" in last_text(relais, chat.id) and "Du nouveau" not in last_text(relais, chat.id)
    relais.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # 1 December, 10:00 in Paris
    await relais.run_jobs()
    # The digest; beside it, in either order, the nudge for Awa's private message of the same run.
    digests = [m for m in tg.bot_messages(chat.id)[-2:] if m.text.startswith("🗓 Où en sont nos propositions ?")]
    assert len(digests) == 1
    digest = digests[0]
    assert "🆕 Nouvelles (1)" in digest.text and "📨 Transmises (1)" in digest.text
    assert "💡 Faire une proposition" in digest.labels()
    assert (await relais.run_jobs()).sent == 0
    async with relais.services.sessionmaker() as session:
        upcoming = await session.scalar(
            select(ScheduledEvent).where(ScheduledEvent.kind == "proposals_digest", ScheduledEvent.status == "pending")
        )
    assert upcoming.due_at == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
