"""End to end: the group's card. A facilitator writes it with /presentation; a newcomer gets it in
private with the next meeting and its buttons (on joining when the private chat is open, or on
opening it from the group's link); a member who
left and comes back is not recorded twice; bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Membership
from tests.support.helpers import group_with_bot, last_text, load_group


async def test_a_newcomer_gets_the_card_and_the_next_meeting_in_private(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    tg = relais.tg
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    tg.say(chat, awa, "/presentation")
    await relais.settle()
    question = tg.bot_messages(chat.id)[-1]
    assert question.text.startswith("👋 La présentation du groupe")
    tg.reply(chat, awa, question, "x" * 500)  # too long: asked again, nothing kept
    await relais.settle()
    assert last_text(relais, chat.id) == "C'est trop long (500 caractères) : 400 au plus."
    assert (await load_group(relais, chat.id)).card_purpose is None
    tg.reply(chat, awa, question, "Nous parlons de notre parcours et faisons des propositions.")  # not the re-ask
    await relais.settle()
    assert last_text(relais, chat.id) == "Pour que je lise votre réponse, répondez à ce message-ci."
    tg.answer_question(chat, awa, "Nous parlons de notre parcours et faisons des propositions.")
    await relais.settle()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Un mardi par mois, à 14h, au centre social.")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("C'est enregistré. Voici ce que liront les nouveaux membres :")
    # Nadia opened a private chat with the bot before (another group): she gets the card on joining.
    nadia = tg.user("Nadia", "nadia_m")
    tg.start_private(nadia)
    tg.join(chat, nadia)
    await relais.settle()
    card = tg.bot_messages(nadia.id)[-1]
    assert card.text.startswith("👋 Bienvenue dans le groupe « Groupe ressources Oyonnax » !")
    assert "Nous parlons de notre parcours" in card.text and "🗓 Un mardi par mois, à 14h" in card.text
    assert "La prochaine réunion :" in card.text and "jeudi 12 novembre à 14h" in card.text
    assert "✅ Je viens" in card.labels()
    # Omar joins without a private chat, then opens it from the group's link: the card comes then.
    omar = tg.user("Omar", "omar_m")
    tg.join(chat, omar)
    await relais.settle()
    tg.press(omar, tg.bot_messages(chat.id)[0], "Recevoir mes rappels")
    await relais.settle()
    assert tg.bot_messages(omar.id)[-1].text.startswith("👋 Bienvenue dans le groupe")
    # Nadia leaves and comes back: the same membership, not a second one.
    tg.leave(chat, nadia)
    await relais.settle()
    tg.join(chat, nadia)
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Membership)) == 4  # Awa, Karim, Nadia, Omar
    # A participant cannot write the card.
    tg.say(chat, karim, "/presentation")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."


async def test_without_a_card_a_default_from_the_group(relais):
    chat, awa, _ = await group_with_bot(relais, members=1)
    tg = relais.tg
    lina = tg.user("Lina", "lina_m")
    tg.start_private(lina)
    tg.join(chat, lina)
    await relais.settle()
    card = tg.bot_messages(lina.id)[-1].text
    assert "on se retrouve pour parler de notre expérience" in card and "La prochaine réunion" not in card
