"""End to end through the fake Telegram: the bot in a group, set-up, facilitators, members."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from bot.domain.deeplinks import parse_group_payload
from bot.outbox.after_commit import collect, stop_collecting
from bot.outbox.sending import to_group
from storage.models import Group
from tests.support.helpers import group_with_bot, last_text, load_group, load_membership, load_person


async def test_added_to_group_greets_and_offers_private_reminders(relais):
    chat, awa, _ = await group_with_bot(relais, members=0)
    group = await load_group(relais, chat.id)
    assert group is not None and group.active and group.timezone == "Europe/Paris" and group.language == "fr"
    greeting = relais.tg.bot_messages(chat.id)[0]
    assert "Je suis Relais" in greeting.text and "/configurer" not in greeting.text
    assert len(greeting.text.split()) <= 40  # a few plain sentences, not a manual
    # The set-up goes apart, to the facilitators (Awa never started the bot: in the group, after).
    setup = relais.tg.bot_messages(chat.id)[1].text
    assert setup.startswith("Pour l'animation du groupe") and "/configurer" in setup
    for word in ("RSA", "allocataire", "bénéficiaire", "usager"):
        assert word.lower() not in greeting.text.lower()
    member, button, propose = greeting.buttons()
    assert member["text"] == "👋 Je suis membre du groupe" and "callback_data" in member
    assert propose["text"] == "💡 Faire une proposition" and "start=p" in propose["url"]
    url = urlparse(button["url"])
    assert url.netloc == "t.me" and url.path == "/relais_test_bot"
    payload = parse_qs(url.query)["start"][0]
    assert len(payload) <= 64 and parse_group_payload(relais.services.link_secret, payload) == group.id
    # The admin who added the bot is a recorded member.
    assert (await load_membership(relais, chat.id, awa.id)).status == "member"


async def test_guided_setup_by_admin(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/configurer")
    await relais.settle()
    ask = tg.bot_messages(chat.id)[-1]
    assert "Quel nom" in ask.text
    tg.reply(chat, awa, ask, "  Groupe   ressources Bourg  ")
    await relais.settle()
    zones = tg.bot_messages(chat.id)[-1]
    assert "Réunion" in " ".join(zones.labels())
    tg.press(awa, zones, "La Réunion")
    await relais.settle()
    summary = tg.bot_messages(chat.id)[-1]
    assert "Groupe ressources Bourg" in summary.text and "J'enregistre" in summary.text
    tg.press(awa, summary, "Enregistrer")
    await relais.settle()
    assert "C'est enregistré" in last_text(relais, chat.id)
    group = await load_group(relais, chat.id)
    assert group.name == "Groupe ressources Bourg" and group.timezone == "Indian/Reunion"


async def test_setup_one_line_and_bad_values(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/configurer Groupe Oyonnax | Europe/Lune")
    await relais.settle()
    assert "Je ne connais pas le fuseau horaire « Europe/Lune »" in last_text(relais, chat.id)
    assert "Exemple" in last_text(relais, chat.id)
    tg.say(chat, awa, "/configurer " + "x" * 200)
    await relais.settle()
    assert "trop long" in last_text(relais, chat.id)
    group = await load_group(relais, chat.id)
    assert group.name is None and group.timezone == "Europe/Paris"
    tg.say(chat, awa, "/configurer Groupe <Oyonnax> & co | America/Cayenne")
    await relais.settle()
    assert "« Groupe <Oyonnax> & co »" in last_text(relais, chat.id)  # escaped for HTML, shown as typed
    group = await load_group(relais, chat.id)
    assert group.name == "Groupe <Oyonnax> & co" and group.timezone == "America/Cayenne"


async def test_setup_refused_for_non_admin_and_buttons_are_personal(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, "/configurer Groupe pirate | Europe/Paris")
    await relais.settle()
    assert "Seule l'animation" in last_text(relais, chat.id)
    assert (await load_group(relais, chat.id)).name is None
    # Awa starts the dialogue; Karim taps her buttons: refused, nothing changes.
    tg.say(chat, awa, "/configurer")
    await relais.settle()
    tg.reply(chat, awa, tg.bot_messages(chat.id)[-1], "Vrai nom")
    await relais.settle()
    zones = tg.bot_messages(chat.id)[-1]
    tg.press(karim, zones, "Guyane")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est plus valable."
    tg.send_callback(karim, zones, "cfg:ok")
    await relais.settle()
    assert (await load_group(relais, chat.id)).name is None
    # A forged index from Awa herself changes nothing either.
    tg.send_callback(awa, zones, "cfg:tz:99")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce bouton n'est pas valable ici."
    tg.press(awa, zones, "Guyane")
    await relais.settle()
    tg.press(awa, tg.bot_messages(chat.id)[-1], "Annuler")
    await relais.settle()
    assert "rien n'a changé" in last_text(relais, chat.id)
    assert (await load_group(relais, chat.id)).name is None


async def test_named_facilitator_can_configure_then_is_removed(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, "/animateur @julie_m")
    await relais.settle()
    assert "Seule l'animation" in last_text(relais, chat.id)
    assert not (await load_membership(relais, chat.id, julie.id)).named_facilitator
    tg.say(chat, awa, "/animateur @julie_m")
    await relais.settle()
    named = last_text(relais, chat.id)
    assert named.startswith("Julie anime aussi le groupe désormais.\n")
    assert "sans les raisons d'absence" in named  # what she will not see is said when she is named
    tg.say(chat, julie, "/configurer Groupe de Julie")
    await relais.settle()
    assert (await load_group(relais, chat.id)).name == "Groupe de Julie"
    tg.say(chat, karim, "/animateur")
    await relais.settle()
    assert "Julie" in last_text(relais, chat.id) and "Awa" in last_text(relais, chat.id)
    tg.say(chat, awa, "/animateur retirer @julie_m")
    await relais.settle()
    assert "n'anime plus le groupe" in last_text(relais, chat.id)
    tg.say(chat, julie, "/configurer Encore Julie")
    await relais.settle()
    assert "Seule l'animation" in last_text(relais, chat.id)
    assert (await load_group(relais, chat.id)).name == "Groupe de Julie"


async def test_facilitator_by_reply_and_unknown_pseudo(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/animateur @inconnu_du_groupe")
    await relais.settle()
    assert "Je ne connais pas encore @inconnu_du_groupe" in last_text(relais, chat.id)
    tg.say(chat, awa, "/animateur @a b c")
    await relais.settle()
    assert "/animateur @pseudo" in last_text(relais, chat.id)
    # Karim has no public @pseudo: Awa replies to his message instead.
    karim.username = None
    tg.say(chat, karim, "/aide")
    await relais.settle()
    karim_message = [m for m in tg.chat_messages(chat.id) if m.sender_id == karim.id][-1]
    tg.say(chat, awa, "/animateur", reply_to=karim_message)
    await relais.settle()
    assert "Karim anime aussi le groupe" in last_text(relais, chat.id)
    assert (await load_membership(relais, chat.id, karim.id)).named_facilitator


async def test_members_join_speak_and_leave(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    assert (await load_membership(relais, chat.id, karim.id)).status == "member"
    tg.leave(chat, karim)
    await relais.settle()
    membership = await load_membership(relais, chat.id, karim.id)
    assert membership.status == "left" and membership.left_at is not None
    tg.join(chat, karim)
    await relais.settle()
    assert (await load_membership(relais, chat.id, karim.id)).status == "member"
    # Someone already in the group before the bot is recorded when they first talk to it.
    sami = tg.user("Sami", "sami_x")
    chat.statuses[sami.id] = "member"
    assert await load_person(relais, sami.id) is None
    tg.say(chat, sami, "/aide")
    await relais.settle()
    assert (await load_membership(relais, chat.id, sami.id)).status == "member"
    # Ordinary chat never reaches a bot in privacy mode, and records nobody.
    lina = tg.user("Lina", "lina_x")
    chat.statuses[lina.id] = "member"
    assert tg.say(chat, lina, "Bonjour tout le monde") == 0
    await relais.settle()
    assert await load_person(relais, lina.id) is None


async def test_chat_member_updates_when_bot_is_admin(relais):
    tg = relais.tg
    awa = tg.user("Awa", "awa_anim")
    chat = tg.group("Groupe Bourg", creator=awa)
    tg.add_bot(chat, awa, as_admin=True)
    karim = tg.user("Karim", "karim_m")
    tg.join(chat, karim)
    await relais.settle()
    assert (await load_membership(relais, chat.id, karim.id)).status == "member"
    tg.leave(chat, karim)
    await relais.settle()
    assert (await load_membership(relais, chat.id, karim.id)).status == "left"


async def test_supergroup_migration_keeps_everything(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/configurer Groupe Oyonnax | Indian/Mayotte")
    tg.say(chat, awa, "/animateur @julie_m")
    await relais.settle()
    before = await load_group(relais, chat.id)
    supergroup = tg.upgrade_to_supergroup(chat, awa)
    await relais.settle()
    assert await load_group(relais, chat.id) is None
    after = await load_group(relais, supergroup.id)
    assert after.id == before.id and after.name == "Groupe Oyonnax" and after.timezone == "Indian/Mayotte"
    assert (await load_membership(relais, supergroup.id, karim.id)).status == "member"
    assert (await load_membership(relais, supergroup.id, julie.id)).named_facilitator
    tg.say(supergroup, julie, "/configurer Groupe Oyonnax 2")
    await relais.settle()
    assert (await load_group(relais, supergroup.id)).name == "Groupe Oyonnax 2"


async def test_bot_removed_deactivates_group(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.remove_bot(chat, awa)
    await relais.settle()
    group = await load_group(relais, chat.id)
    assert not group.active and group.deactivated_at is not None
    calls_before = len(tg.calls)
    async with relais.services.sessionmaker.begin() as session:
        inactive = await session.get(Group, group.id)
        sends, token = collect()
        try:
            assert not to_group(session, inactive, "Rappel", "test", relais.clock.now())
        finally:
            stop_collecting(token)
        assert sends.sends == []
    assert len(tg.calls) == calls_before  # not even tried
    sent_before = len(tg.bot_messages(chat.id))
    # Added back: the same group record is reactivated and greets again.
    tg.add_bot(chat, awa)
    await relais.settle()
    group_again = await load_group(relais, chat.id)
    assert group_again.id == group.id and group_again.active
    assert len(tg.bot_messages(chat.id)) == sent_before + 2  # the greeting, and the set-up for Awa


async def test_help_depends_on_who_asks(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion jeudi 14h | Centre social, 3 rue des Lilas | Le transport")
    tg.say(chat, karim, "/proposition Des bus le samedi")
    await relais.settle()
    announcement = next(m for m in tg.bot_messages(chat.id) if "Le transport" in (m.text or ""))
    tg.press(karim, announcement, "Je viens")
    # A participant: buttons, nothing to type.
    tg.say(chat, karim, "/aide")
    await relais.settle()
    help_message = tg.bot_messages(chat.id)[-1]
    assert "touchez les boutons" in help_message.text and "/" not in help_message.text
    assert help_message.labels() == [
        "💡 Faire une proposition",
        "📋 Mes réunions",
        "🚗 Covoiturage",
        "🗂 Nos propositions",
    ]
    # 📋 Mes réunions: the answer to the tap itself, for someone who never opened a private chat too.
    before = len(tg.bot_messages(chat.id))
    tg.press(karim, help_message, "Mes réunions")
    await relais.settle()
    mine = tg.last_callback_answer()
    assert "jeudi 5 novembre à 14h, Centre social, 3 rue des Lilas" in mine and "Vous avez dit : je viens ✅" in mine
    tg.press(julie, help_message, "Mes réunions")
    await relais.settle()
    assert "Pas encore de réponse." in tg.last_callback_answer()
    assert len(tg.bot_messages(chat.id)) == before  # nothing posted in the group
    tg.press(julie, help_message, "Nos propositions")
    await relais.settle()
    assert "n°1 Des bus le samedi" in last_text(relais, chat.id)
    tg.press(julie, help_message, "Covoiturage")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("🚗 Covoiturage pour la réunion du jeudi 5 novembre à 14h")
    # A facilitator: the same in the group, with one line; the commands by task, one example
    # each, in private (every member would read them in the group); /aide <task> for more.
    tg.say(chat, awa, "/aide@relais_test_bot")
    await relais.settle()
    participant_help, asked = tg.bot_messages(chat.id)[-2:]
    assert participant_help.labels()[0] == "💡 Faire une proposition"
    # She never opened the private chat: asked to, with its button; then the list goes there.
    assert asked.text.startswith("Je vous envoie vos commandes d'animation en privé") and asked.buttons()
    tg.start_private(awa)
    tg.say(chat, awa, "/aide")
    await relais.settle()
    assert "Vos commandes d'animation vous attendent en privé." in tg.bot_messages(chat.id)[-1].text
    tasks = tg.bot_messages(awa.id)[-1]
    task_lines = tasks.text.splitlines()[1:]
    assert [line.split()[1] for line in task_lines] == [
        "reunion",
        "propositions",
        "votes",
        "actions",
        "covoiturage",
        "bilan",
        "groupe",
    ]
    assert all(line.count("/") >= 1 for line in task_lines) and "/reunion 12/12 14h" in tasks.text
    tg.say(chat, awa, "/aide reunion")
    await relais.settle()
    assert "/annuler 3, /deplacer 3 jeudi 15h" in last_text(relais, chat.id)
    tg.say(chat, awa, "/aide /suivi")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("💡 Propositions")
    tg.say(chat, awa, "/aide cuisine")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("Je ne connais pas la tâche « cuisine ».")
    tg.say(chat, karim, "/aide reunion")  # a participant asking for a task: the buttons
    await relais.settle()
    assert tg.bot_messages(chat.id)[-1].labels()[1] == "📋 Mes réunions"
    # In private: the same buttons, and one's data.
    tg.start_private(karim)
    tg.say(tg.private_chat(karim), karim, "/aide")
    await relais.settle()
    private_help = tg.bot_messages(karim.id)[-1]
    assert "/" not in private_help.text
    assert private_help.labels() == [
        "📋 Mes réunions",
        "💡 Faire une proposition",
        "📦 Mes données",
        "🗑 Tout effacer",
        "🔕 Ne plus recevoir de rappels",
    ]
    tg.press(karim, private_help, "Mes réunions")
    await relais.settle()
    assert "Vos prochaines réunions" in last_text(relais, karim.id) and "je viens ✅" in last_text(relais, karim.id)
    tg.press(karim, private_help, "Mes données")
    await relais.settle()
    assert tg.bot_messages(karim.id)[-1].document is not None
    tg.press(karim, private_help, "Tout effacer")
    await relais.settle()
    assert tg.bot_messages(karim.id)[-1].labels() == ["🗑 Oui, tout effacer", "Non, garder"]


async def test_command_menus_per_scope_and_language(relais):
    commands = relais.tg.commands
    for scope in ("all_group_chats", "all_chat_administrators", "all_private_chats"):
        for language in ("", "fr", "en"):
            assert (scope, language) in commands
    admin_fr = [c["command"] for c in commands[("all_chat_administrators", "fr")]]
    assert admin_fr == [
        "aide",
        "reunion",
        "quand",
        "reunions",
        "prochaine",
        "annuler",
        "deplacer",
        "rappels",
        "serie",
        "configurer",
        "presentation",
        "charte",
        "animateur",
        "joignables",
        "sms",
        "affiche",
        "membres",
        "proposition",
        "propositions",
        "suivi",
        "sondage",
        "vote",
        "priorites",
        "clore",
        "action",
        "actions",
        "indicateurs",
        "compterendu",
        "frais",
        "bilan",
        "tableau",
        "attestation",
        "quorum",
        "modifier",
        "fusionner",
        "retirer",
        "covoiturage",
        "lieux",
    ]
    assert [c["command"] for c in commands[("all_group_chats", "fr")]] == [
        "aide",
        "prochaine",
        "reunions",
        "proposition",
        "propositions",
        "covoiturage",
    ]
    assert commands[("all_private_chats", "en")][4]["description"] == "Get my data"
    assert commands[("all_private_chats", "")][4]["description"] == "Recevoir mes données"


async def test_english_speaker_gets_english_in_private(relais):
    tg = relais.tg
    alice = tg.user("Alice", "alice_en", language_code="en-GB")
    tg.start_private(alice)
    await relais.settle()
    assert last_text(relais, alice.id).startswith("Hello Alice!")
    unknown = tg.user("Ana", "ana_pt", language_code="pt-BR")
    tg.start_private(unknown)
    await relais.settle()
    assert last_text(relais, unknown.id).startswith("Bonjour Ana !")
