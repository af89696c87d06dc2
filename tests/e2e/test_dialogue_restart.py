"""End to end: a restart in the middle of a dialogue resumes at the same question (the state is in
the database, not in the process), and an expired dialogue does not capture what comes next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage.models import DialogueState, RideOffer
from tests.support.helpers import group_with_bot, last_text, meetings_of, proposals_of


async def open_dialogues(h) -> int:
    async with h.services.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(DialogueState))


async def test_guided_meeting_resumes_after_a_restart(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion")
    await relais.settle()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "mardi prochain 9h30")
    await relais.settle()
    assert "Où ? Répondez avec le lieu" in last_text(relais, chat.id)
    await relais.restart()  # a new process: nothing in memory
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Mairie de Bourg, salle 2")
    await relais.settle()
    await relais.restart()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Transports\nPoint sur les lignes de bus")
    await relais.settle()
    preview = tg.bot_messages(chat.id)[-1]
    assert "Mairie de Bourg, salle 2" in preview.text and "mardi prochain 9h30" in preview.text
    await relais.restart()
    tg.press(awa, preview, "Publier")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.place == "Mairie de Bourg, salle 2" and meeting.topic == "Transports"
    assert meeting.starts_at == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    assert await open_dialogues(relais) == 0
    assert tg.flagged == []


async def test_carpool_offer_resumes_after_a_restart(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, "/lieux Oyonnax | 46.2567, 5.6556")
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je propose des places")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-2], "Oyonnax")
    await relais.settle()
    assert "Combien de places" in last_text(relais, karim.id)
    await relais.restart()
    tg.say(tg.private_chat(karim), karim, "2")
    await relais.settle()
    assert "À quelle heure partez-vous" in last_text(relais, karim.id)
    await relais.restart()
    tg.say(tg.private_chat(karim), karim, "13h15")
    await relais.settle()
    assert "C'est noté : 2 places depuis Oyonnax, départ à 13h15" in last_text(relais, karim.id)
    async with relais.services.sessionmaker() as session:
        [offer] = list(await session.scalars(select(RideOffer)))
    assert offer.seats == 2
    assert await open_dialogues(relais) == 0


async def test_private_proposal_resumes_after_a_restart_and_expires(relais):
    chat, _awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, "/propositions")
    await relais.settle()
    tg.press(julie, tg.bot_messages(chat.id)[-1], "Faire une proposition")
    await relais.settle()
    assert "Écrivez votre proposition" in last_text(relais, julie.id)
    await relais.restart()
    tg.say(tg.private_chat(julie), julie, "Un repas partagé après chaque réunion")
    await relais.settle()
    assert "Merci ! Votre proposition n°1 est enregistrée" in last_text(relais, julie.id)
    [proposal] = await proposals_of(relais, chat.id)
    assert proposal.text == "Un repas partagé après chaque réunion"
    # Opened again, then left for more than half an hour: a later text is not a proposal.
    tg.press(julie, tg.bot_messages(chat.id)[-1], "Faire une proposition")
    await relais.settle()
    relais.clock.advance(timedelta(minutes=31))
    await relais.restart()
    tg.say(tg.private_chat(julie), julie, "Bonjour")
    await relais.settle()
    assert "Je ne lis pas les messages libres ici" in last_text(relais, julie.id)
    assert len(await proposals_of(relais, chat.id)) == 1
    assert await open_dialogues(relais) == 0
