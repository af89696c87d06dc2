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
SHOWN_LINES = 3  # of a long message, after its first line


class Transcript:
    """Prints what people saw, once and in the order it happened across all chats (the fake's
    journal): messages as they were then, edits, taps with the short answer they got, votes, and
    the buttons under each message (reply keyboards too)."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        harness.tg.journal = []
        self.seen = 0
        self.shown: dict[tuple[int, int], list[str]] = {}  # each message's lines as last printed
        self.keyboards: set[tuple[str, ...]] = set()  # the button rows already printed once
        self.sms_seen = 0
        self.phones: dict[str, str] = {}  # number -> the name printed for it

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
    def _rows(message: SimMessage) -> list[str]:
        """The buttons under a message, a row a line (reply keyboards too)."""
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

    def _keyboard(self, message: SimMessage) -> list[str]:
        rows = self._rows(message)
        labels = tuple(button["text"] for button in message.buttons())
        if len(labels) > 3 and labels in self.keyboards:  # a reminder carries the announcement's buttons
            return [f"    [ … les {len(labels)} boutons de l'annonce ]"]
        self.keyboards.add(labels)
        return rows

    def _message(self, message: SimMessage, edited: bool) -> list[str]:
        who, where = self._who(message.sender_id), self._where(message.chat_id)
        if message.service:
            return [f"[{where}] · {self._service(who, message.service)}"]
        head, body = self._text(message, who, where, edited)
        key = (message.chat_id, message.message_id)
        before, self.shown[key] = self.shown.get(key), body + self._rows(message)
        if edited and before is not None:  # what changed only: an edit is mostly a count
            return [head, *(line for line in self.shown[key] if line not in before)]
        if len(body) > SHOWN_LINES + 1:  # a long message (a report, a list): its beginning tells enough
            body = [*body[:SHOWN_LINES], f"    … ({len(body) - SHOWN_LINES} lignes de plus)"]
        return [head, *body, *self._keyboard(message)]

    @staticmethod
    def _text(message: SimMessage, who: str, where: str, edited: bool) -> tuple[str, list[str]]:
        """The message's first line, with who said it where, and its other lines."""
        body = message.text or ""
        if message.location is not None:
            body = "📍 (position partagée)"  # the demo does not print coordinates either
        if message.poll is not None:
            state = " (terminé)" if message.poll["is_closed"] else ""
            body = f"📊 {message.poll['question']}{state}\n" + "\n".join(
                f"  ◯ {option['text']} — {option['voter_count']}" for option in message.poll["options"]
            )
        if message.document is not None:
            body = f"📎 {message.document.filename}" + (f" — {body}" if body else "")
        if message.photo is not None:
            body = f"🖼 {message.photo.filename}" + (f" — {body}" if body else "")
        said = " (message mis à jour) : " if edited else " : "
        head = f"[{where}] {who}{said}{body.splitlines()[0] if body else ''}"
        # Blank lines only space a phone screen.
        return head, [f"    {line}" for line in body.splitlines()[1:] if line.strip()]

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
            "par les membres et l'animation ; une idée acceptée par le Service mobilité, suivie pas à pas."
        )

    def flush(self) -> None:
        """Print what happened since the last scene. Two things are printed once: the same news
        sent to several people in private, one after the other (with their names), and files sent
        one after the other into one chat (on one line)."""
        journal = self.h.tg.journal or []
        blocks: list[tuple[str, list[str], list[str]]] = []  # (kind, names or files, lines)
        for entry in journal[self.seen :]:
            lines = self._entry(entry)
            chat = self.h.tg.chats[entry.chat_id]
            from_bot = entry.kind == "message" and lines[0].partition("] ")[2].startswith("🤖")
            private = from_bot and chat.type == "private"
            message = entry.message
            file = message.document.filename if message and message.document and not message.text else None
            last = blocks[-1] if blocks else None
            if file and last and last[0] == f"files:{entry.chat_id}":
                last[1].append(file)
                continue
            if private and last and last[0] == "news" and _said(last[2]) == _said(lines):
                last[1].append(self.h.tg.users[entry.chat_id].first_name)
                continue
            if file:
                blocks.append((f"files:{entry.chat_id}", [file], lines))
            elif private:
                blocks.append(("news", [self.h.tg.users[entry.chat_id].first_name], lines))
            else:
                blocks.append(("", [], lines))
        for kind, names, lines in blocks:
            if kind == "news" and len(names) > 1:
                lines = [f"[privé {', '.join(names)}] {lines[0].partition('] ')[2]}", *lines[1:]]
            elif kind.startswith("files:") and len(names) > 1:
                lines = [lines[0].replace(names[0], " · ".join(names))]
            print(*lines, sep="\n")
        self.seen = len(journal)
        self._texts()

    def _texts(self) -> None:
        """The SMS the gateway sent since the last scene (to members without Telegram)."""
        gateway = self.h.sms
        if gateway is None:
            return
        for sms in gateway.sent[self.sms_seen :]:
            print(f"[SMS {self.phones.get(sms.number, sms.number)}] 📱 Relais : {sms.text}")
        self.sms_seen = len(gateway.sent)

    @staticmethod
    def texted(name: str, text: str) -> None:
        """What someone answers by SMS, printed as they typed it."""
        print(f"[SMS {name}] {name} : {text}")


