"""End to end: carpooling to a meeting. Two drivers and three riders at various distances, a
refusal, a full car, a driver cancelling, the meeting moved and cancelled, the reminders and the
unmatched alert, a person who never started the bot, bad input, and no raw location kept."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from storage.models import Place, RideOffer, RideRequest
from tests.support.helpers import group_with_bot, last_text, load_person

UTC = UTC
PLACES = {
    "Oyonnax": (46.2567, 5.6556),
    "Bellignat": (46.2442, 5.6286),  # 2.5 km from Oyonnax
    "Nantua": (46.1533, 5.6086),  # 12 km from Oyonnax, 10 km from Bellignat
    "Bourg-en-Bresse": (46.2052, 5.2255),  # 30 km and more from all the others
    "Saint-Martin-du-Frêne": (46.1359, 5.5533),
}
MEETING = "/reunion 12/11 14h | Centre social | Bilan"
MEETING_WORDS = "la réunion du jeudi 12 novembre à 14h (Centre social)"  # how participants read it
J2 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
J1 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
# Where Lina really is when she shares her location: near Oyonnax, never to be kept anywhere.
LINA_AT = (46.26113, 5.66471)


def texts(h, user) -> list[str]:
    return [m.text for m in h.tg.bot_messages(user.id)] if user.id in h.tg.chats else []


def sources(h, user) -> list[str]:
    return [m.html or m.text for m in h.tg.bot_messages(user.id)] if user.id in h.tg.chats else []


async def setup(h):
    """Awa's group with its departure points and a meeting. Karim and Sami drive; Julie, Théo
    and Zoé started the bot; Lina never did."""
    chat, awa, (karim, julie, sami, lina) = await group_with_bot(h, members=4)
    tg = h.tg
    theo, zoe = tg.user("Théo", "theo_m"), tg.user("Zoé", "zoe_m")
    for person in (theo, zoe):
        tg.join(chat, person)
    for person in (awa, karim, julie, sami, theo, zoe):
        tg.start_private(person)
    for name, (lat, lon) in PLACES.items():
        tg.say(chat, awa, f"/lieux {name} | {lat}, {lon}")
    tg.say(chat, awa, MEETING)
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    return chat, announcement, awa, karim, julie, sami, lina, theo, zoe


async def offer(h, announcement, driver, place: str, seats: str, time: str) -> None:
    tg = h.tg
    tg.press(driver, announcement, "Je propose des places")
    await h.settle()
    tg.press(driver, tg.bot_messages(driver.id)[-2], place)
    await h.settle()
    tg.say(tg.private_chat(driver), driver, seats)
    await h.settle()
    tg.say(tg.private_chat(driver), driver, time)
    await h.settle()


async def request(h, announcement, rider, town: str) -> None:
    tg = h.tg
    tg.press(rider, announcement, "Je cherche une place")
    await h.settle()
    tg.say(tg.private_chat(rider), rider, town)
    await h.settle()


async def requests(h) -> dict[int, RideRequest]:
    async with h.services.sessionmaker() as session:
        return {r.id: r for r in await session.scalars(select(RideRequest).order_by(RideRequest.id))}


async def test_offers_requests_matching_and_changes(relais):
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    assert "🚗 Je propose des places" in announcement.labels() and "🙋 Je cherche une place" in announcement.labels()
    await offer(relais, announcement, karim, "Oyonnax", "1", "13h")
    assert texts(relais, karim)[-1].startswith("✅ C'est noté : 1 place depuis Oyonnax, départ à 13h")
    assert (
        last_text(relais, chat.id)
        == "🚗 1 place depuis Oyonnax pour la réunion du jeudi 12 novembre à 14h (Centre social)."
    )
    await offer(relais, announcement, sami, "Nantua", "2 places", "13h15")
    # Julie, from Bellignat (typed without the capital): the nearest driver, Karim, is asked first.
    await request(relais, announcement, julie, "bellignat")
    assert (
        last_text(relais, chat.id) == f"🙋 Une personne cherche une place depuis Bellignat. C'est pour {MEETING_WORDS}."
    )
    ask = tg.bot_messages(karim.id)[-1]
    assert ask.text.startswith("🙋 Julie cherche une place depuis Bellignat (à 2 km de votre départ)")
    assert "tg://user" not in (ask.html or "") and "julie_m" not in ask.text  # no contact before acceptance
    # Someone else presses Karim's accept button: refused, nothing changes.
    tg.press(julie, ask, "Accepter")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est pas pour vous."
    tg.press(karim, ask, "Refuser")
    await relais.settle()
    assert ask.text == "C'est noté, je demande à quelqu'un d'autre."
    to_sami = tg.bot_messages(sami.id)[-1]
    assert to_sami.text.startswith("🙋 Julie cherche une place depuis Bellignat (à 10 km de votre départ)")
    tg.press(sami, to_sami, "Accepter")
    await relais.settle()
    julie_person, sami_person = await load_person(relais, julie.id), await load_person(relais, sami.id)
    assert f"tg://user?id={julie.id}" in (to_sami.html or "") and "Bellignat, départ à 13h15" in to_sami.text
    assert (
        f"tg://user?id={sami.id}" in sources(relais, julie)[-1]
        and "Sami @sami_m vous emmène" in texts(relais, julie)[-1]
    )
    assert julie_person and sami_person
    # Lina never started the bot: the group button opens the private chat, which starts her request.
    tg.press(lina, announcement, "Je cherche une place")
    await relais.settle()
    url = tg.last_callback_url()
    assert url and url.startswith("https://t.me/relais_test_bot?start=r")
    tg.open_link(lina, url)
    await relais.settle()
    assert "d'où partiriez-vous" in texts(relais, lina)[-2]
    tg.share_location(tg.private_chat(lina), lina, *LINA_AT)
    await relais.settle()
    assert "Le lieu de départ le plus proche est Oyonnax (tout près)" in " ".join(texts(relais, lina)[-3:])
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Accepter")
    await relais.settle()
    assert "Vous emmenez Lina" in texts(relais, karim)[-1]
    # Karim's car is full: Théo, from Oyonnax too, is offered to Sami (12 km), who has one seat left.
    await request(relais, announcement, theo, "Oyonnax")
    assert tg.bot_messages(sami.id)[-1].text.startswith("🙋 Théo cherche une place depuis Oyonnax (à 12 km")
    tg.press(sami, tg.bot_messages(sami.id)[-1], "Accepter")
    await relais.settle()
    # Zoé, 30 km away from every driver: she waits.
    await request(relais, announcement, zoe, "Bourg-en-Bresse")
    assert "je cherche une place pour vous" in texts(relais, zoe)[-1]
    tg.say(chat, julie, "/covoiturage")
    await relais.settle()
    board = last_text(relais, chat.id)
    assert "• depuis Oyonnax : 1 place proposée, 0 libre ; 0 demande en attente" in board
    assert "• depuis Bourg-en-Bresse : 0 place proposée, 0 libre ; 1 demande en attente" in board
    for name in ("Julie", "Lina", "Théo", "Zoé", "Karim", "Sami"):
        assert all(name not in m.text for m in tg.bot_messages(chat.id)), name  # the group only sees counts
    # Karim cannot go: Lina is told and back in the queue; Sami is full, so she waits.
    saved = [m for m in tg.bot_messages(karim.id) if "Annuler mon offre" in " ".join(m.labels())][-1]
    tg.press(karim, saved, "Annuler mon offre")
    await relais.settle()
    assert saved.text.startswith("Votre offre pour la réunion du jeudi 12 novembre à 14h (Centre social) est annulée")
    assert texts(relais, lina)[-1].startswith(
        "😕 Karim ne peut plus vous emmener à la réunion du jeudi 12 novembre à 14h (Centre social)"
    )
    ride = await requests(relais)
    assert [r.status for r in ride.values()] == ["matched", "waiting", "matched", "waiting"]
    # Two days before, facilitators get the requests without a seat.
    relais.clock.set(J2)
    await relais.run_jobs()
    alert = texts(relais, awa)[-1]
    assert "n'ont pas encore de place : Lina (depuis Oyonnax), Zoé (depuis Bourg-en-Bresse)" in alert
    # The day before: each driver and passenger is reminded of who, where and when.
    karim_before = len(texts(relais, karim))
    relais.clock.set(J1)
    await relais.run_jobs()
    assert (
        "Vous partez de Nantua à 13h15 avec Julie @julie_m (à Bellignat), Théo @theo_m (à Oyonnax)"
        in texts(relais, sami)[-1]
    )
    assert "Sami @sami_m vous emmène. Rendez-vous : Bellignat, départ à 13h15." in texts(relais, julie)[-1]
    # Karim only gets the meeting reminder: no ride any more, no carpool reminder.
    assert len(texts(relais, karim)) == karim_before + 1 and not any(
        t.startswith("🚗 Rappel") for t in texts(relais, karim)
    )


async def test_meeting_moved_then_cancelled_updates_every_ride(relais):
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    await offer(relais, announcement, karim, "Oyonnax", "2", "13h30")
    await request(relais, announcement, julie, "Bellignat")
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Accepter")
    await request(relais, announcement, zoe, "Bourg-en-Bresse")
    tg.say(chat, awa, "/deplacer 1 vendredi 13 novembre 15h")
    await relais.settle()
    assert "Votre départ passe à 14h30" in texts(relais, karim)[-1]
    assert "Votre covoiturage tient toujours, départ à 14h30" in texts(relais, julie)[-1]
    assert "Je cherche toujours une place pour vous" in texts(relais, zoe)[-1]
    async with relais.services.sessionmaker() as session:
        moved = await session.scalar(select(RideOffer))
    assert moved.departs_at == datetime(2026, 11, 13, 13, 30, tzinfo=UTC)
    request_button = next(b["callback_data"] for b in announcement.buttons() if "cherche" in b["text"])
    tg.say(chat, awa, "/annuler 1")
    await relais.settle()
    for person in (karim, julie, zoe):
        assert "n'aura pas lieu. Votre covoiturage non plus." in texts(relais, person)[-1], person.first_name
    ride = await requests(relais)
    assert {r.status for r in ride.values()} == {"cancelled"}
    tg.send_callback(julie, announcement, request_button)  # a button kept from before
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est plus valable."  # its message has none now


async def test_bad_carpool_input_changes_nothing(relais):
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    tg.press(karim, announcement, "Je propose des places")
    await relais.settle()
    tg.say(tg.private_chat(karim), karim, "Oyonax")  # a close spelling
    await relais.settle()
    suggestion = tg.bot_messages(karim.id)[-1]
    assert suggestion.text.startswith("Je ne trouve pas « Oyonax ». Vouliez-vous dire") and suggestion.labels() == [
        "Oyonnax"
    ]
    tg.say(tg.private_chat(karim), karim, "  SAINT martin du frene ")  # no accent, no hyphen, capitals: found
    await relais.settle()
    assert texts(relais, karim)[-2] == "📍 Départ : Saint-Martin-du-Frêne."
    tg.press(karim, announcement, "Je propose des places")  # start again from another point
    await relais.settle()
    assert "Vous proposez déjà" not in texts(relais, karim)[-1]
    tg.say(tg.private_chat(karim), karim, "Paris")
    await relais.settle()
    assert texts(relais, karim)[-1].startswith("Je ne connais pas « Paris » comme lieu de départ")
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oyonnax")
    await relais.settle()
    for seats in ("0", "99", "beaucoup"):
        tg.say(tg.private_chat(karim), karim, seats)
        await relais.settle()
        assert texts(relais, karim)[-1] == "Écrivez un nombre de places entre 1 et 8.", seats
    tg.say(tg.private_chat(karim), karim, "3")
    for time in ("15h", "8h", "midi et demi"):
        tg.say(tg.private_chat(karim), karim, time)
        await relais.settle()
        assert (
            "Le départ doit être avant" in texts(relais, karim)[-1]
            or "Écrivez l'heure de départ" in texts(relais, karim)[-1]
        ), time
    async with relais.services.sessionmaker() as session:
        assert list(await session.scalars(select(RideOffer))) == []
    # Forged or stale buttons: another group's meeting, someone else's offer, a step out of turn.
    tg.say(tg.private_chat(karim), karim, "13h")
    await relais.settle()
    for data in ("cps:1:3", "cpp:1:1", "cxo:1", "cxr:99", "ride:99:a", "car:99:o"):
        tg.send_callback(julie, tg.bot_messages(karim.id)[-1], data)
        await relais.settle()
        assert tg.last_callback_answer() in (
            "Ce bouton n'est plus valable.",
            "Ce bouton n'est pas valable ici.",
            "Ce bouton n'est pas pour vous.",
        ), data
    async with relais.services.sessionmaker() as session:
        assert [o.status for o in await session.scalars(select(RideOffer))] == ["open"]
    # Departure points: only facilitators, and well formed.
    cases = {
        "/lieux Oyonnax | 46.2567, 5.6556": "Le lieu « Oyonnax » existe déjà",
        "/lieux Lune | 123, 5": "Je ne comprends pas les coordonnées",
        "/lieux Lune 46, 5": "Je ne trouve pas de commune « Lune 46, 5 »",
        "/lieux | 46, 5": "Donnez un nom au lieu de départ",
        "/lieux retirer Paris": "Je ne connais pas le lieu « Paris »",
    }
    for command, expected in cases.items():
        tg.say(chat, awa, command)
        await relais.settle()
        assert expected in last_text(relais, chat.id), command
    tg.say(chat, karim, "/lieux Chez moi | 46.1, 5.6")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    async with relais.services.sessionmaker() as session:
        assert sorted(await session.scalars(select(Place.name))) == sorted(PLACES)


async def test_places_by_shared_location_and_no_raw_location_kept(relais, caplog):
    caplog.set_level(logging.DEBUG)
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    tg.say(chat, awa, "/lieux ajouter Gare d'Arbent")  # no commune has that name: its location is asked
    await relais.settle()
    prompt = tg.bot_messages(chat.id)[-1]
    tg.share_location(chat, awa, 46.2903, 5.6797, reply_to=prompt)
    await relais.settle()
    assert last_text(relais, chat.id) == "📍 Lieu de départ ajouté : Gare d'Arbent."
    tg.say(chat, awa, "/lieux retirer Gare d'Arbent")
    tg.press(zoe, announcement, "Je cherche une place")
    await relais.settle()
    tg.share_location(tg.private_chat(zoe), zoe, *LINA_AT)
    await relais.settle()
    assert "Oyonnax" in " ".join(texts(relais, zoe)[-3:])
    tg.share_location(tg.private_chat(zoe), zoe, 1.0, 2.0)  # outside any dialogue
    await relais.settle()
    assert "je ne la garde pas" in texts(relais, zoe)[-1]
    raw = [str(LINA_AT[0]), str(LINA_AT[1]), "46.2611", "5.6647"]
    async with relais.services.sessionmaker() as session:
        for table in (
            "places",
            "ride_offers",
            "ride_requests",
            "people",
            "memberships",
            "scheduled_events",
            "deliveries",
        ):
            rows = " ".join(str(row) for row in (await session.execute(text(f"SELECT * FROM {table}"))).all())
            assert not any(value in rows for value in raw), table
    assert not any(value in record.getMessage() for record in caplog.records for value in raw)
    assert not any(
        value in (m.text or "")
        for chat_messages in tg.messages.values()
        for m in chat_messages
        if m.sender_id == tg.bot.id
        for value in raw
    )


async def test_transport_reason_leads_to_a_request_and_figures_and_erasure(relais):
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    await offer(relais, announcement, karim, "Oyonnax", "3", "13h30")
    tg.press(julie, announcement, "Je ne peux pas")
    await relais.settle()
    tg.press(julie, tg.bot_messages(julie.id)[-1], "Transport")
    await relais.settle()
    why = tg.bot_messages(julie.id)[-1]
    assert "Et si quelqu'un du groupe vous emmenait" in why.text and why.labels() == ["🙋 Je cherche une place"]
    tg.press(julie, why, "Je cherche une place")
    await relais.settle()
    tg.press(julie, tg.bot_messages(julie.id)[-2], "Bellignat")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Accepter")
    await relais.settle()
    # With a ride, Julie can come after all: one tap under the good news.
    good_news = tg.bot_messages(julie.id)[-1]
    assert good_news.labels() == ["✅ Je viens", "❌ Je n'ai plus besoin de place"]
    tg.press(julie, good_news, "Je viens")
    await relais.settle()
    assert "✅ 1 oui · ❌ 0 non" in announcement.text
    await request(relais, announcement, zoe, "Bourg-en-Bresse")
    tg.say(chat, awa, "/indicateurs")
    await relais.settle()
    assert "• la réunion du jeudi 12 novembre à 14h (Centre social) : 1 · 3 · 2 · 1 · 1" in texts(relais, awa)[-1]
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await relais.settle()
    data = json.loads(tg.bot_messages(karim.id)[-1].document.content)
    assert data["ride_offers"][0]["from"] == "Oyonnax" and data["ride_offers"][0]["seats"] == 3
    # Karim erases his data: Julie's seat is not left in a car that no longer exists.
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui")
    await relais.settle()
    ride = await requests(relais)
    assert [(r.status, r.offer_id) for r in ride.values()] == [("waiting", None), ("waiting", None)]


async def test_one_private_dialogue_at_a_time(relais):
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    tg.press(julie, announcement, "Je cherche une place")
    await relais.settle()
    # Julie leaves the carpool question unanswered and opens the proposal dialogue instead.
    tg.press(julie, tg.bot_messages(chat.id)[0], "Faire une proposition")
    await relais.settle()
    tg.say(tg.private_chat(julie), julie, "Un arrêt de bus devant le centre social")
    await relais.settle()
    assert "Merci ! Votre proposition n°1 est enregistrée" in texts(relais, julie)[-1]
    # A carpool question left for more than half an hour: what she types later is not a town.
    tg.press(julie, announcement, "Je cherche une place")
    await relais.settle()
    relais.clock.advance(timedelta(minutes=31))
    tg.say(tg.private_chat(julie), julie, "Oyonnax")
    await relais.settle()
    assert "Je ne lis pas les messages libres" in texts(relais, julie)[-1]
    assert await requests(relais) == {}


async def test_a_request_held_by_a_driver_who_blocked_the_bot_goes_to_the_next(relais):
    """Karim blocked the bot without Relais knowing (the update was lost): Julie's request goes to
    him, Telegram answers 403, and the next dispatcher run offers it to Sami instead."""
    chat, announcement, awa, karim, julie, sami, lina, theo, zoe = await setup(relais)
    tg = relais.tg
    await offer(relais, announcement, karim, "Oyonnax", "2", "13h30")  # the nearest to Bellignat
    await offer(relais, announcement, sami, "Nantua", "2", "13h00")
    karim.blocked = True  # silently: no my_chat_member update reached the bot
    before = len(texts(relais, sami))
    await request(relais, announcement, julie, "Bellignat")
    assert (await load_person(relais, karim.id)).private_status == "unreachable"  # the 403
    [held] = (await requests(relais)).values()
    assert held.status == "proposed"  # still waiting on Karim's answer, which will never come
    await relais.run_jobs()
    await relais.settle()
    asked = texts(relais, sami)[before:]
    assert any("Julie" in text and "Accepter" not in text for text in asked), asked
    assert "Accepter" in " ".join(tg.bot_messages(sami.id)[-1].labels())
    tg.press(sami, tg.bot_messages(sami.id)[-1], "Accepter")
    await relais.settle()
    assert "vous emmène" in texts(relais, julie)[-1] and "Sami" in texts(relais, julie)[-1]
