"""End to end: /quand, choosing the date together. Members tick the dates they can make (a second
tap takes it back) and the counts follow on the message; a member cannot choose; a facilitator
sees who can come when, in private, and picks one, which becomes the meeting, announced as usual;
at the deadline the date most can make is chosen; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.ui import callbacks as cb
from storage.models import DateOption, DatePoll
from tests.support.helpers import group_with_bot, last_text, meetings_of

# The fake clock starts on Monday 2 November 2026, 10:00 in Paris.
DATES = "/quand Centre social | Bilan de l'année | mardi 14h | jeudi 10h | 20/11 14h30 | jusqu'à demain 12h"


async def polls(h) -> list[DatePoll]:
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(DatePoll).order_by(DatePoll.id)))


async def test_a_date_poll_from_creation_to_the_announced_meeting(relais):
    chat, awa, (karim, julie, sami) = await group_with_bot(relais, members=3)
    tg = relais.tg
    tg.start_private(awa)
    tg.say(chat, awa, DATES)
    await relais.settle()
    message = tg.bot_messages(chat.id)[-1]
    assert message.text.startswith("🗓 Quand se retrouver ? Bilan de l'année, Centre social.")
    assert "Réponse jusqu'au mardi 3 novembre à 12h" in message.text
    assert message.labels() == [
        "✋ mar. 3 nov. 14h · 0",
        "✋ jeu. 5 nov. 10h · 0",
        "✋ ven. 20 nov. 14h30 · 0",
        "✅ Choisir la date (animation)",
    ]
    tg.press(karim, message, "jeu. 5 nov.")
    tg.press(julie, message, "jeu. 5 nov.")
    tg.press(julie, message, "mar. 3 nov.")
    tg.press(sami, message, "mar. 3 nov.")
    tg.press(sami, message, "mar. 3 nov.")  # Sami takes it back
    await relais.settle()
    assert tg.last_callback_answer() == "Date retirée."
    assert message.labels()[:2] == ["✋ mar. 3 nov. 14h · 1", "✋ jeu. 5 nov. 10h · 2"]  # edited in place
    # A member cannot choose; a facilitator sees who can come when, in private.
    tg.press(karim, message, "Choisir")
    await relais.settle()
    assert tg.last_callback_answer() == "Réservé à l'animation du groupe."
    tg.press(awa, message, "Choisir")
    await relais.settle()
    who = tg.bot_messages(awa.id)[-1]
    assert "• jeudi 5 novembre à 10h : 2 personnes — Julie, Karim" in who.text
    assert "• vendredi 20 novembre à 14h30 : 0 personne — personne" in who.text
    tg.press(awa, who, "Retenir jeu. 5 nov. 10h")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 5, 9, 0, tzinfo=UTC) and meeting.topic == "Bilan de l'année"
    announcement = tg.bot_messages(chat.id)[-1]
    assert announcement.text.startswith("📣 Prochaine réunion") and "jeudi 5 novembre à 10h" in announcement.text
    assert "Date retenue : jeudi 5 novembre à 10h, Centre social. 2 membres peuvent venir." in message.text
    assert message.labels() == []  # the other dates are released
    [poll] = await polls(relais)
    assert poll.status == "chosen" and poll.meeting_id == meeting.id
    # Once chosen: ticks and choices are closed; the deadline changes nothing.
    tg.send_callback(karim, announcement, cb.DateTickButton(1).encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Ce choix de date est terminé."
    relais.clock.set(datetime(2026, 11, 3, 11, 0, tzinfo=UTC))
    await relais.run_jobs()
    assert len(await meetings_of(relais, chat.id)) == 1


async def test_at_the_deadline_the_date_most_can_make_becomes_the_meeting(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, DATES)
    await relais.settle()
    message = tg.bot_messages(chat.id)[-1]
    tg.press(karim, message, "ven. 20 nov.")
    tg.press(julie, message, "ven. 20 nov.")
    tg.press(julie, message, "mar. 3 nov.")
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 3, 11, 0, tzinfo=UTC))
    await relais.run_jobs()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    texts = [m.text for m in tg.bot_messages(chat.id)[-2:]]
    assert texts[0].startswith("🗓 Date retenue : vendredi 20 novembre à 14h30, Centre social. 2 membres")
    assert texts[1].startswith("📣 Prochaine réunion") and "vendredi 20 novembre à 14h30" in texts[1]
    assert tg.bot_messages(chat.id)[-2].reply_to == message.message_id


async def test_bad_date_polls_are_refused_in_french_and_change_nothing(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    tg = relais.tg
    cases = {
        "/quand Centre social | Bilan | mardi 14h": "Écrivez le lieu, le sujet, puis au moins deux dates",
        "/quand Centre social | Bilan | mardi 14h | mardi": "La date n°2 (« mardi ») ne va pas : ",
        "/quand Centre social | Bilan | mardi 14h | hier 14h": "La date n°2 (« hier 14h ») ne va pas",
        "/quand Centre social | Bilan | mardi 14h | mardi 14h": "Deux dates sont les mêmes.",
        "/quand Centre social | Bilan | mardi 14h | jeudi 10h | jusqu'à vendredi 18h": "avant la première date",
        "/quand Centre social | Bilan | " + " | ".join(f"{d}/12 14h" for d in range(1, 8)): "entre 2 et 6 dates",
    }
    for command, expected in cases.items():
        tg.say(chat, awa, command)
        await relais.settle()
        assert expected in last_text(relais, chat.id), command
        assert "Exemple : /quand" in last_text(relais, chat.id), command
    tg.say(chat, karim, DATES)
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    assert await polls(relais) == []
    async with relais.services.sessionmaker() as session:
        assert list(await session.scalars(select(DateOption))) == []
