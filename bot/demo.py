"""`relais demo`: a scripted group session on the simulated Telegram, printed as a transcript.

Runs the real bot (SQLite in a temporary folder, the in-process fake Telegram), with no token
and no network. Later features add their scenes to SCENES.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.simulator.harness import UNPACED, Harness
from bot.simulator.server import JournalEntry, SimMessage

PARIS = ZoneInfo("Europe/Paris")
SHOWN_LINES = 6  # of a long message, after its first line


class Transcript:
    """Prints what people saw, once and in the order it happened across all chats (the fake's
    journal): messages as they were then, edits, taps with the short answer they got, votes, and
    the buttons under each message (reply keyboards too)."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        harness.tg.journal = []
        self.seen = 0
        self.shown: dict[tuple[int, int], list[str]] = {}  # each message's lines as last printed

    def _where(self, chat_id: int) -> str:
        chat = self.h.tg.chats[chat_id]
        if chat.type == "private":
            return f"privé {self.h.tg.users[chat.id].first_name}"
        return chat.title or "groupe"

    def _who(self, user_id: int) -> str:
        user = self.h.tg.users.get(user_id)
        return "🤖 Relais" if user is None or user.is_bot else user.first_name

    @staticmethod
    def _service(who: str, service: dict) -> str:
        if "new_chat_members" in service:
            names = [m["first_name"] for m in service["new_chat_members"]]
            return f"{who} ajoute {', '.join(names)}" if names != [who] else f"{who} rejoint le groupe"
        if "left_chat_member" in service:
            return f"{service['left_chat_member']['first_name']} quitte le groupe"
        return "le groupe devient un supergroupe"

    @staticmethod
    def _keyboard(message: SimMessage) -> list[str]:
        markup = message.reply_markup or {}
        lines = []
        if message.buttons():
            rows = markup.get("inline_keyboard", [])
            lines += ["    " + "  ".join(f"[ {button['text']} ]" for button in row) for row in rows]
        if markup.get("keyboard"):  # a reply keyboard, in place of the phone's keyboard
            for row in markup["keyboard"]:
                labels = [button["text"] if isinstance(button, dict) else str(button) for button in row]
                lines.append("    ⌨️ " + "  ".join(f"[ {label} ]" for label in labels))
        if markup.get("force_reply"):
            lines.append("    ↩️ (la réponse se tape en réponse à ce message)")
        return lines

    def _message(self, message: SimMessage, edited: bool) -> list[str]:
        who, where = self._who(message.sender_id), self._where(message.chat_id)
        if message.service:
            return [f"[{where}] · {self._service(who, message.service)}"]
        lines = self._full(message, who, where, edited)
        key = (message.chat_id, message.message_id)
        before, self.shown[key] = self.shown.get(key), lines[1:]
        if edited and before is not None:  # what changed only: an edit is mostly a count
            changed = [line for line in lines[1:] if line not in before]
            return [lines[0], *changed]
        return lines

    def _full(self, message: SimMessage, who: str, where: str, edited: bool) -> list[str]:
        body = message.text or ""
        if message.location is not None:
            body = "📍 (position partagée)"  # the demo does not print coordinates either
        if message.poll is not None:
            state = " (terminé)" if message.poll["is_closed"] else ""
            body = f"📊 {message.poll['question']}{state}\n" + "\n".join(
                f"  ◯ {option['text']} — {option['voter_count']}" for option in message.poll["options"]
            )
        if message.document is not None:
            body = f"📎 {message.document.filename} — {body}"
        if message.photo is not None:
            body = f"🖼 {message.photo.filename} — {body}"
        said = " (message mis à jour) : " if edited else " : "
        lines = [f"[{where}] {who}{said}{body.splitlines()[0] if body else ''}"]
        rest = body.splitlines()[1:]
        if len(rest) > SHOWN_LINES + 1:  # a long message (a report, a list): its beginning tells enough
            rest = [*rest[:SHOWN_LINES], f"… ({len(rest) - SHOWN_LINES} lignes de plus)"]
        lines += [f"    {line}" for line in rest]
        return lines + self._keyboard(message)

    def _entry(self, entry: JournalEntry) -> list[str]:
        if entry.message is not None:
            return self._message(entry.message, entry.kind == "edit")
        where, who = self._where(entry.chat_id), self._who(entry.user_id)
        if entry.kind == "tap":
            return [f"[{where}] {who} touche [ {entry.text} ]"]
        if entry.kind == "vote":
            return [f"[{where}] {who} vote : {entry.text or '(retire son vote)'}"]
        shown = "dans une fenêtre" if entry.alert else "en bref"
        lines = entry.text.splitlines() or [""]
        return [f"[{where}]   ↳ {who} voit, {shown} : {lines[0]}", *(f"      {line}" for line in lines[1:])]

    def summary(self) -> str:
        """What Relais did for the group in the story, counted from what people saw."""
        journal = self.h.tg.journal or []
        bot_id = self.h.tg.bot.id
        sent = [e for e in journal if e.kind == "message" and e.user_id == bot_id]
        private = sum(1 for e in sent if self.h.tg.chats[e.chat_id].type == "private")
        taps = sum(1 for e in journal if e.kind == "tap")
        typed = sum(1 for e in journal if e.kind == "message" and e.user_id != bot_id)
        return (
            f"Ce que Relais a fait pour le groupe en un mois : {len(sent)} messages, dont {private} en privé "
            f"(rappels, listes, covoiturage, réponses) ; {taps} gestes d'un doigt et {typed} messages tapés "
            "par les membres et l'animation ; une idée devenue réalité, suivie pas à pas."
        )

    def flush(self) -> None:
        journal = self.h.tg.journal or []
        for entry in journal[self.seen :]:
            for line in self._entry(entry):
                print(line)
        self.seen = len(journal)


