"""End to end: membership over time. Newcomers are greeted in one group line; someone who leaves
is thanked in the group (never told why) and in private with the group's real figures, their
attestation on one tap and the department's other groups; terms warn the facilitators and ask the
member a month ahead, and the facilitators decide; /membres lists everyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from bot.simulator.harness import Harness
from bot.ui import callbacks as cb
from tests.support.helpers import group_with_bot, last_text, load_membership, other_group, pdf_text


def texts(h: Harness, chat_id: int) -> list[str]:
    return [message.text or "" for message in h.tg.bot_messages(chat_id)]


async def test_newcomers_share_one_welcome_line_and_a_member_who_comes_back_keeps_the_start_date(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    tg = relais.tg
    relais.clock.advance(timedelta(days=1))  # the group's first day is over: nobody greeted then
    await relais.run_jobs()
    assert not any("Bienvenue à" in text for text in texts(relais, chat.id))
    nadia, omar, lea = tg.user("Nadia", "nadia_m"), tg.user("Omar", "omar_m"), tg.user("Léa", "lea_m")
    tg.start_private(nadia)
    for person in (nadia, omar, lea):
        tg.join(chat, person)
    await relais.settle()
    assert texts(relais, nadia.id)[-1].startswith("👋 Bienvenue dans le groupe « Groupe ressources Oyonnax » !")
    relais.clock.advance(timedelta(minutes=1))
    await relais.run_jobs()
    lines = [m for m in tg.bot_messages(chat.id) if "Bienvenue à" in (m.text or "")]
    assert [m.text for m in lines] == ["👋 Bienvenue à Léa, Nadia et Omar dans le groupe !"]  # one line for three
    assert lines[0].labels() == ["👋 Découvrir le groupe"]
    tg.press(omar, lines[0], "Découvrir")  # opens the private chat: the group's card
    await relais.settle()
    assert texts(relais, omar.id)[-1].startswith("👋 Bienvenue dans le groupe « Groupe ressources Oyonnax » !")
    # Karim leaves the same day he was added: no thanks in the group, nor in private.
    started = (await load_membership(relais, chat.id, karim.id)).joined_at
    tg.start_private(karim)
    await relais.settle()
    tg.leave(chat, karim)
    await relais.settle()
    relais.clock.advance(timedelta(minutes=2))
    await relais.run_jobs()
    assert not any("quitte" in text for text in texts(relais, chat.id))
    assert not any(text.startswith("🙏") for text in texts(relais, karim.id))
    # He comes back a month later: welcomed back, one membership, his start date kept.
    relais.clock.advance(timedelta(days=30))
    tg.join(chat, karim)
    await relais.settle()
    relais.clock.advance(timedelta(minutes=1))
    await relais.run_jobs()
    assert texts(relais, chat.id)[-1] == "👋 Bienvenue à Karim dans le groupe !"
    membership = await load_membership(relais, chat.id, karim.id)
    assert membership.status == "member" and membership.joined_at == started
    assert membership.returned_at == relais.clock.now() - timedelta(minutes=1)


async def test_a_member_who_leaves_is_thanked_with_the_groups_figures_and_gets_the_attestation(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais, members=2)
    tg = relais.tg
    for person in (awa, karim, julie):
        tg.start_private(person)
    # A coordinator offers two other groups to whoever leaves.
    coordinator = tg.user("Claire", "claire_cd")
    relais.services.settings.dashboard.coordinators.append(coordinator.id)
    relais.services.settings.membership.other_groups_contact = "appelez le 04 74 00 00 00."
    second, _ = other_group(relais)
    third = tg.group("Comité Bourg", creator=coordinator)
    tg.add_bot(third, coordinator)
    await relais.settle()
    tg.say(third, coordinator, "/presentation")
    await relais.settle()
    tg.reply(third, coordinator, tg.bot_messages(third.id)[-1], "Nous faisons des propositions au Département.")
    await relais.settle()
    tg.reply(third, coordinator, tg.bot_messages(third.id)[-1], "Le 1er lundi du mois, à la mairie.")
    await relais.settle()
    tg.say(tg.private_chat(julie), julie, "/groupes")
    await relais.settle()
    assert last_text(relais, julie.id) == "Seules les personnes qui coordonnent le département choisissent ces groupes."
    tg.start_private(coordinator)
    tg.say(tg.private_chat(coordinator), coordinator, "/groupes")
    await relais.settle()
    chooser = tg.bot_messages(coordinator.id)[-1]
    assert chooser.labels() == ["➕ Autre groupe", "➕ Comité Bourg", "➕ Groupe ressources Oyonnax"]
    tg.press(coordinator, chooser, "Autre groupe")
    await relais.settle()
    tg.press(coordinator, chooser, "Comité Bourg")
    await relais.settle()
    assert chooser.labels() == ["✅ Autre groupe", "✅ Comité Bourg", "➕ Groupe ressources Oyonnax"]
    tg.send_callback(julie, chooser, cb.ListedGroup(1).encode())  # not a coordinator: nothing changes
    await relais.settle()
    assert tg.last_callback_answer() == "Seules les personnes qui coordonnent le département choisissent ces groupes."
    # Two meetings (Karim comes to one) and three proposals, one carried and accepted.
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    tg.press(karim, tg.bot_messages(chat.id)[-1], "Je viens")
    tg.say(chat, awa, "/reunion 10/12 14h | Centre social | Suite")
    tg.say(chat, karim, "/proposition Des bus le samedi")
    tg.say(chat, karim, "/proposition Une garderie")
    tg.say(chat, julie, "/proposition Un lieu pour les enfants")
    await relais.settle()
    tg.say(chat, awa, "/suivi 1 transmise Commission insertion")
    await relais.settle()
    tg.say(chat, awa, "/suivi 1 acceptée")
    await relais.settle()
    relais.clock.set(datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    tg.leave(chat, karim)
    await relais.settle()
    await relais.run_jobs()
    thanks = next(m for m in reversed(tg.bot_messages(karim.id)) if (m.text or "").startswith("🙏"))
    assert thanks.text.splitlines() == [
        "🙏 Merci Karim pour votre participation au groupe « Groupe ressources Oyonnax » !",
        "Du 2 novembre 2026 au 15 décembre 2026, avec vous :",
        "• 2 réunions du groupe, dont 1 avec vous",
        "• 3 propositions faites par le groupe",
        "• 1 transmise au Département",
        "• 1 acceptée ou déjà en place",
        "",
        "Votre attestation de participation est prête : touchez le bouton.",
        "",
        "D'autres groupes vous accueillent :",
        "• Autre groupe",
        "• Comité Bourg : Le 1er lundi du mois, à la mairie.",
        "Pour en rejoindre un : appelez le 04 74 00 00 00.",
        "Bonne continuation !",
    ]
    assert thanks.labels() == ["📄 Mon attestation"]
    # The group is told in one neutral line, a minute later: never why.
    relais.clock.advance(timedelta(minutes=1))
    await relais.run_jobs()
    assert texts(relais, chat.id)[-1] == "Karim quitte le groupe. Merci pour sa participation !"
    assert thanks.text not in texts(relais, chat.id)
    # The attestation, on one tap, for the group he left.
    tg.press(karim, thanks, "Mon attestation")
    await relais.settle()
    assert last_text(relais, karim.id).startswith(
        "📄 Votre attestation de participation au groupe « Groupe ressources Oyonnax » : quel nom"
    )
    # A name in letters the attestation cannot print is asked again, never printed as blanks.
    tg.say(tg.private_chat(karim), karim, "卡里姆 Benali")
    await relais.settle()
    assert last_text(relais, karim.id).startswith("L'attestation ne sait pas imprimer certaines lettres")
    tg.say(tg.private_chat(karim), karim, "Karim Benali")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui")
    await relais.settle()
    document = tg.bot_messages(karim.id)[-1].document
    assert document is not None and document.filename == "attestation-20261215.pdf"
    assert "Karim Benali a participé au groupe « Groupe ressources Oyonnax »" in pdf_text(document)
    # Someone else's thank-you button, forged: refused.
    tg.send_callback(julie, thanks, cb.ExitAttestation(999).encode())
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est pas valable ici."
    # Leaving twice (a chat_member update after the service message) thanks once.
    assert sum(text.startswith("🙏") for text in texts(relais, karim.id)) == 1


async def test_a_term_ending_warns_the_facilitators_asks_the_member_and_the_facilitators_decide(database_url):
    overrides = {"membership": {"term_months": 24}}
    async with Harness(database_url, clock=FakeClock(), overrides=overrides) as h:
        chat, awa, (karim, julie, sami) = await group_with_bot(h, members=3)
        tg = h.tg
        for person in (awa, karim, julie):
            tg.start_private(person)
        await h.settle()
        membership = await load_membership(h, chat.id, karim.id)
        assert membership.term_ends_at == datetime(2028, 11, 2, 9, 0, tzinfo=UTC)
        # A month before: Karim and Julie are asked, Awa is told (Sami cannot be written to).
        h.clock.set(datetime(2028, 10, 3, 9, 0, tzinfo=UTC))
        await h.run_jobs()
        asked = tg.bot_messages(karim.id)[-1]
        assert asked.text == (
            "⏳ Votre mandat dans le groupe « Groupe ressources Oyonnax » se termine le 2 novembre 2028. "
            "Voulez-vous continuer ? L'animation décidera avec vous."
        )
        assert asked.labels() == ["🙋 Je veux continuer", "👋 Je préfère arrêter"]
        warnings = {m.text.split("\n")[0]: m for m in tg.bot_messages(awa.id) if (m.text or "").startswith("⏳")}
        assert set(warnings) == {
            f"⏳ Le mandat de {name} dans « Groupe ressources Oyonnax » se termine le 2 novembre 2028. "
            f"{name} est membre depuis le 2 novembre 2026."
            for name in ("Karim", "Julie", "Sami")
        }
        about_sami = next(m for first, m in warnings.items() if "de Sami" in first)
        assert "Relais ne peut pas écrire à Sami en privé : demandez-lui de vive voix." in about_sami.text
        about_karim = next(m for first, m in warnings.items() if "de Karim" in first)
        assert about_karim.labels() == ["🔁 Prolonger le mandat", "👋 Laisser finir"]
        # A forged wish for Karim pressed by Julie counts for nobody; a member cannot decide.
        tg.send_callback(julie, asked, asked.buttons()[0]["callback_data"])
        await h.settle()
        assert tg.last_callback_answer() == "Ce bouton n'est pas valable ici."
        tg.send_callback(karim, asked, about_karim.buttons()[0]["callback_data"])
        await h.settle()
        assert tg.last_callback_answer() == "Seule l'animation du groupe décide des mandats."
        assert (await load_membership(h, chat.id, julie.id)).stay_wish is None
        tg.press(karim, asked, "Je veux continuer")
        await h.settle()
        assert asked.text == "Merci, c'est noté : vous voulez continuer. L'animation vous répondra."
        wish = last_text(h, awa.id)
        assert (
            wish
            == "🙋 Karim veut continuer dans « Groupe ressources Oyonnax ». Son mandat se termine le 2 novembre 2028."
        )
        tg.press(awa, tg.bot_messages(awa.id)[-1], "Prolonger")
        await h.settle()
        assert tg.bot_messages(awa.id)[-1].text == (
            "🔁 Le mandat de Karim est prolongé jusqu'au 2 novembre 2030. Relais l'a dit à Karim."
        )
        assert last_text(h, karim.id).startswith("🔁 Votre mandat dans le groupe « Groupe ressources Oyonnax »")
        tg.press(awa, about_karim, "Laisser finir")  # the old warning: the term has changed since
        await h.settle()
        assert tg.last_callback_answer() == "Ce mandat a déjà changé : ce bouton ne sert plus."
        # Julie's term is let end: she is thanked on the day, Awa is told and may still prolong.
        about_julie = next(m for first, m in warnings.items() if "de Julie" in first)
        tg.press(awa, about_julie, "Laisser finir")
        await h.settle()
        assert about_julie.text.startswith("👋 D'accord : le mandat de Julie se termine le 2 novembre 2028.")
        h.clock.set(datetime(2028, 11, 2, 9, 5, tzinfo=UTC))
        await h.run_jobs()
        assert last_text(h, julie.id).startswith("🙏 Merci Julie pour votre participation")
        ended = next(m for m in tg.bot_messages(awa.id) if (m.text or "").startswith("⌛ Le mandat de Julie"))
        assert ended.text.startswith("⌛ Le mandat de Julie dans « Groupe ressources Oyonnax » est terminé")
        assert ended.labels() == ["🔁 Prolonger le mandat"]
        assert not any(text.startswith("🙏") for text in texts(h, karim.id))  # prolonged: not thanked
        # /membres: start date, term, attendance, reach.
        tg.say(chat, awa, "/membres")
        await h.settle()
        assert last_text(h, chat.id) == "👥 Je vous ai envoyé la liste des membres en privé."
        roster = last_text(h, awa.id)
        assert roster.startswith("👥 4 membres dans « Groupe ressources Oyonnax » (réunions : les 6 derniers mois) :")
        assert (
            "• Julie @julie_m : depuis le 2 novembre 2026 · mandat terminé le 2 novembre 2028"
            " · réunions : 0 sur 0 · ✅ joignable en privé"
        ) in roster
        assert "• Karim @karim_m : depuis le 2 novembre 2026 · mandat jusqu'au 2 novembre 2030" in roster
        assert "• Sami @sami_m : depuis le 2 novembre 2026 · mandat terminé le 2 novembre 2028" in roster
        assert "• Awa @awa_anim : depuis le 2 novembre 2026 · réunions" in roster  # administrators have no term
        assert not any(text.startswith(("⏳", "🙏")) for text in texts(h, awa.id) if "Votre" in text)
        assert "· 📵 n'a jamais ouvert la conversation" in roster
        tg.say(chat, karim, "/membres")
        await h.settle()
        assert last_text(h, chat.id) == "Seule l'animation du groupe peut faire cela."
