"""End to end: carpool departure points by a town's name or postal code, from the communes' open
data. A group with no point at all takes a member's commune as its first; a facilitator lists
towns by name, chooses among communes of one name with buttons, and is told of a misspelling."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain import communes
from storage.models import Place
from tests.support.helpers import group_with_bot, last_text

MEETING = "/reunion 12/11 14h | Centre social | Bilan"


def private_texts(h, user) -> list[str]:
    return [m.text for m in h.tg.bot_messages(user.id)]


async def places(h) -> dict[str, tuple[float, float]]:
    async with h.services.sessionmaker() as session:
        found = await session.scalars(select(Place).where(Place.active.is_(True)))
        return {p.name: (p.latitude, p.longitude) for p in found}


async def test_members_and_facilitators_name_towns(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais, members=2)
    tg = relais.tg
    for person in (awa, karim, julie):
        tg.start_private(person)
    tg.say(chat, awa, MEETING)
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]

    # No departure point yet: Karim offers a ride and is asked his commune, not told to wait.
    tg.press(karim, announcement, "Je propose des places")
    await relais.settle()
    assert "Écrivez votre commune ou son code postal" in " ".join(private_texts(relais, karim)[-2:])
    # A postal code several neighbouring communes share: the main town is his departure point.
    tg.say(tg.private_chat(karim), karim, "01100")
    await relais.settle()
    assert "📍 Départ : Oyonnax." in private_texts(relais, karim)
    tg.say(tg.private_chat(karim), karim, "2")
    await relais.settle()
    tg.say(tg.private_chat(karim), karim, "13h")
    await relais.settle()
    oyonnax = communes.find("Oyonnax")[0]
    assert await places(relais) == {"Oyonnax": (oyonnax.latitude, oyonnax.longitude)}
    assert last_text(relais, chat.id).startswith("🚗 2 places depuis Oyonnax")

    # Julie types her village: the nearest listed point is taken and she is told how far it is.
    tg.press(julie, announcement, "Je cherche une place")
    await relais.settle()
    tg.say(tg.private_chat(julie), julie, "bellignat")
    await relais.settle()
    assert "📍 Le lieu de départ le plus proche est Oyonnax (à 3 km)." in private_texts(relais, julie)
    assert private_texts(relais, karim)[-1].startswith("🙋 Julie cherche une place depuis Oyonnax")

    # The facilitator lists towns by name; the centre comes from the data.
    tg.say(chat, awa, "/lieux Nantua")
    await relais.settle()
    assert last_text(relais, chat.id) == "📍 Lieu de départ ajouté : Nantua."
    tg.say(chat, awa, "/lieux st martin du frene 01430")
    await relais.settle()
    assert last_text(relais, chat.id) == "📍 Lieu de départ ajouté : Saint-Martin-du-Frêne."
    # A misspelling: nothing added, the right spelling suggested.
    tg.say(chat, awa, "/lieux Oyonax")
    await relais.settle()
    said = last_text(relais, chat.id)
    assert "Je ne trouve pas de commune « Oyonax »" in said and "Vouliez-vous dire : Oyonnax ?" in said
    # Several communes of one name: buttons, only the facilitator's tap counts.
    tg.say(chat, awa, "/lieux Saint-Denis")
    await relais.settle()
    choice = tg.bot_messages(chat.id)[-1]
    assert choice.text.startswith("Plusieurs communes s'appellent « Saint-Denis »")
    assert {"Saint-Denis (93)", "Saint-Denis (974)", "Saint-Denis (11)"} <= set(choice.labels())
    tg.press(karim, choice, "Saint-Denis (93)")
    await relais.settle()
    assert tg.last_callback_answer() == "Seule l'animation du groupe choisit les lieux de départ."
    assert "Saint-Denis" not in await places(relais)
    tg.send_callback(awa, choice, "plc:1:99999")  # a line of the data that holds another commune
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est pas valable ici."
    tg.press(awa, choice, "Saint-Denis (93)")
    await relais.settle()
    assert choice.text == "📍 Lieu de départ ajouté : Saint-Denis." and not choice.labels()
    saint_denis = next(c for c in communes.find("Saint-Denis 93200"))
    assert (await places(relais))["Saint-Denis"] == (saint_denis.latitude, saint_denis.longitude)
    # More communes of one name than buttons: the postal code is how to reach the others.
    tg.say(chat, awa, "/lieux Sainte-Colombe")
    await relais.settle()
    choice = tg.bot_messages(chat.id)[-1]
    assert len(choice.labels()) == communes.CHOICES_MAX
    assert "Il y en a 12 : si elle n'est pas dans la liste, ajoutez son code postal" in choice.text
    # Coordinates still work, for a point that is no commune's centre.
    tg.say(chat, awa, "/lieux Gare de Nantua | 46.1526, 5.6121")
    await relais.settle()
    assert last_text(relais, chat.id) == "📍 Lieu de départ ajouté : Gare de Nantua."
    assert set(await places(relais)) == {"Oyonnax", "Nantua", "Saint-Martin-du-Frêne", "Saint-Denis", "Gare de Nantua"}


async def test_a_name_shared_far_apart_asks_for_the_postal_code(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, MEETING)
    await relais.settle()
    tg.press(karim, tg.bot_messages(chat.id)[-1], "Je cherche une place")
    await relais.settle()
    for typed, expected in (
        ("Saint-Denis", "Plusieurs communes s'appellent « Saint-Denis ». Écrivez votre code postal"),
        ("Atlantide", "Je ne trouve pas la commune « Atlantide »"),
    ):
        tg.say(tg.private_chat(karim), karim, typed)
        await relais.settle()
        assert private_texts(relais, karim)[-1].startswith(expected), typed
    assert await places(relais) == {}
    # A shared location far from France: nothing to take.
    tg.share_location(tg.private_chat(karim), karim, 0.5, -30.0)
    await relais.settle()
    assert private_texts(relais, karim)[-1].startswith("Je ne trouve pas de commune près de cette position.")
    # Near Nantua: the commune around becomes the group's first point; the location is not kept.
    tg.share_location(tg.private_chat(karim), karim, 46.1561, 5.6071)
    await relais.settle()
    assert "Nantua" in " ".join(private_texts(relais, karim)[-2:])
    assert set(await places(relais)) == {"Nantua"}