def _said(lines: list[str]) -> list[str]:
    """A printed message without the chat it went to."""
    return [lines[0].partition("] ")[2], *lines[1:]]


async def play(h: Harness, show: Transcript) -> None:
    tg = h.tg

    async def step(title: str, texted: tuple[str, str] | None = None) -> None:
        await h.settle()
        # Each scene with its day and time, as the group lived it.
        when = format_datetime(h.clock.now().astimezone(PARIS), "EEEE d MMMM, H'h'mm", locale="fr")
        print(f"\n— {when} · {title}")
        if texted is not None:  # what someone answered by SMS, before what it changed
            show.texted(*texted)
        show.flush()

    awa = tg.user("Awa", "awa_animatrice")
    karim = tg.user("Karim", "karim_oyo")
    julie = tg.user("Julie", "julie_b")
    group = tg.group("Groupe ressources Oyonnax", creator=awa)

    tg.start_private(awa)
    tg.add_bot(group, awa)
    await h.settle()
    tg.join(group, karim)
    tg.join(group, julie)
    await step("L'animatrice, Awa, ajoute Relais au groupe ; Karim et Julie le rejoignent")
    tg.press(karim, tg.bot_messages(group.id)[0], "Recevoir mes rappels")
    await step("Karim touche « Recevoir mes rappels en privé » : c'est tout ce qu'il aura à faire")

    tg.say(group, awa, "/reunion 12/11 14h | Centre social Les Vennes, 3 rue X, Bourg | Bilan des propositions")
    await step("Awa annonce la prochaine réunion en une ligne")
    announcement = tg.bot_messages(group.id)[-1]
    tg.press(karim, announcement, "Je viens")
    await h.settle()
    tg.press(julie, announcement, "Peut-être")
    await h.settle()
    tg.press(awa, announcement, "Je viens")
    await step("Karim et Awa répondent « Je viens », Julie « Peut-être » : les chiffres changent sur l'annonce")
    tg.say(group, awa, "/lieux Oyonnax")
    tg.say(group, awa, "/lieux Bellignat")
    await step("Awa donne deux lieux de départ pour le covoiturage : le nom de la commune suffit")
    tg.press(karim, announcement, "Je propose des places")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-2], "Oyonnax")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "2")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "13h15")
    await step("Karim touche 🚗 : en privé, son départ, ses places et l'heure ; le groupe ne voit que le nombre")
    tg.press(julie, announcement, "Je cherche une place")
    await h.settle()
    link = tg.last_callback_url()
    assert link is not None  # 🙋 by someone who never started the bot answers with a link
    tg.open_link(julie, link)
    await h.settle()
    tg.say(tg.private_chat(julie), julie, "Arbent")
    await step("Julie touche 🙋 : la conversation privée s'ouvre ; elle écrit sa commune, Karim est sollicité")
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Accepter")
    await step("Karim accepte : chacun reçoit le prénom de l'autre, un lien pour lui écrire, le lieu et l'heure")
    fatou = "+33781223344"
    show.phones[fatou] = "Fatou"
    tg.say(group, awa, "/sms ajouter Fatou")
    await h.settle()
    tg.say(tg.private_chat(awa), awa, "07 81 22 33 44")
    await h.run_jobs()
    assert h.sms is not None
    await step("Fatou n'a pas Telegram : avec son accord, Awa donne son numéro en privé ; un SMS lui demande OUI")
    await h.sms_answer(fatou, "Oui")
    await h.run_jobs()
    show.texted("Fatou", "Oui")
    show.flush()
    h.clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    await h.run_jobs()
    await step(
        "La veille à 10h : le rappel dans le groupe, en privé et par SMS, le covoiturage, la liste pour l'animation"
    )
    await h.sms_answer(fatou, "1")
    await step("Fatou répond 1 par SMS : elle compte sur l'annonce du groupe, comme un bouton", ("Fatou", "1"))

    tg.press(karim, tg.bot_messages(group.id)[0], "Faire une proposition")
    await h.settle()
    tg.say(tg.private_chat(karim), karim, "Des horaires de bus adaptés pour venir aux réunions")
    await h.settle()
    tg.press(julie, tg.bot_messages(group.id)[-1], "Suivre")
    await step("Karim fait une proposition en privé ; elle est annoncée sans son nom ; Julie la suit")
    tg.say(group, awa, "/vote 1 jusqu'à demain 18h")
    await h.settle()
    poll = tg.bot_messages(group.id)[-1]
    tg.vote(karim, poll, [0])
    tg.vote(julie, poll, [0])
    tg.vote(awa, poll, [2])
    await step("Awa met la proposition au vote jusqu'au lendemain 18h ; Karim et Julie votent Pour")
    h.clock.set(datetime(2026, 11, 12, 17, 0, tzinfo=UTC))
    await h.run_jobs()
    await step("À l'heure dite, le vote est clos : le résultat dans le groupe, la nouvelle en privé pour Julie")
    tg.say(group, awa, "/suivi 1 transmise au Service mobilité")
    await h.run_jobs()
    await step("Awa note la proposition transmise : réponse attendue sous 60 jours ; Awa a le lien à transférer")
    tg.say(
        group,
        awa,
        "/compterendu Nous avons fait le bilan des propositions.\nLa proposition n°1 part au Service mobilité.",
    )
    await h.settle()
    review = next(m for m in reversed(tg.bot_messages(karim.id)) if (m.text or "").startswith("📝 Compte rendu"))
    tg.press(karim, review, "D'accord")
    await h.settle()
    tg.press(awa, tg.bot_messages(group.id)[-1], "Publier maintenant")
    await h.run_jobs()
    await step("Awa écrit le compte rendu ; Karim, venu, est d'accord ; il est publié et envoyé à Julie")
    h.clock.set(datetime(2026, 11, 13, 9, 0, tzinfo=UTC))
    await h.run_jobs()
    evaluation = next(m for m in reversed(tg.bot_messages(karim.id)) if (m.text or "").startswith("⭐"))
    tg.press(karim, evaluation, "Mes frais")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Transport")
    await h.settle()
    tg.say(tg.private_chat(karim), karim, "3,40")
    await h.settle()
    tg.send_photo(tg.private_chat(karim), karim, "ticket-bus.jpg")
    await h.settle()
    claim = next(m for m in reversed(tg.bot_messages(awa.id)) if (m.text or "").startswith("🧾 Demande"))
    tg.press(awa, claim, "Remboursé")
    await step("Le lendemain, « utile ? » en privé ; Karim demande ses frais (3,40 € de bus) ; Awa les rembourse")
    h.clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    link = next(m.text for m in reversed(tg.bot_messages(awa.id)) if "/reponse/" in (m.text or ""))
    url = link[link.index("http") :].split()[0]
    await h.answer_by_link(url, "acceptee", "Une navette le samedi matin, dès janvier")
    await h.run_jobs()
    await step("Le Service mobilité répond par le lien, sans compte à créer : le groupe lit la réponse aussitôt")
    h.clock.set(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    nadia = tg.user("Nadia", "nadia_o")
    tg.join(group, nadia)
    await h.settle()
    h.clock.set(datetime(2026, 12, 1, 8, 32, tzinfo=UTC))
    await h.run_jobs()
    await h.settle()
    welcome = next(m for m in reversed(tg.bot_messages(group.id)) if "Bienvenue à Nadia" in (m.text or ""))
    tg.press(nadia, welcome, "Découvrir le groupe")
    await h.settle()
    link = tg.last_callback_url()
    if link is not None:  # she never started the bot: the button opens the private chat
        tg.open_link(nadia, link)
    await step("Nadia rejoint le groupe : une ligne de bienvenue ; en privé, ce qu'est le groupe et qui l'anime")
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
        async with Harness(url, flood_control=telegram_group_limit, overrides=fast, sms=True) as h:
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
