"""End to end: the group's charter. The default is posted and pinned when the bot may pin; the
group can write its own (too long is refused); each member reads it once with "✅ J'ai lu", in the
group or in private; announcements carry one line of it; facilitators see who has not read it."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.privacy import export_person
from bot.ui import callbacks as cb
from storage.models import CharterReading
from tests.support.helpers import group_with_bot, last_text, load_group


async def test_the_charter_posted_pinned_read_and_the_non_readers_listed(relais):
    tg = relais.tg
    awa = tg.user("Awa", "awa_anim")
    karim, julie = tg.user("Karim", "karim_m"), tg.user("Julie", "julie_m")
    chat = tg.group("Groupe ressources Oyonnax", creator=awa)
    tg.add_bot(chat, awa, as_admin=True)
    for person in (karim, julie):
        tg.join(chat, person)
    tg.start_private(awa)
    await relais.settle()
    tg.say(chat, awa, "/charte")
    await relais.run_jobs()
    charter = tg.bot_messages(chat.id)[-1]
    assert charter.text.startswith("🤝 Notre charte (groupe « Groupe ressources Oyonnax »)")
    for word in ("Confidentialité", "Bienveillance", "Respect", "Écoute"):
        assert word in charter.text
    assert charter.labels() == ["✅ J'ai lu"] and tg.chats[chat.id].pinned == charter.message_id
    tg.press(karim, charter, "J'ai lu")
    await relais.settle()
    assert tg.last_callback_answer() == "Merci ! C'est noté."
    tg.press(karim, charter, "J'ai lu")
    await relais.settle()
    assert tg.last_callback_answer() == "Vous l'avez déjà lue. Merci !"
    tg.say(chat, awa, "/charte lecteurs")
    await relais.settle()
    assert last_text(relais, awa.id).startswith("🤝 Pas encore lu la charte (groupe « Groupe ressources Oyonnax ») :")
    assert "Julie" in last_text(relais, awa.id) and "Karim" not in last_text(relais, awa.id)
    # A forged "J'ai lu" for another group counts for nobody.
    tg.send_callback(julie, charter, cb.CharterRead(999).encode())
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        assert len(list(await session.scalars(select(CharterReading)))) == 1
    # The group writes its own: too long is refused, then everyone is asked again.
    tg.say(chat, awa, "/charte " + "long " * 1000)
    await relais.settle()
    assert "La charte est trop longue (4999 caractères) : 1500 au plus." in last_text(relais, chat.id)
    tg.say(chat, awa, "/charte Ce qui se dit ici reste ici.\nOn s'écoute sans se couper.")
    await relais.run_jobs()
    assert (await load_group(relais, chat.id)).charter.startswith("Ce qui se dit ici reste ici.")
    assert tg.bot_messages(chat.id)[-1].text.endswith("Ce qui se dit ici reste ici.\nOn s'écoute sans se couper.")
    async with relais.services.sessionmaker() as session:
        assert list(await session.scalars(select(CharterReading))) == []
    # Announcements carry its first line; Karim's reading is his data.
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    assert "🤝 Ce qui se dit ici reste ici." in tg.bot_messages(chat.id)[-1].text
    newest = next(m for m in reversed(tg.bot_messages(chat.id)) if (m.text or "").startswith("🤝 Notre charte"))
    tg.press(karim, newest, "J'ai lu")
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        exported = await export_person(session, karim.id, relais.clock.now())
    assert exported["charter_read"][0]["group"] == "Groupe ressources Oyonnax"


async def test_a_participant_cannot_set_the_charter_and_no_pin_without_rights(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    tg = relais.tg
    tg.say(chat, karim, "/charte Rien")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    tg.say(chat, awa, "/charte")
    await relais.run_jobs()
    assert tg.bot_messages(chat.id)[-1].text.startswith("🤝 Notre charte")
    assert tg.chats[chat.id].pinned is None
