"""End to end: /bilan, the group's report for a period, in private to the facilitator who asks,
with its tables as CSV files that parse back (UTF-8 with a BOM, `;`)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from tests.e2e.test_reminders import private_texts, setup_meeting
from tests.support.helpers import last_text, pdf_text


def parse(document) -> list[list[str]]:
    assert document.content.startswith("\ufeff".encode()), "no byte-order mark: spreadsheets would misread accents"
    return list(csv.reader(io.StringIO(document.content.decode("utf-8-sig")), delimiter=";"))


async def held_meeting(h):
    """setup_meeting's group (Awa, Karim comes, Julie silent, Sami cannot, Lina never started), the
    meeting held, Karim and Julie ticked present; a proposal transmitted then accepted."""
    chat, awa, karim, julie, sami, lina = await setup_meeting(h)
    tg = h.tg
    tg.start_private(awa)
    tg.say(chat, karim, "/proposition Des bus le samedi")
    tg.say(chat, julie, "/proposition Un local")
    await h.settle()
    tg.say(chat, awa, "/suivi 1 transmise Commission insertion")
    await h.settle()
    tg.say(chat, awa, "/suivi 1 acceptée")
    tg.say(chat, awa, "/suivi 2 transmise Élus")
    await h.settle()
    h.clock.set(datetime(2026, 11, 12, 15, 0, tzinfo=UTC))
    await h.run_jobs()
    checklist = tg.bot_messages(awa.id)[-1]
    tg.press(awa, checklist, "Julie")
    await h.settle()
    tg.press(awa, checklist, "Enregistrer")
    await h.settle()
    h.clock.set(datetime(2026, 11, 13, 9, 0, tzinfo=UTC))  # the next day: "… vous a été utile ?" in private
    await h.run_jobs()
    for person, answer in ((karim, "Oui, très"), (julie, "Un peu")):
        asked = next(m for m in reversed(tg.bot_messages(person.id)) if (m.text or "").startswith("⭐"))
        tg.press(person, asked, answer)
    await h.settle()
    return chat, awa, karim, julie, sami, lina


async def test_the_report_of_the_last_three_months_with_its_tables(relais):
    chat, awa, karim, *_ = await held_meeting(relais)
    tg = relais.tg
    tg.say(chat, awa, "/bilan")
    await relais.settle()
    assert "Je vous ai envoyé le bilan en privé" in last_text(relais, chat.id)
    texts = private_texts(relais, awa)
    report = next(text for text in texts if text.startswith("📊 Bilan du groupe"))
    assert "Du 13 août 2026 au 13 novembre 2026" in report
    assert "1 réunion tenue · taux de présence : 40 %" in report
    assert "— membres : 5 · « je viens » : 1 · présents : 2 (40 %)" in report
    assert "utile ? 👍 Oui, très 1 · 🙂 Un peu 1 · 👎 Pas vraiment 0" in report  # the counts Telegram reported
    assert "2 propositions faites · prises en compte : 50 % des transmises" in report
    assert "n°1 « Des bus le samedi » : acceptée" in report and "n°2 « Un local » : transmise" in report
    assert "Contributions du groupe — propositions : 2 · votes : 0 · actions réalisées : 0" in report
    assert "Karim" not in report and "Julie" not in report  # counts for the group, nobody named
    [chart] = [m for m in tg.bot_messages(awa.id) if m.photo is not None]
    assert chart.photo_size == (960, 720) and 10_000 < len(chart.photo.content) < 300_000  # a phone's worth
    files = {m.document.filename: m.document for m in tg.bot_messages(awa.id) if m.document is not None}
    assert set(files) == {f"bilan-{n}-20260813-20261113.csv" for n in ("reunions", "presences", "propositions")}
    meetings = parse(files["bilan-reunions-20260813-20261113.csv"])
    assert meetings[0][:3] == ["Numéro", "Date", "Sujet"] and meetings[1] == [
        "1",
        "12/11/2026 14:00",
        "Bilan",
        "5",
        "1",
        "2",
        "40",
        "👍 Oui, très : 1 / 🙂 Un peu : 1 / 👎 Pas vraiment : 0",
    ]
    sheet = parse(files["bilan-presences-20260813-20261113.csv"])
    assert ["1", "12/11/2026 14:00", "Julie", "présent"] in sheet and [
        "1",
        "12/11/2026 14:00",
        "Sami",
        "absent",
    ] in sheet
    proposals = parse(files["bilan-propositions-20260813-20261113.csv"])
    assert [row[:4] for row in proposals[1:]] == [
        ["1", "Des bus le samedi", "acceptée", ""],
        ["2", "Un local", "transmise", "Élus"],
    ]


async def test_a_period_a_bad_period_and_a_participant(relais):
    chat, awa, karim, *_ = await held_meeting(relais)
    tg = relais.tg
    tg.say(chat, awa, "/bilan septembre")
    await relais.settle()
    report = next(t for t in reversed(private_texts(relais, awa)) if t.startswith("📊"))
    assert "Du 1 septembre 2026 au 30 septembre 2026" in report and "0 réunion tenue" in report
    assert "taux de présence : non noté" in report
    assert not [m for m in tg.bot_messages(awa.id) if m.photo is not None]  # no meeting: no chart
    before = len(private_texts(relais, awa))
    tg.say(chat, awa, "/bilan la semaine des quatre jeudis")
    await relais.settle()
    assert "Je ne comprends pas cette période" in last_text(relais, chat.id)
    assert len(private_texts(relais, awa)) == before  # nothing sent
    tg.say(chat, karim, "/bilan")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    assert len(private_texts(relais, awa)) == before


async def test_an_attestation_asked_by_the_facilitator_names_the_person_as_they_write_it(relais):
    chat, awa, karim, julie, sami, lina = await held_meeting(relais)
    tg = relais.tg
    tg.say(chat, awa, "/attestation @julie_m")
    await relais.settle()
    assert "J'ai demandé à Julie, en privé, le nom" in last_text(relais, chat.id)
    assert "quel nom faut-il écrire" in last_text(relais, julie.id)
    tg.say(tg.private_chat(julie), julie, "x")  # too short: asked again, nothing printed
    await relais.settle()
    assert "Écrivez un nom de 2 à 80 lettres" in last_text(relais, julie.id)
    tg.say(tg.private_chat(julie), julie, "Julie Martin-Œuvray")
    await relais.settle()
    confirm = tg.bot_messages(julie.id)[-1]
    assert confirm.text == "Écrire « Julie Martin-Œuvray » sur l'attestation ?"
    tg.press(julie, confirm, "Corriger")
    await relais.settle()
    tg.say(tg.private_chat(julie), julie, "Julie Martin")
    await relais.settle()
    tg.press(julie, tg.bot_messages(julie.id)[-1], "Oui")
    await relais.settle()
    hers, awas = tg.bot_messages(julie.id)[-1].document, tg.bot_messages(awa.id)[-1].document
    assert hers is not None and awas is not None and hers.filename == awas.filename == "attestation-20261113.pdf"
    text = pdf_text(hers)
    assert "Attestation de participation" in text
    assert "Julie Martin a participé au groupe « Groupe ressources Oyonnax »" in text
    assert "1 réunion suivie" in text and "12 novembre 2026 : Bilan" in text
    assert "le groupe a porté 2 propositions" in text and "signature et cachet" in text
    assert "Œuvray" not in text  # the corrected name only


async def test_a_member_asks_for_their_own_and_a_participant_cannot_ask_for_another(relais):
    chat, awa, karim, julie, sami, lina = await held_meeting(relais)
    tg = relais.tg
    tg.say(chat, karim, "/attestation @julie_m")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    assert "quel nom" not in last_text(relais, julie.id)
    tg.say(tg.private_chat(karim), karim, "/attestation")
    await relais.settle()
    tg.say(tg.private_chat(karim), karim, "Karim Benali")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui")
    await relais.settle()
    text = pdf_text(tg.bot_messages(karim.id)[-1].document)
    assert "Karim Benali a participé" in text and "12 novembre 2026 : Bilan" in text
    tg.say(chat, awa, "/attestation @lina_m")  # never started the bot: she cannot be asked
    await relais.settle()
    assert "Lina n'a pas encore ouvert de conversation privée" in last_text(relais, chat.id)
    tg.say(chat, awa, "/attestation")
    await relais.settle()
    assert "Pour qui ?" in last_text(relais, chat.id)


async def test_a_member_sees_their_own_attendance_with_one_tap(relais):
    chat, awa, karim, julie, sami, lina = await held_meeting(relais)
    tg = relais.tg
    for person in (karim, sami):
        tg.say(tg.private_chat(person), person, "/mesdonnees")
        await relais.settle()
        summary = tg.bot_messages(person.id)[-2]
        tg.press(person, summary, "Mes présences")
        await relais.settle()
    karims, samis = last_text(relais, karim.id), last_text(relais, sami.id)
    assert karims.startswith("📋 Vos présences") and "✅ jeu. 12 nov. 14h · Bilan (Groupe ressources Oyonnax)" in karims
    assert "▫️ jeu. 12 nov. 14h · Bilan (Groupe ressources Oyonnax) : absence notée" in samis
    assert "Sami" not in karims and "Karim" not in samis  # one's own lines only


async def test_the_chart_is_drawn_outside_the_update_and_once_for_the_same_figures(relais, monkeypatch):
    """/bilan's chart is drawn after its update has committed: SQLite's one writer turn is free
    meanwhile (another update may take it). /bilan again with the same figures: no drawing, the
    same PNG; the dashboard's chart of them too. A changed sheet is another chart."""
    from bot.ui import charts

    chat, awa, karim, *_ = await held_meeting(relais)
    svc = relais.services
    drawn: list[bool] = []  # for each drawing: whether an update held the writer turn then
    real = charts.draw

    def watched(inputs):
        drawn.append(svc._writer.locked() if svc.engine.dialect.name == "sqlite" else False)
        return real(inputs)

    monkeypatch.setattr(charts, "draw", watched)
    monkeypatch.setattr(charts, "CHARTS", charts.ChartCache())
    relais.tg.say(chat, awa, "/bilan")
    await relais.settle()
    relais.tg.say(chat, awa, "/bilan")
    await relais.settle()
    photos = [m.photo.content for m in relais.tg.bot_messages(awa.id) if m.photo is not None]
    assert len(photos) == 2 and photos[0] == photos[1]
    assert drawn == [False]  # once, and with the writer turn free
    assert charts.CHARTS.hits == 1 and charts.CHARTS.misses == 1