async def play(h: Harness, show: Transcript) -> None:
    tg = h.tg

    async def step(title: str) -> None:
        await h.settle()
        if title:  # each scene with its day and time, as the group lived it
            when = format_datetime(h.clock.now().astimezone(PARIS), "EEEE d MMMM, H'h'mm", locale="fr")
            print(f"\n— {when} · {title}")
        show.flush()

    awa = tg.user("Awa", "awa_animatrice")
    karim = tg.user("Karim", "karim_oyo")
    julie = tg.user("Julie", "julie_b")
    group = tg.group("Groupe ressources Oyonnax", creator=awa)

    tg.add_bot(group, awa)
    await step("L'animatrice, Awa, ajoute Relais au groupe")
    tg.say(group, awa, "/configurer")
    await step("Awa configure le groupe avec /configurer : le nom...")
    tg.reply(group, awa, tg.bot_messages(group.id)[-1], "Groupe ressources Oyonnax")
    await step("... puis le fuseau horaire, d'un bouton")
    tg.press(awa, tg.bot_messages(group.id)[-1], "Métropole")
    await h.settle()
    tg.press(awa, tg.bot_messages(group.id)[-1], "Enregistrer")
    await step("")
    tg.join(group, karim)
    tg.join(group, julie)
    await step("Karim et Julie rejoignent le groupe")
    tg.press(karim, tg.bot_messages(group.id)[0], "Recevoir mes rappels")
    await step("Karim appuie sur « Recevoir mes rappels en privé »")
    tg.say(group, julie, "/aide")
    await step("Julie demande de l'aide : des boutons, rien à taper")
    help_message = tg.bot_messages(group.id)[-1]
    tg.say(group, awa, "/animateur @julie_b")
    await step("Awa nomme Julie co-animatrice")
    tg.say(group, awa, "/charte")
    await h.run_jobs()
    await step("Awa publie la charte du groupe : confidentialité, bienveillance, respect, écoute")
    charter = next(m for m in reversed(tg.bot_messages(group.id)) if "charte" in (m.text or ""))
    tg.press(karim, charter, "J'ai lu")
    await step("Karim la lit et touche « ✅ J'ai lu » : c'est noté une fois pour toutes")
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await step("Karim demande, en privé, ce que Relais sait de lui")

    tg.say(group, awa, "/reunion 12/11 14h | Centre social Les Vennes, 3 rue X, Bourg | Bilan des propositions")
    await step("Awa annonce la prochaine réunion en une ligne")
    announcement = tg.bot_messages(group.id)[-1]
    tg.press(karim, announcement, "Je viens")
    await h.settle()
    tg.press(julie, announcement, "Je ne peux pas")
    await step("Karim répond « Je viens », Julie « Je ne peux pas » : les chiffres changent sur l'annonce")
    tg.press(karim, help_message, "Mes réunions")
    await step("Karim touche « 📋 Mes réunions » sous l'aide : la réponse s'affiche pour lui seul")

    tg.say(group, awa, "/lieux Oyonnax | 46.2567, 5.6556")
    tg.say(group, awa, "/lieux Bellignat | 46.2442, 5.6286")
    await step("Awa note deux lieux de départ pour le covoiturage")
    tg.press(karim, announcement, "Je propose des places")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-2], "Oyonnax")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "2")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "13h15")
    await step(
        "Karim touche 🚗 : en privé, il choisit son départ, ses places et l'heure ; le groupe ne voit que le nombre"
    )
    tg.press(julie, announcement, "Je cherche une place")
    await h.settle()
    link = tg.last_callback_url()
    assert link is not None  # 🙋 by someone who never started the bot answers with a link
    tg.open_link(julie, link)
    await step("Julie, qui n'a pas de voiture, touche 🙋 : le bouton ouvre la conversation privée")
    tg.share_location(tg.private_chat(julie), julie, 46.2451, 5.6301)
    await step(
        "Julie partage sa position : Relais prend le lieu le plus proche et ne garde pas la position ; "
        "Karim est sollicité"
    )
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Accepter")
    await step("Karim accepte : chacun reçoit le prénom de l'autre, un lien pour lui écrire, le lieu et l'heure")
    h.clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    await h.run_jobs()
    await step(
        "La veille à 10h, le rappel part dans le groupe, en privé pour Karim, et le rappel du covoiturage ; "
        "Awa, qui n'a jamais ouvert la discussion privée, est prévenue dans le groupe qu'un message l'attend"
    )
    waiting = next(m for m in tg.bot_messages(group.id) if "Relais a un message pour vous" in m.text)
    tg.press(awa, waiting, "Ouvrir le message privé")
    await h.run_jobs()
    await step("Awa touche le bouton : la discussion privée s'ouvre et la liste de la veille arrive")
    tg.press(karim, announcement, "Une question")
    await h.settle()
    tg.say(tg.private_chat(karim), karim, "Il y a un ascenseur ? Je viens avec une poussette.")
    await step("Karim touche « ❓ Une question » : il l'écrit en privé, l'animation la reçoit ; le groupe ne voit rien")
    question = next(m for m in reversed(tg.bot_messages(awa.id)) if "Question de Karim" in (m.text or ""))
    tg.press(awa, question, "Répondre")
    await h.settle()
    tg.say(tg.private_chat(awa), awa, "Oui, l'ascenseur est au fond du hall.")
    await step("Awa lit la question de Karim et y répond : la réponse arrive à Karim en privé")

    tg.press(karim, tg.bot_messages(group.id)[0], "Faire une proposition")
    await step("Karim touche « 💡 Faire une proposition » sous le message d'accueil : Relais lui répond en privé")
    tg.say(tg.private_chat(karim), karim, "Des horaires de bus adaptés pour venir aux réunions")
    await step("Karim écrit son idée en un message ; elle est annoncée dans le groupe, sans son nom")
    tg.start_private(julie)
    await h.settle()
    tg.press(julie, tg.bot_messages(group.id)[-1], "Suivre")
    await step("Julie ouvre la conversation privée et touche « 🔔 Suivre »")
    tg.say(group, awa, "/vote 1 jusqu'à demain 18h")
    await step("Awa met la proposition n°1 au vote jusqu'au lendemain 18h")
    poll = tg.bot_messages(group.id)[-1]
    tg.vote(karim, poll, [0])
    tg.vote(julie, poll, [0])
    tg.vote(awa, poll, [2])
    await step("Karim et Julie votent Pour, Awa « Je ne sais pas »")
    h.clock.set(datetime(2026, 11, 12, 13, 40, tzinfo=UTC))
    tg.say(group, awa, "/sondage On fait une pause de 10 minutes ? | Oui | Non | pendant 3 min")
    await step("Pendant la réunion, Awa lance un vote rapide de 3 minutes")
    pause = tg.bot_messages(group.id)[-1]
    tg.vote(karim, pause, [0])
    tg.vote(julie, pause, [0])
    await step("Karim et Julie votent d'un toucher")
    tg.press(karim, pause, "Clore")
    await h.run_jobs()
    await step("Karim touche « 🔒 Clore » : c'est réservé à l'animation")
    tg.press(awa, pause, "Clore")
    await h.run_jobs()
    await step("Awa n'attend pas les 3 minutes : elle clôt le vote d'un bouton, et le résultat suit aussitôt")
    h.clock.set(datetime(2026, 11, 12, 17, 0, tzinfo=UTC))
    await h.run_jobs()
    await step("À l'heure dite, le vote est clos : résumé dans le groupe, nouvelle en privé pour Julie (qui suit)")
    tg.say(group, awa, "/suivi 1 transmise Commission insertion du 15/01")
    await h.run_jobs()
    await step(
        "Awa note que la proposition est transmise : une phrase dans le groupe, un message privé à Karim et Julie"
    )
    tg.say(
        group, awa, "/compterendu Nous avons fait le bilan des propositions.\nLa proposition n°1 part à la Commission."
    )
    await step("Après la réunion, Awa envoie le compte rendu : Karim, venu, le reçoit en privé pour avis")
    review = next(m for m in reversed(tg.bot_messages(karim.id)) if (m.text or "").startswith("📝 Compte rendu"))
    tg.press(karim, review, "D'accord")
    await h.settle()
    tg.press(awa, tg.bot_messages(group.id)[-1], "Publier maintenant")
    await h.run_jobs()
    await step("Karim est d'accord ; Awa le publie sans attendre : il est épinglé si Relais le peut, et envoyé à Julie")
    h.clock.set(datetime(2026, 11, 13, 9, 0, tzinfo=UTC))
    await h.run_jobs()
    await step("Le lendemain, Karim, venu à la réunion, reçoit en privé « utile ? »")
    evaluation = next(m for m in reversed(tg.bot_messages(karim.id)) if (m.text or "").startswith("⭐"))
    tg.press(karim, evaluation, "Oui, très")
    await h.settle()
    tg.press(karim, evaluation, "Mes frais")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Transport")
    await h.settle()
    tg.say(tg.private_chat(karim), karim, "3,40")
    await h.settle()
    tg.send_photo(tg.private_chat(karim), karim, "ticket-bus.jpg")
    await step("Karim répond d'un toucher, puis demande ses frais : 3,40 € de bus, avec la photo du ticket")
    claim = next(m for m in reversed(tg.bot_messages(awa.id)) if (m.text or "").startswith("🧾 Demande"))
    tg.press(awa, claim, "Remboursé")
    await step("Awa marque la demande remboursée : Karim en est prévenu en privé")
    h.clock.set(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    tg.say(group, awa, "/suivi 1 réalisée")
    await h.run_jobs()
    await step("Quelques semaines plus tard, la proposition est réalisée : le groupe la fête")
    h.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    await h.run_jobs()
    await step("Le 1er du mois à 10h : « Où en sont nos propositions ? »")
    tg.say(group, karim, "/propositions")
    await step("Le tableau de suivi, comme sur papier")
    tg.say(
        group,
        awa,
        "/quand Centre social Les Vennes | La suite | mardi 15/12 14h | jeudi 17/12 10h | jusqu'à vendredi 18h",
    )
    await step("Pour la réunion suivante, Awa propose deux dates : chacun coche celles qui lui vont")
    dates = tg.bot_messages(group.id)[-1]
    for person, label in ((karim, "jeu. 17 déc."), (julie, "jeu. 17 déc."), (julie, "mar. 15 déc.")):
        tg.press(person, dates, label)
        await h.settle()
    tg.press(awa, dates, "Choisir")
    await step("Karim et Julie cochent ; Awa touche « Choisir » et voit en privé qui peut venir quand")
    tg.press(awa, tg.bot_messages(awa.id)[-1], "Retenir jeu. 17 déc.")
    await step("Awa retient le jeudi : la réunion est créée et annoncée comme d'habitude")
    nadia = tg.user("Nadia", "nadia_o")
    tg.join(group, nadia)
    await h.settle()
    h.clock.set(datetime(2026, 12, 1, 9, 2, tzinfo=UTC))
    await h.run_jobs()
    await step("Nadia rejoint le groupe : une ligne de bienvenue, qui ne dit rien de sa situation")
    welcome = next(m for m in reversed(tg.bot_messages(group.id)) if "Bienvenue à Nadia" in (m.text or ""))
    tg.press(nadia, welcome, "Découvrir le groupe")
    await h.settle()
    link = tg.last_callback_url()
    if link is not None:  # she never started the bot: the button opens the private chat
        tg.open_link(nadia, link)
    await step("Nadia touche « 👋 Découvrir le groupe » : en privé, la présentation du groupe et la prochaine réunion")
    tg.say(group, awa, "/bilan")
    await step("Awa demande le bilan : il arrive en privé, avec son graphique ; le groupe n'en voit qu'une ligne")
    tg.say(tg.private_chat(awa), awa, "/tableau")
    await step("Awa ouvre le tableau de bord : un lien personnel, valable une fois, pour son téléphone ou son bureau")
    tg.say(group, awa, "/attestation @karim_oyo")
    await h.settle()
    tg.say(tg.private_chat(karim), karim, "Karim Benali")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui")
    await step("Karim a besoin d'une attestation : il écrit son nom comme sur ses papiers, le PDF arrive en privé")
    await h.settle()
    print(f"\n— {show.summary()}")


async def run_demo(verbose: bool = False, telegram_group_limit: bool = False) -> int:
    """Play the demo; `telegram_group_limit` keeps Telegram's 20 messages a minute per group (what
    the tests keep), as bench/demo.py's baseline."""
    logging.basicConfig(level=logging.INFO if verbose else logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="relais-demo-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'relais.db'}"
        # The built-in fake needs none of Telegram's sending limits to show the flow: without them
        # a scene with many messages in the group does not wait for the minute to pass.
        fast = {} if telegram_group_limit else UNPACED
        async with Harness(url, flood_control=telegram_group_limit, overrides=fast) as h:
            if telegram_group_limit:
                h.patience = 300.0  # a scene may wait for the minute's budget
            print("Relais — démonstration sur un Telegram simulé (aucun jeton, aucun réseau)")
            show = Transcript(h)
            await play(h, show)
            problems = h.tg.flagged
        print()
        if problems:
            print("Requêtes refusées par le Telegram simulé :", *problems, sep="\n  ")
            return 1
        print("Fin de la démonstration : toutes les requêtes étaient valides pour Telegram.")
    return 0
