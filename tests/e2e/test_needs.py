"""End to end: 🧸 Garde d'enfants and 🍽 Repas. A member says a need in private with one tap (and
takes it back); facilitators read the counts, not names, in the day-before list and in /bilan;
the group sees nothing; forged buttons and a meal that does not exist change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.ui import callbacks as cb
from storage.models import MeetingNeed
from tests.support.helpers import group_with_bot, last_text, meetings_of

J1 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


async def needs(h) -> list[MeetingNeed]:
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(MeetingNeed).order_by(MeetingNeed.id)))


async def test_childcare_and_meal_needs_reach_the_day_before_list_as_counts(relais):
    chat, awa, (karim, julie, sami, lina) = await group_with_bot(relais, members=4)
    tg = relais.tg
    for person in (awa, karim, julie, sami):
        tg.start_private(person)
    tg.say(chat, awa, "/reunion 12/11 12h | Centre social | Repas partagé | Tour de table | repas")
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    assert "🍽 Avec un repas" in announcement.text and "1. Tour de table" not in announcement.text
    assert "Tour de table" in announcement.text
    assert "🧸 Garde d'enfants" in announcement.labels() and "🍽 Repas" in announcement.labels()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.meal is True and meeting.agenda == "Tour de table"
    in_group = len(tg.bot_messages(chat.id))
    # Karim: two children; Julie: one, then three; Lina opens the private chat from the tap.
    tg.press(karim, announcement, "Garde d'enfants")
    await relais.settle()
    assert tg.last_callback_answer() == "Je vous écris en privé."
    asked = tg.bot_messages(karim.id)[-1]
    assert "combien d'enfants faut-il faire garder" in asked.text and "jeudi 12 novembre à 12h" in asked.text
    assert asked.labels() == ["1", "2", "3", "4", "5", "6", "Aucun"]
    tg.press(karim, asked, "2")
    await relais.settle()
    assert (
        asked.text
        == "🧸 C'est noté : garde pour 2 enfants pendant la réunion du jeudi 12 novembre à 12h (Centre social)."
    )
    tg.press(julie, announcement, "Garde d'enfants")
    await relais.settle()
    tg.press(julie, tg.bot_messages(julie.id)[-1], "1")
    await relais.settle()
    assert tg.bot_messages(julie.id)[-1].text.startswith("🧸 C'est noté : garde pour 1 enfant pendant")
    tg.press(lina, announcement, "Garde d'enfants")
    await relais.settle()
    tg.open_link(lina, tg.last_callback_url())
    await relais.settle()
    tg.press(lina, tg.bot_messages(lina.id)[-1], "Aucun")
    await relais.settle()
    assert tg.bot_messages(lina.id)[-1].text.startswith("C'est noté : pas de garde d'enfants")
    tg.press(sami, announcement, "Repas")
    await relais.settle()
    tg.press(sami, tg.bot_messages(sami.id)[-1], "Végétarien")
    await relais.settle()
    assert tg.bot_messages(sami.id)[-1].text.startswith("🍽 C'est noté pour le repas de la réunion du jeudi 12")
    # A forged "99 children", and a need for another meeting's id: refused, nothing stored.
    before = [(n.person_id, n.children, n.diet) for n in await needs(relais)]
    tg.send_callback(karim, announcement, f"kids:{meeting.id}:99")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est plus valable."
    tg.send_callback(karim, announcement, cb.Children(meeting.id + 1, 3).encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est pas valable ici."
    assert [(n.person_id, n.children, n.diet) for n in await needs(relais)] == before
    assert len(tg.bot_messages(chat.id)) == in_group  # the group saw nothing
    # The day before, the facilitators' list counts them; no name is given.
    relais.clock.set(J1)
    await relais.run_jobs()
    digest = next(m for m in reversed(tg.bot_messages(awa.id)) if m.text.startswith("📋 Pour l'animation"))
    assert "🧸 Garde d'enfants : 3 enfants à garder" in digest.text
    assert "🍽 Pour le repas : Végétarien 1" in digest.text
    # /bilan after the meeting: the period's totals.
    relais.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    tg.say(chat, awa, "/bilan")
    await relais.settle()
    report = next(m for m in reversed(tg.bot_messages(awa.id)) if "Bilan du groupe" in (m.text or ""))
    assert "🧸 Enfants à garder : 3 · 🍽 besoins pour les repas : 1" in report.text


async def test_no_meal_means_no_meal_button_and_no_meal_need(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    assert "🍽 Repas" not in announcement.labels() and "🍽" not in announcement.text
    [meeting] = await meetings_of(relais, chat.id)
    tg.send_callback(karim, announcement, cb.Need(meeting.id, "meal").encode())
    await relais.settle()
    assert last_text(relais, karim.id) == "Cette réunion n'a pas de repas."
    tg.send_callback(karim, announcement, cb.Diet(meeting.id, "vegetarian").encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Cette réunion n'a pas de repas."
    assert await needs(relais) == []
