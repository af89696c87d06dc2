"""End to end: creating meetings, answering, changing them (reminders are in test_e2e_reminders)."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import func, select

from storage.models import MeetingSeries, Rsvp, ScheduledEvent
from tests.support.helpers import group_with_bot, last_text, load_group, load_person, meetings_of, other_group

# The fake clock starts on Monday 2 November 2026, 09:00 UTC (10:00 in Paris).
ONE_LINE = "/reunion 12/11 14h | Centre social Les Vennes, 3 rue X, Bourg | Bilan des propositions"


async def events_of(h, meeting_id) -> dict[tuple[str, int], ScheduledEvent]:
    async with h.services.sessionmaker() as session:
        rows = await session.scalars(select(ScheduledEvent).where(ScheduledEvent.meeting_id == meeting_id))
        return {(e.kind, e.offset_minutes): e for e in rows}


async def test_one_line_meeting_is_announced_with_buttons(relais):
    chat, awa, _ = await group_with_bot(relais)
    relais.tg.say(chat, awa, ONE_LINE + " | 1. Tour de table\n2. Propositions")
    await relais.settle()
    announcement = relais.tg.bot_messages(chat.id)[-1]
    text = announcement.text
    assert "<b>Bilan des propositions</b>" in text or "Bilan des propositions" in text
    assert "jeudi 12 novembre à 14h" in text and "Centre social Les Vennes, 3 rue X, Bourg" in text
    assert "1. Tour de table" in text and "✅ 0 oui · ❌ 0 non · 🤔 0 peut-être" in text
    assert announcement.labels() == [
        "✅ Je viens",
        "❌ Je ne peux pas",
        "🤔 Peut-être",
        "📅 Ajouter à mon agenda",
        "❓ Une question",
        "🚗 Je propose des places",
        "🙋 Je cherche une place",
        "🧸 Garde d'enfants",
    ]
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 12, 13, 0, tzinfo=UTC)
    assert meeting.announcement_message_id == announcement.message_id
    events = await events_of(relais, meeting.id)
    # J-7 and J-1 at 10:00 Paris time (09:00 UTC in November).
    assert events[("reminder", 7 * 1440)].due_at == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    assert events[("reminder", 1440)].due_at == datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
    assert events[("facilitator_digest", 0)].due_at == datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    assert all(e.status == "pending" for e in events.values())
    for word in ("RSA", "allocataire", "bénéficiaire"):
        assert word.lower() not in text.lower()


async def test_guided_meeting(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion")
    await relais.settle()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "hier 14h")
    await relais.settle()
    assert "Je ne trouve pas le jour" in last_text(relais, chat.id)
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "mardi prochain 9h30")
    await relais.settle()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Mairie de Bourg, salle 2")
    await relais.settle()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Transports\nPoint sur les lignes de bus")
    await relais.settle()
    preview = tg.bot_messages(chat.id)[-1]
    assert "Mairie de Bourg, salle 2" in preview.text
    tg.press(awa, preview, "Publier")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.topic == "Transports" and meeting.agenda == "Point sur les lignes de bus"
    assert meeting.starts_at == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    assert "Transports" in tg.bot_messages(chat.id)[-1].text


async def test_bad_meeting_input_gets_french_answer_and_changes_nothing(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    cases = {
        "/reunion 30/02 14h | Mairie | Bilan": "Cette date n'existe pas",
        "/reunion 1/11 14h | Mairie | Bilan": "déjà passée",
        "/reunion demain 2h | Mairie | Bilan": "Pour l'après-midi, écrivez 14h",
        "/reunion demain | Mairie | Bilan": "Il manque l'heure",
        "/reunion mercredi 12/11 14h | Mairie | Bilan": "Le 12/11/2026 est un jeudi",
        "/reunion demain 14h | Mairie": "séparés par « | »",
        "/reunion demain 14h |  | Bilan": "Indiquez le lieu",
        "/reunion demain 14h | " + "x" * 300 + " | Bilan": "Le lieu est trop long",
        "/reunion demain 14h | Mairie | Bilan | " + "y" * 5000: "L'ordre du jour est trop long",
        "/reunion chaque cinquième mardi du mois 14h | Mairie | Bilan": "Je ne comprends pas « cinquieme »",
    }
    for command, expected in cases.items():
        tg.say(chat, awa, command)
        await relais.settle()
        assert expected in last_text(relais, chat.id), command
        assert "Exemple : /reunion" in last_text(relais, chat.id), command  # every refusal shows the form
    assert await meetings_of(relais, chat.id) == []


async def test_non_admin_is_refused_every_facilitator_command(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, ONE_LINE)
    await relais.settle()
    before = [(m.number, m.starts_at, m.status) for m in await meetings_of(relais, chat.id)]
    for command in (
        "/reunion demain 14h | Mairie | Bilan",
        "/reunion",
        "/annuler 1",
        "/annuler",
        "/deplacer 1 vendredi 14h",
        "/deplacer",
        "/rappels 2h",
        "/rappels",
        "/serie",
        "/serie arreter 1",
        "/configurer X",
        "/animateur @julie_m",
    ):
        tg.say(chat, karim, command)
        await relais.settle()
        assert "Seule l'animation" in last_text(relais, chat.id), command
    assert [(m.number, m.starts_at, m.status) for m in await meetings_of(relais, chat.id)] == before
    assert (await load_group(relais, chat.id)).reminder_offsets is None


async def test_answers_update_counts_in_place_and_reasons_stay_private(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, ONE_LINE)
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(julie, announcement, "Je viens")
    tg.press(karim, announcement, "Peut-être")
    await relais.settle()
    assert "✅ 1 oui · ❌ 0 non · 🤔 1 peut-être" in announcement.text
    assert tg.last_callback_answer() == "C'est noté : peut-être."
    tg.press(karim, announcement, "Je ne peux pas")
    await relais.settle()
    assert "✅ 1 oui · ❌ 1 non · 🤔 0 peut-être" in announcement.text
    ask = tg.bot_messages(karim.id)[-1]
    assert "pourquoi" in ask.text and "Transport" in " ".join(ask.labels())
    tg.press(karim, ask, "Santé")
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        person = await load_person(relais, karim.id)
        rsvp = await session.scalar(select(Rsvp).where(Rsvp.person_id == person.id))
    assert rsvp.answer == "no" and rsvp.reason == "health"
    assert all("Santé" not in m.text for m in tg.bot_messages(chat.id))  # never in the group
    # Julie never started the bot: declining still works, nothing breaks on the private side.
    tg.press(julie, announcement, "Je ne peux pas")
    await relais.settle()
    assert "❌ 2 non" in announcement.text
    # Pressing the same answer again changes nothing and edits nothing.
    edits = announcement.edits
    tg.press(julie, announcement, "Je ne peux pas")
    await relais.settle()
    assert announcement.edits == edits


async def test_forged_and_stale_answer_buttons(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    other, other_admin = other_group(relais)
    tg.say(other, other_admin, "/reunion 13/11 14h | Ailleurs | Secret")
    tg.say(chat, awa, ONE_LINE)
    await relais.settle()
    [foreign] = await meetings_of(relais, other.id)
    announcement = tg.bot_messages(chat.id)[-1]
    for data in (
        f"rsvp:{foreign.id}:y",
        "rsvp:999999:y",
        f"why:{foreign.id}:health",
        f"att:{foreign.id}:ok",
        "rsvp:1:z",
        "ics:abc",
    ):
        tg.send_callback(karim, announcement, data)
        await relais.settle()
        assert tg.last_callback_answer() in ("Ce bouton n'est pas valable ici.", "Ce bouton n'est plus valable."), data
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Rsvp)) == 0
    # In private, a non-member cannot answer for a group they are not in.
    stranger = tg.user("Inconnu", "inconnu_x")
    tg.start_private(stranger)
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    tg.say(tg.private_chat(stranger), stranger, "/oublier")  # a message of his that has buttons
    await relais.settle()
    tg.send_callback(stranger, tg.bot_messages(stranger.id)[-1], f"rsvp:{meeting.id}:y")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton est pour les membres du groupe."
    # After the start, answers are closed.
    relais.clock.set(datetime(2026, 11, 12, 13, 5, tzinfo=UTC))
    tg.press(karim, announcement, "Je viens")
    await relais.settle()
    assert tg.last_callback_answer() == "Cette réunion est passée ou annulée."
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Rsvp)) == 0


async def test_calendar_file(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, ONE_LINE)
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "agenda")
    await relais.settle()
    document = tg.bot_messages(karim.id)[-1].document
    assert document.filename == "reunion-1.ics"
    event = Calendar.from_ical(document.content.decode()).walk("VEVENT")[0]
    assert event.get("dtstart").dt == datetime(2026, 11, 12, 13, 0, tzinfo=UTC)
    assert str(event.get("location")) == "Centre social Les Vennes, 3 rue X, Bourg"
    # Julie never started the bot: the button opens the private chat instead.
    tg.press(julie, announcement, "agenda")
    await relais.settle()
    assert julie.id not in tg.chats or not tg.bot_messages(julie.id)


async def test_next_and_list(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, "/prochaine")
    await relais.settle()
    assert "Aucune réunion prévue" in last_text(relais, chat.id)
    tg.say(chat, awa, ONE_LINE)
    tg.say(chat, awa, "/reunion 19/11 14h | Mairie | Transports")
    await relais.settle()
    tg.press(karim, tg.bot_messages(chat.id)[-3], "Je viens")  # the first announcement (each has its confirmation)
    tg.say(chat, karim, "/prochaine")
    await relais.settle()
    assert "Bilan des propositions" in last_text(
        relais, chat.id
    ) and "Karim, vous avez répondu : je viens." in last_text(relais, chat.id)
    tg.say(chat, karim, "/reunions")
    await relais.settle()
    text = last_text(relais, chat.id)
    assert "n°1 · jeu. 12 nov. 14h · Centre social" in text and "n°2 · jeu. 19 nov. 14h · Mairie" in text


async def test_cancel_tells_everyone_and_stops_reminders(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, ONE_LINE)
    await relais.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je viens")
    tg.say(chat, awa, "/annuler 7")
    await relais.settle()
    assert "Je ne trouve pas de réunion n°7" in last_text(relais, chat.id)
    tg.say(chat, awa, "/annuler")
    await relais.settle()
    picker = tg.bot_messages(chat.id)[-1]
    tg.press(karim, picker, "n°1")  # not a facilitator
    await relais.settle()
    assert tg.last_callback_answer() == "Réservé à l'animation du groupe."
    tg.press(awa, picker, "n°1")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.status == "cancelled"
    assert (
        "est annulée" in tg.bot_messages(chat.id)[-1].text
        and "ANNULÉE" in announcement.text
        and announcement.buttons() == []
    )
    assert "est annulée" in tg.bot_messages(karim.id)[-1].text
    assert {e.status for e in (await events_of(relais, meeting.id)).values()} == {"cancelled"}
    relais.clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    report = await relais.run_jobs()
    assert report.sent == 0
    tg.say(chat, awa, "/annuler 1")
    await relais.settle()
    assert "passée ou annulée" in last_text(relais, chat.id)


async def test_move_reschedules_and_tells(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, awa, ONE_LINE)
    await relais.settle()
    tg.press(karim, tg.bot_messages(chat.id)[-1], "Je viens")
    tg.say(chat, awa, "/deplacer 1 vendredi 20 novembre 15h30")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert (
        "déplacée" in tg.bot_messages(chat.id)[-1].text
        and "vendredi 20 novembre à 15h30" in tg.bot_messages(chat.id)[-1].text
    )
    assert "déplacée" in tg.bot_messages(karim.id)[-1].text
    events = await events_of(relais, meeting.id)
    assert events[("reminder", 1440)].due_at == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    # Guided: pick the meeting, then reply with the date; a bad date is explained.
    tg.say(chat, awa, "/deplacer")
    await relais.settle()
    tg.press(awa, tg.bot_messages(chat.id)[-1], "n°1")
    await relais.settle()
    ask = tg.bot_messages(chat.id)[-1]
    tg.reply(chat, awa, ask, "31/11 14h")
    await relais.settle()
    assert "Cette date n'existe pas" in last_text(relais, chat.id)
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "samedi 21/11 10h")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


async def test_reminder_settings(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, ONE_LINE)
    tg.say(chat, awa, "/rappels")
    await relais.settle()
    assert "7j 1j" in last_text(relais, chat.id)
    for bad, expected in (
        ("/rappels 0j", "Je ne comprends pas « 0j »"),
        ("/rappels 40j", "trop tôt"),
        ("/rappels 1j 2j 3j 4j 5j 6j", "5 rappels au plus"),
        ("/rappels demain", "Je ne comprends pas"),
    ):
        tg.say(chat, awa, bad)
        await relais.settle()
        assert expected in last_text(relais, chat.id), bad
    assert (await load_group(relais, chat.id)).reminder_offsets is None
    tg.say(chat, awa, "/rappels 2h 1j 7j")
    await relais.settle()
    assert "rappels 7j 1j 2h" in last_text(relais, chat.id) and "1 réunion" in last_text(relais, chat.id)
    [meeting] = await meetings_of(relais, chat.id)
    events = await events_of(relais, meeting.id)
    assert events[("reminder", 120)].due_at == datetime(2026, 11, 12, 11, 0, tzinfo=UTC)


async def test_series_monthly(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion chaque premier mardi du mois 14h | Centre social | Groupe ressources")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 3, 13, 0, tzinfo=UTC) and meeting.series_id is not None
    # When it starts, the next one is created and announced.
    relais.clock.set(datetime(2026, 11, 3, 13, 0, tzinfo=UTC))
    await relais.run_jobs()
    meetings = await meetings_of(relais, chat.id)
    assert [m.starts_at for m in meetings][-1] == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert "mardi 1 décembre à 14h" in tg.bot_messages(chat.id)[-1].text
    # Cancelling one occurrence announces the following one; stopping ends the series.
    tg.say(chat, awa, "/annuler 2")
    await relais.settle()
    meetings = await meetings_of(relais, chat.id)
    assert meetings[1].status == "cancelled" and meetings[2].starts_at == datetime(2027, 1, 5, 13, 0, tzinfo=UTC)
    tg.say(chat, awa, "/serie")
    await relais.settle()
    assert "Série" in last_text(relais, chat.id)
    series_id = meetings[0].series_id
    tg.say(chat, awa, f"/serie modifier {series_id} chaque dernier jeudi du mois 15h | Mairie | Groupe ressources")
    await relais.settle()
    meetings = await meetings_of(relais, chat.id)
    assert meetings[2].starts_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC) and meetings[2].place == "Mairie"
    for bad, expected in (
        (f"/serie modifier {series_id} n'importe quand | Mairie | X", "Je ne comprends pas la répétition"),
        ("/serie arreter 999", "Arrêter : /serie arreter 2"),
        ("/serie effacer 1", "Arrêter : /serie arreter 2"),
    ):
        tg.say(chat, awa, bad)
        await relais.settle()
        assert expected in last_text(relais, chat.id), bad
    assert (await meetings_of(relais, chat.id))[2].starts_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    tg.say(chat, awa, f"/serie arreter {series_id}")
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        assert not (await session.get(MeetingSeries, series_id)).active


async def test_a_series_with_an_end_says_so_and_stops(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion chaque premier mardi du mois 14h jusqu'en décembre | Centre social | Point du mois")
    await relais.settle()
    assert "🔁 La série continue jusqu'au jeudi 31 décembre 2026." in tg.bot_messages(chat.id)[-1].text
    relais.clock.set(datetime(2026, 11, 3, 13, 0, tzinfo=UTC))
    await relais.run_jobs()
    assert [m.starts_at for m in await meetings_of(relais, chat.id)][-1] == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    relais.clock.set(datetime(2026, 12, 1, 13, 0, tzinfo=UTC))
    await relais.run_jobs()
    assert len(await meetings_of(relais, chat.id)) == 2  # January is after its last day: no third


async def test_a_series_of_a_number_of_meetings(relais):
    chat, awa, _ = await group_with_bot(relais, title="Comité")
    tg = relais.tg
    tg.say(chat, awa, "/reunion tous les mardis 10h 2 fois | Mairie | Atelier")
    await relais.settle()
    assert "🔁 Réunion 1 sur 2 de la série." in tg.bot_messages(chat.id)[-1].text
    relais.clock.set(datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    second = next(m for m in reversed(tg.bot_messages(chat.id)) if "Prochaine réunion" in (m.text or ""))
    assert "🔁 Réunion 2 sur 2 de la série." in second.text and "mardi 10 novembre" in second.text
    relais.clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    assert len(await meetings_of(relais, chat.id)) == 2
    tg.say(chat, awa, "/reunion tous les mardis 10h 99 fois | Mairie | Atelier")
    await relais.settle()
    assert "Une série compte de 1 à 52 réunions." in last_text(relais, chat.id)
