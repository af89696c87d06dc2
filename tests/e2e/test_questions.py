"""End to end: ❓ Une question under an announcement and a reminder. The member asks in private,
those who run the meeting get it with ✍️ Répondre, the answer comes back in private, and the group
sees nothing; bad input and forged buttons change nothing; the question is the member's data."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.domain.privacy import export_person
from bot.ui import callbacks as cb
from storage.models import Question
from tests.support.helpers import group_with_bot, last_text, other_group

J1 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


async def questions(h) -> list[Question]:
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(Question).order_by(Question.id)))


async def test_a_question_asked_and_answered_in_private_with_nothing_in_the_group(relais):
    chat, awa, (karim, julie, lina) = await group_with_bot(relais, members=3)
    tg = relais.tg
    for person in (awa, karim, julie):
        tg.start_private(person)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    assert "❓ Une question" in announcement.labels()
    in_group = len(tg.bot_messages(chat.id))
    tg.press(karim, announcement, "Une question")
    await relais.settle()
    assert tg.last_callback_answer() == "Je vous écris en privé."
    assert "Votre question sur la réunion du jeudi 12 novembre à 14h (Centre social)" in last_text(relais, karim.id)
    tg.say(tg.private_chat(karim), karim, "Il y a un ascenseur ? Je viens avec une poussette.")
    await relais.settle()
    assert last_text(relais, karim.id).startswith("✅ Merci, votre question est transmise")
    to_awa = tg.bot_messages(awa.id)[-1]
    assert "Question de Karim" in to_awa.text and "Il y a un ascenseur ? Je viens avec une poussette." in to_awa.text
    assert "jeudi 12 novembre à 14h (Centre social)" in to_awa.text and to_awa.labels() == ["✍️ Répondre"]
    assert "Question de Karim" not in " ".join(m.text for m in tg.bot_messages(julie.id))  # not a facilitator
    # Julie, a member, cannot answer: a forged press is refused and opens nothing.
    tg.send_callback(julie, to_awa, cb.ReplyQuestion(to_awa_question := (await questions(relais))[0].id).encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Réservé à l'animation du groupe."
    tg.press(awa, to_awa, "Répondre")
    await relais.settle()
    assert last_text(relais, awa.id).startswith("✍️ Votre réponse à Karim, en un message :")
    tg.say(tg.private_chat(awa), awa, "Oui, l'ascenseur est au fond du hall.")
    await relais.settle()
    assert last_text(relais, awa.id) == "✅ Réponse envoyée à Karim, en privé."
    answer = last_text(relais, karim.id)
    assert answer.startswith("💬 Réponse de l'animation à votre question sur la réunion du jeudi 12 novembre")
    assert "Il y a un ascenseur ?" in answer and "Oui, l'ascenseur est au fond du hall." in answer
    [question] = await questions(relais)
    assert question.id == to_awa_question and question.answer == "Oui, l'ascenseur est au fond du hall."
    # Answered once: a second tap says so.
    tg.press(awa, to_awa, "Répondre")
    await relais.settle()
    assert tg.last_callback_answer() == "Cette question a déjà sa réponse."
    # The group saw none of it.
    assert len(tg.bot_messages(chat.id)) == in_group
    # Lina never opened the private chat: the tap opens it, and the question is asked there.
    tg.press(lina, announcement, "Une question")
    await relais.settle()
    tg.open_link(lina, tg.last_callback_url())
    await relais.settle()
    assert "Votre question sur la réunion du jeudi 12 novembre" in last_text(relais, lina.id)
    # The question is Karim's data: exported, then erased with him.
    async with relais.services.sessionmaker() as session:
        data = await export_person(session, karim.id, relais.clock.now())
        mine = await export_person(session, awa.id, relais.clock.now())
    assert data["questions_asked"][0]["question"].startswith("Il y a un ascenseur ?")
    assert data["questions_asked"][0]["answer"] == "Oui, l'ascenseur est au fond du hall."
    assert mine["questions_answered"][0]["answer"] == "Oui, l'ascenseur est au fond du hall."
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui, tout effacer")
    await relais.settle()
    assert await questions(relais) == []


async def test_questions_under_reminders_and_bad_input(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    for person in (awa, karim):
        tg.start_private(person)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    tg.press(karim, tg.bot_messages(chat.id)[-1], "Je viens")
    await relais.settle()
    relais.clock.set(J1)
    await relais.run_jobs()
    assert "❓ Une question" in tg.bot_messages(chat.id)[-1].labels()  # the group's reminder
    private_reminder = next(m for m in reversed(tg.bot_messages(karim.id)) if m.text.startswith("⏰ C'est demain"))
    assert private_reminder.labels()[:2] == ["✏️ Changer ma réponse", "❓ Une question"]
    tg.press(karim, private_reminder, "Une question")
    await relais.settle()
    tg.say(tg.private_chat(karim), karim, "x" * 1500)  # too long: refused, nothing stored, still asked
    await relais.settle()
    assert last_text(relais, karim.id) == "C'est trop long (1500 caractères) : 1000 au plus."
    assert await questions(relais) == []
    tg.say(tg.private_chat(karim), karim, "Faut-il apporter quelque chose ?")
    await relais.settle()
    assert len(await questions(relais)) == 1
    # Another group's meeting, forged into this group: invalid, nothing opens.
    other, other_admin = other_group(relais)
    tg.say(other, other_admin, "/reunion 13/11 14h | Mairie | Point")
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        from storage.models import Meeting

        other_meeting = await session.scalar(select(Meeting).order_by(Meeting.id.desc()))
    tg.send_callback(karim, tg.bot_messages(chat.id)[-1], cb.AskQuestion(other_meeting.id).encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est pas valable ici."
    # A meeting that is over takes no more questions.
    relais.clock.set(datetime(2026, 11, 12, 15, 0, tzinfo=UTC))
    tg.press(karim, private_reminder, "Une question")
    await relais.settle()
    assert last_text(relais, karim.id).startswith("Cette réunion est passée ou annulée")
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Question)) == 1
