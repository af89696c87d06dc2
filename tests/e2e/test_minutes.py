"""End to end: the minutes. A facilitator sends them after the meeting (a text, or a file in reply
to the bot's question); those who came read them in private, agree or add a comment that reaches
the facilitators; at the end of the review (or on the facilitator's word) they are posted in the
group, pinned when the bot may pin, and sent to the members who did not come; the next meeting's
J-7 reminder points to them; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.ui import callbacks as cb
from storage.models import Minutes, MinutesReview
from tests.support.helpers import last_text, meetings_of

AFTER = datetime(2026, 11, 12, 16, 0, tzinfo=UTC)  # the meeting (14h in Paris) is over
TEXT = "/compterendu Nous avons parlé des bus.\nProchaine étape : écrire à la mairie."


async def setup(h, bot_is_admin: bool):
    tg = h.tg
    awa = tg.user("Awa", "awa_anim")
    karim, julie, sami = (tg.user(name, f"{name.lower()}_m") for name in ("Karim", "Julie", "Sami"))
    chat = tg.group("Groupe ressources Oyonnax", creator=awa)
    tg.add_bot(chat, awa, as_admin=bot_is_admin)
    for person in (karim, julie, sami):
        tg.join(chat, person)
        tg.start_private(person)
    tg.start_private(awa)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je viens")
    tg.press(julie, announcement, "Je viens")
    await h.settle()
    return chat, awa, karim, julie, sami


async def test_minutes_reviewed_completed_posted_pinned_and_sent_to_the_absent(relais):
    chat, awa, karim, julie, sami = await setup(relais, bot_is_admin=True)
    tg = relais.tg
    tg.say(chat, awa, "/compterendu")
    await relais.settle()
    assert (
        last_text(relais, chat.id) == "Aucune réunion n'a encore eu lieu dans ce groupe : le compte rendu vient après."
    )
    relais.clock.set(AFTER)
    tg.say(chat, awa, TEXT)
    await relais.settle()
    confirmation = tg.bot_messages(chat.id)[-1]
    assert confirmation.text.startswith("📝 Le compte rendu part pour avis aux 2 personnes venues")
    assert "publié ici le dimanche 15 novembre à 17h" in confirmation.text
    review = tg.bot_messages(karim.id)[-1]
    assert review.text.startswith("📝 Compte rendu de la réunion du jeudi 12 novembre à 14h (Centre social)")
    assert "Nous avons parlé des bus.\nProchaine étape : écrire à la mairie." in review.text
    assert review.labels() == ["✅ D'accord", "✏️ Compléter"]
    assert not any("Compte rendu de" in (m.text or "") for m in tg.bot_messages(sami.id))  # not there
    tg.press(karim, review, "D'accord")
    await relais.settle()
    assert tg.last_callback_answer() == "Merci, c'est noté."
    tg.press(julie, tg.bot_messages(julie.id)[-1], "Compléter")
    await relais.settle()
    tg.say(tg.private_chat(julie), julie, "Ajouter : la mairie répond en janvier.")
    await relais.settle()
    assert last_text(relais, julie.id) == "Merci, c'est transmis à l'animation."
    assert last_text(relais, awa.id).startswith("✏️ Julie complète le compte rendu de la réunion du jeudi 12")
    # Sami did not come: a forged review is refused.
    async with relais.services.sessionmaker() as session:
        minutes = await session.scalar(select(Minutes))
    tg.send_callback(sami, confirmation, cb.MinutesAnswer(minutes.id, "ok").encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Le compte rendu est relu par les personnes venues à la réunion."
    # A member cannot publish; at the end of the review it is posted, pinned, and sent to Sami.
    tg.press(karim, confirmation, "Publier maintenant")
    await relais.settle()
    assert tg.last_callback_answer() == "Réservé à l'animation du groupe."
    relais.clock.set(AFTER + timedelta(days=3))
    await relais.run_jobs()
    posted = next(m for m in tg.bot_messages(chat.id) if m.text.startswith("📝 Compte rendu de la réunion"))
    assert "Prochaine étape : écrire à la mairie." in posted.text
    assert tg.chats[chat.id].pinned == posted.message_id
    assert last_text(relais, sami.id).startswith("📝 Voici le compte rendu de la réunion du jeudi 12 novembre")
    # Awa ran the meeting (nobody ticks themselves): she is never told she was not there.
    assert not any("Vous n'étiez pas là" in m.text for m in tg.bot_messages(awa.id))
    async with relais.services.sessionmaker() as session:
        minutes = await session.scalar(select(Minutes))
        reviews = list(await session.scalars(select(MinutesReview).order_by(MinutesReview.id)))
    assert minutes.status == "published" and minutes.message_id == posted.message_id
    assert [(r.agreed, r.comment) for r in reviews] == [(True, None), (False, "Ajouter : la mairie répond en janvier.")]
    assert (await relais.run_jobs()).sent == 0  # once
    tg.say(chat, awa, "/compterendu Autre texte")
    await relais.settle()
    assert last_text(relais, chat.id) == "Le compte rendu de cette réunion est déjà publié."
    # The next meeting's J-7 reminder points to the minutes (pinned: the group is not a supergroup).
    tg.say(chat, awa, "/reunion 10/12 14h | Centre social | Suite")
    await relais.settle()
    relais.clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    reminder = tg.bot_messages(chat.id)[-1]
    assert reminder.text.startswith("⏰ Dans une semaine")
    assert "Le compte rendu de la dernière réunion est épinglé dans le groupe." in reminder.text
    # Someone answers under the reminder: its counts are edited, its minutes line stays.
    tg.press(karim, reminder, "Je viens")
    await relais.settle()
    assert reminder.edits == 1 and "✅ 1" in reminder.text
    assert "Le compte rendu de la dernière réunion est épinglé dans le groupe." in reminder.text


async def test_minutes_as_a_file_published_at_once_without_pinning_rights(relais):
    chat, awa, karim, julie, sami = await setup(relais, bot_is_admin=False)
    tg = relais.tg
    relais.clock.set(AFTER)
    tg.say(chat, awa, "/compterendu")
    await relais.settle()
    question = tg.bot_messages(chat.id)[-1]
    assert question.text.startswith("📝 Envoyez le compte rendu de la réunion du jeudi 12 novembre")
    tg.send_document(chat, awa, "compte-rendu.pdf", b"%PDF-1.4 minutes", reply_to=question)
    await relais.settle()
    assert tg.bot_messages(karim.id)[-1].document.filename == "compte-rendu.pdf"
    tg.say(chat, awa, "/compterendu publier")
    await relais.run_jobs()
    posted = tg.bot_messages(chat.id)[-1]
    assert posted.document.filename == "compte-rendu.pdf" and posted.text.startswith("📝 Compte rendu de la réunion")
    assert tg.chats[chat.id].pinned is None  # the bot may not pin here: an ordinary message
    assert tg.bot_messages(sami.id)[-1].document.filename == "compte-rendu.pdf"
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.topic == "Bilan"


async def test_bad_minutes_change_nothing(relais):
    chat, awa, karim, julie, sami = await setup(relais, bot_is_admin=False)
    tg = relais.tg
    relais.clock.set(AFTER)
    tg.say(chat, awa, "/compterendu " + "très long " * 400)
    await relais.settle()
    assert "Le compte rendu est trop long (3999 caractères) : 3500 au plus." in last_text(relais, chat.id)
    tg.say(chat, karim, TEXT)
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    tg.say(chat, awa, "/compterendu publier")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("Pas encore de compte rendu pour cette réunion")
    async with relais.services.sessionmaker() as session:
        assert list(await session.scalars(select(Minutes))) == []


async def test_minutes_that_members_could_not_open_safely_are_refused_and_asked_again(relais):
    chat, awa, karim, julie, sami = await setup(relais, bot_is_admin=False)
    tg = relais.tg
    relais.clock.set(AFTER)
    tg.say(chat, awa, "/compterendu")
    await relais.settle()
    question = tg.bot_messages(chat.id)[-1]
    for name, content in (("compte-rendu.exe", b"MZ\x90\x00"), ("compte-rendu.zip", b"PK\x03\x04")):
        tg.send_document(chat, awa, name, content, reply_to=question)
        await relais.settle()
        assert "Je garde un compte rendu en PDF" in tg.bot_messages(chat.id)[-1].text
        assert not [m for m in tg.bot_messages(karim.id) if m.document is not None]  # nothing sent on
    tg.send_document(chat, awa, "compte-rendu.odt", b"PK odt", reply_to=question)  # the question still open
    await relais.settle()
    assert tg.bot_messages(karim.id)[-1].document.filename == "compte-rendu.odt"
