"""End to end: the evaluation sheet, the day after, in private to those who came: "utile ?" with
one tap, then an optional text for the next meeting that facilitators read without the member's
name unless they sign; counts and texts in /bilan; nobody else can answer."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.domain.privacy import export_person
from bot.ui import callbacks as cb
from storage.models import Evaluation
from tests.support.helpers import group_with_bot, last_text, meetings_of

NEXT_DAY = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)  # 10:00 in Paris, the day after


def find(h, user, start: str):
    return next(m for m in reversed(h.tg.bot_messages(user.id)) if (m.text or "").startswith(start))


async def test_the_evaluation_in_private_with_a_free_text_unsigned_and_signed(relais):
    chat, awa, (karim, julie, lina) = await group_with_bot(relais, members=3)
    tg = relais.tg
    for person in (awa, karim, julie, lina):
        tg.start_private(person)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je viens")
    tg.press(julie, announcement, "Je viens")
    await relais.settle()
    relais.clock.set(NEXT_DAY)
    await relais.run_jobs()
    question = find(relais, karim, "⭐ La réunion du jeudi 12 novembre à 14h (Centre social) vous a été utile ?")
    assert question.labels() == ["👍 Oui, très", "🙂 Un peu", "👎 Pas vraiment", "🧾 Mes frais"]
    assert not any((m.text or "").startswith("⭐") for m in tg.bot_messages(lina.id))  # she did not come
    assert all(m.poll is None for m in tg.bot_messages(chat.id))  # everyone who came is asked in private
    # Karim: very useful, and a text without his name.
    tg.press(karim, question, "Oui, très")
    await relais.settle()
    assert question.text.startswith("Merci ! Une dernière question") and "Rien à ajouter" in question.labels()
    tg.say(tg.private_chat(karim), karim, "Parler des horaires de bus.")
    await relais.settle()
    assert last_text(relais, karim.id) == "Merci, c'est transmis à l'animation, sans votre nom."
    to_awa = last_text(relais, awa.id)
    assert to_awa.startswith("💬 Pour la prochaine réunion, un membre écrit") and "Karim" not in to_awa
    assert "« Parler des horaires de bus. »" in to_awa
    # Julie: a little, and she signs.
    julies = find(relais, julie, "⭐ La réunion du jeudi 12 novembre")
    tg.press(julie, julies, "Un peu")
    await relais.settle()
    tg.press(julie, julies, "Signer de mon prénom")
    await relais.settle()
    assert "☑️ Signé de mon prénom" in julies.labels()
    tg.say(tg.private_chat(julie), julie, "Inviter la mairie.")
    await relais.settle()
    assert last_text(relais, awa.id).startswith("💬 Pour la prochaine réunion, Julie écrit")
    # Lina did not come: a forged answer is refused and stores nothing.
    [meeting] = await meetings_of(relais, chat.id)
    tg.send_callback(lina, announcement, cb.Useful(meeting.id, "not").encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Ce questionnaire est pour les personnes venues à la réunion."
    async with relais.services.sessionmaker() as session:
        rows = list(await session.scalars(select(Evaluation).order_by(Evaluation.id)))
    assert [(row.useful, row.signed) for row in rows] == [("very", False), ("bit", True)]
    # /bilan: the counts and the texts, unsigned ones without a name.
    relais.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    tg.say(chat, awa, "/bilan")
    await relais.settle()
    report = find(relais, awa, "📊 Bilan du groupe")
    assert "utile ? 👍 Oui, très 1 · 🙂 Un peu 1 · 👎 Pas vraiment 0" in report.text
    assert "Ce que les membres attendent de la suite (2 textes)" in report.text
    assert (
        "« Parler des horaires de bus. » (un membre)" in report.text and "« Inviter la mairie. » (Julie)" in report.text
    )
    async with relais.services.sessionmaker() as session:
        exported = await export_person(session, karim.id, relais.clock.now())
    assert exported["evaluations"][0]["for_next_meeting"] == "Parler des horaires de bus."


async def test_the_group_poll_stays_for_those_who_cannot_be_written_to(relais):
    chat, awa, (karim, lina) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je viens")
    tg.press(lina, announcement, "Je viens")  # Lina never opened the private chat
    await relais.settle()
    relais.clock.set(NEXT_DAY)
    await relais.run_jobs()
    assert find(relais, karim, "⭐ La réunion du jeudi 12 novembre")
    assert tg.bot_messages(chat.id)[-1].poll is not None
