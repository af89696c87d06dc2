"""End to end: costs (défraiement). A member who came claims a receipt (amount, category, photo)
or the group's flat allowance; facilitators refund or refuse with a reason and the member is told;
/bilan totals them and exports them as CSV; old claims are erased; bad input changes nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from bot.clock import FakeClock
from bot.simulator.harness import Harness
from bot.ui import callbacks as cb
from storage.models import CostClaim
from tests.conftest import assert_telegram_happy
from tests.support.helpers import group_with_bot, last_text, meetings_of

NEXT_DAY = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)


async def claims(h) -> list[CostClaim]:
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(CostClaim).order_by(CostClaim.id)))


async def came_yesterday(h):
    chat, awa, (karim, julie, sami) = await group_with_bot(h, members=3)
    tg = h.tg
    for person in (awa, karim, julie, sami):
        tg.start_private(person)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je viens")
    tg.press(julie, announcement, "Je viens")
    await h.settle()
    h.clock.set(NEXT_DAY)
    await h.run_jobs()
    evaluation = next(m for m in reversed(tg.bot_messages(karim.id)) if (m.text or "").startswith("⭐"))
    return chat, awa, karim, julie, sami, announcement, evaluation


async def test_a_receipt_claimed_refunded_and_exported(relais):
    chat, awa, karim, julie, sami, announcement, evaluation = await came_yesterday(relais)
    tg = relais.tg
    assert "🧾 Mes frais" in evaluation.labels()
    tg.press(karim, evaluation, "Mes frais")
    await relais.settle()
    asked = tg.bot_messages(karim.id)[-1]
    assert asked.text.startswith("🧾 Vos frais pour la réunion du jeudi 12 novembre à 14h (Centre social)")
    assert asked.labels() == ["🚌 Transport", "⛽ Essence", "🧸 Garde d'enfants", "🍽 Repas", "Autre"]  # no allowance
    tg.press(karim, asked, "Transport")
    await relais.settle()
    private = tg.private_chat(karim)
    for typed, answer in (
        ("-3", "Le montant doit être plus grand que zéro."),
        ("trois euros", "Écrivez un montant en euros, par exemple 3,40."),
        ("9000", "C'est plus que le plus haut montant d'une demande (300,00 €). Vérifiez le montant."),
    ):
        tg.say(private, karim, typed)
        await relais.settle()
        assert last_text(relais, karim.id) == answer, typed
    tg.say(private, karim, "3,40 €")
    await relais.settle()
    assert last_text(relais, karim.id).startswith("📷 Envoyez maintenant la photo du justificatif")
    tg.say(private, karim, "le voici")
    await relais.settle()
    assert last_text(relais, karim.id).startswith("Il me faut la photo du justificatif")
    tg.send_photo(private, karim, "ticket-bus.jpg")
    await relais.settle()
    assert last_text(relais, karim.id).startswith("✅ Demande enregistrée : 3,40 € (🚌 transport)")
    notice, receipt = tg.bot_messages(awa.id)[-2:]
    assert notice.text.startswith("🧾 Demande n°1 de Karim : 3,40 € (🚌 transport) pour la réunion du jeudi 12")
    assert notice.labels() == ["✅ Remboursé", "✖️ Refusé"] and receipt.photo is not None
    # Julie is a member, not a facilitator; Sami did not come.
    tg.press(julie, notice, "Remboursé")
    await relais.settle()
    assert tg.last_callback_answer() == "Réservé à l'animation du groupe."
    [meeting] = await meetings_of(relais, chat.id)
    tg.send_callback(sami, announcement, cb.CostCategory(meeting.id, "fuel").encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Les frais se demandent pour une réunion où vous étiez."
    tg.press(awa, notice, "Remboursé")
    await relais.settle()
    assert notice.text == "✅ Demande n°1 marquée remboursée. La personne est prévenue."
    assert last_text(relais, karim.id).startswith("🧾 Votre demande de 3,40 € pour la réunion du jeudi 12 novembre")
    [claim] = await claims(relais)
    assert (claim.status, claim.amount_cents, claim.category) == ("refunded", 340, "transport")
    assert claim.file_id and claim.file_id.startswith("photo")  # the receipt: Telegram's file id only
    # /bilan: the totals, and the CSV for the accounting.
    relais.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    tg.say(chat, awa, "/bilan")
    await relais.settle()
    report = next(m for m in reversed(tg.bot_messages(awa.id)) if "Bilan du groupe" in (m.text or ""))
    assert "🧾 Frais — demandes : 1 · remboursé : 3,40 € · en attente : 0,00 € · refusées : 0" in report.text
    document = next(m for m in tg.bot_messages(awa.id) if m.document and "frais" in m.document.filename)
    content = bytes(document.document.content)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Réunion", "Date", "Membre", "Catégorie", "Montant (€)"]
    assert rows[1][2:6] == ["Karim", "🚌 Transport", "3,40", "remboursé"]
    # Thirteen months on, the claim and its receipt's id are erased.
    relais.clock.set(datetime(2027, 12, 20, 9, 0, tzinfo=UTC))
    assert (await relais.housekeep())["cost_claims"] == 1  # the hourly housekeeping job
    assert await claims(relais) == []


async def test_a_flat_allowance_from_the_attendance_refused_with_a_reason(database_url):
    overrides = {"costs": {"allowance_per_half_day": 15}}
    async with Harness(database_url, clock=FakeClock(), overrides=overrides) as h:
        chat, awa, karim, julie, sami, announcement, evaluation = await came_yesterday(h)
        tg = h.tg
        tg.press(karim, evaluation, "Mes frais")
        await h.settle()
        asked = tg.bot_messages(karim.id)[-1]
        assert asked.labels()[0] == "💶 Indemnité de participation : 15,00 €"
        tg.press(karim, asked, "Indemnité")
        await h.settle()
        assert asked.text.startswith("✅ Demande enregistrée : 15,00 € (💶 indemnité)")
        tg.press(karim, evaluation, "Mes frais")
        await h.settle()
        tg.press(karim, tg.bot_messages(karim.id)[-1], "Indemnité")
        await h.settle()
        assert tg.last_callback_answer() == "L'indemnité de cette réunion est déjà demandée."
        notice = next(m for m in reversed(tg.bot_messages(awa.id)) if m.text.startswith("🧾 Demande n°1"))
        tg.press(awa, notice, "Refusé")
        await h.settle()
        assert last_text(h, awa.id) == "Pourquoi refuser la demande n°1 ? La personne lira la raison."
        tg.say(tg.private_chat(awa), awa, "Déjà versée par le CCAS")
        await h.settle()
        assert last_text(h, awa.id) == "✖️ Demande n°1 refusée. La personne est prévenue, avec la raison."
        assert last_text(h, karim.id).endswith("est refusée. La raison : Déjà versée par le CCAS.")
        [claim] = await claims(h)
        assert (claim.status, claim.amount_cents, claim.category) == ("refused", 1500, "allowance")
        tg.press(awa, notice, "Remboursé")  # already decided: nothing changes
        await h.settle()
        assert tg.last_callback_answer() == "Cette demande est déjà traitée."
        # /frais in the group: the pending claims, in private (none left).
        tg.say(chat, awa, "/frais")
        await h.settle()
        assert last_text(h, awa.id).startswith("🧾 Aucune demande de frais en attente")
        await h.settle()
        assert_telegram_happy(h)
