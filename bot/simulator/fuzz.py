"""Relais' own fuzzer: generated updates through the fake Telegram against the running Application.

A world is built first (two groups with their facilitators and members, meetings, departure
points, a ride offered and asked for, proposals, a poll, a priority round, an action), and every
button the bot sent in it is harvested. Then the run goes in rounds of two halves:

- **hostile but allowed**: known and unknown commands with hostile arguments (huge numbers,
  10,000-character texts, zero-width and right-to-left characters, HTML and SQL-looking text) by
  facilitators and members, in groups and in private; texts and replies that dialogues may
  capture; real buttons pressed by people who may press them; shared locations with absurd
  coordinates; edited messages, stickers, photos, reactions, join requests, channel posts, poll
  updates and answers for unknown polls. These may change the database: that is their right.
- **forged or unauthorised**: forged and mutated button data; real buttons replayed by people
  who may not press them (another group's member, a non-driver on "Accepter", a participant on
  facilitator buttons); facilitator commands by participants. The database is read before and
  after: **no row may change** (the hour a member was last seen aside).

Measured: unhandled exceptions (errors logged), requests the fake refused (other than the 403s
and 429s the bot handles), button presses left unanswered, and rows changed by the second half.
Seeded: the same seed plays the same run. `bench/fuzz.py` runs it from the command line; the test
suite runs a short one.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from telegram import Update

from bot.simulator.harness import Harness
from bot.simulator.server import SimChat, SimMessage, SimUser
from bot.ui import callbacks as cb
from storage.models import Base

# Commands Relais knows, and some it does not (or spelt as people might).
KNOWN = [
    *("aide", "start", "prochaine", "reunions", "reunion", "annuler", "deplacer", "rappels", "serie"),
    *("configurer", "animateur", "proposition", "propositions", "suivi", "modifier", "fusionner", "retirer"),
    *("sondage", "vote", "quorum", "priorites", "clore", "action", "actions", "indicateurs", "covoiturage", "lieux"),
    *("mesdonnees", "oublier"),
]
UNKNOWN = ["foo", "REUNION", "réunion", "reunion@autre_bot", "start@RelaisBot", "x" * 40, "help", "settings", "_"]
# What only facilitators may do, with arguments that would change something if they were allowed.
FACILITATOR_ONLY = [
    "/annuler 1",
    "/annuler 2",
    "/deplacer 1 jeudi 19 novembre 15h",
    "/reunion 20/11 14h | Mairie | Budget",
    "/rappels 3j 2h",
    "/serie arreter 1",
    "/configurer Nouveau nom | Europe/Paris",
    "/animateur @karim_m",
    "/animateur retirer @awa_anim",
    "/suivi 1 retenue",
    "/suivi 1 transmise Commission",
    "/modifier 1 Autre texte",
    "/fusionner 2 1",
    "/retirer 1 raison",
    "/sondage Q ? | A | B",
    "/vote 1",
    "/quorum 50",
    "/priorites",
    "/priorites fin",
    "/vote 1 pendant 3 min",
    "/clore",
    "/clore 1",
    "/action @julie_m Appeler | 25/11",
    "/lieux retirer Oyonnax",
    "/lieux Bourg | 46.2, 5.2",
]
HOSTILE = [
    "999999999999999999999999",
    "-1",
    "0",
    "1e308",
    "NaN",
    "١٢",
    "１２",
    "a" * 10_000,
    "é" * 5_000,
    "🚗" * 2_000,
    "\u200b\u200c\u200d\ufeff",
    "\u202eenilno\u202c",
    "\u2067שלום\u2069",
    "<b>gras</b>",
    "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    "&amp; &lt; &gt; &",
    "'; DROP TABLE people; --",
    "1 OR 1=1",
    '" OR ""="',
    "%s %d %(name)s",
    "{",
    "}",
    "{group}",
    "{0}",
    "\x00",
    "\n\n\n",
    "\t",
    "|||",
    "a | b | c | d | e | f | g",
    "31/02 25h",
    "hier 14h",
    "dans 400 jours",
    "chaque 5e mardi du mois 14h",
    "demain 14h | <i>lieu</i> | sujet",
    "@",
    "@karim_m",
    "@personne_inconnue",
    "n°1",
    "#1",
    "retenue",
    "transmise",
    "oui",
    "2",
    "13h15",
    "Oyonnax",
    "oyonax",
]
ABSURD = [(9999.0, 9999.0), (-91.0, 0.0), (90.0, 180.0), (0.0, 0.0), (1e-300, -1e-300), (46.2567, 5.6556)]
# Buttons anyone may press for themselves (erasing one's own data): not replayed as forgeries,
# and not pressed at all (an erased member would come back as a new person).
SELF_SERVICE = (cb.Forget, cb.PrivateMessages)


@dataclass
class FuzzReport:
    seed: int
    updates: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0
    forged: int = 0
    changed_rows: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not (self.exceptions or self.refused or self.unanswered or self.changed_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "updates": self.updates,
            "forged_or_unauthorised": self.forged,
            "unhandled_exceptions": sum(self.exceptions.values()),
            "exception_types": dict(self.exceptions),
            "requests_refused": sum(self.refused.values()),
            "refusals": dict(self.refused),
            "unanswered_presses": self.unanswered,
            "rows_changed_by_forged": len(self.changed_rows),
            "changed": self.changed_rows[:20],
            "seconds": round(self.seconds, 1),
            "kinds": dict(self.kinds),
        }


class _Errors(logging.Handler):
    """Counts what the bot logged as an error (the error handler logs every unhandled exception)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else record.getMessage()[:80]
        self.found[kind] += 1


@dataclass
class World:
    group_a: SimChat
    group_b: SimChat
    facilitators: list[SimUser]  # Awa (group A), Zoé (group B)
    members_a: list[SimUser]  # Karim (drives), Julie (asks a seat), Sami, Lina (never started)
    members_b: list[SimUser]  # Théo
    buttons: list[tuple[SimMessage, str]] = field(default_factory=list)  # every button the bot sent

    @property
    def everyone(self) -> list[SimUser]:
        return self.facilitators + self.members_a + self.members_b

    def group_of(self, user: SimUser) -> SimChat:
        return self.group_b if user in self.members_b or user is self.facilitators[1] else self.group_a


@dataclass
class Roles:
    """Who owns, runs or facilitates what, read from the database between the halves."""

    facilitator_chats: dict[int, set[int]] = field(default_factory=dict)  # Telegram id -> chats
    in_dialogue: set[int] = field(default_factory=set)
    offer_driver: dict[int, int] = field(default_factory=dict)
    request_rider: dict[int, int] = field(default_factory=dict)
    request_offer: dict[int, int] = field(default_factory=dict)
    meeting_chat: dict[int, int] = field(default_factory=dict)
    meeting_creator: dict[int, int] = field(default_factory=dict)
    proposal_chat: dict[int, int] = field(default_factory=dict)
    round_chat: dict[int, int] = field(default_factory=dict)
    action_chat: dict[int, int] = field(default_factory=dict)
    action_owner: dict[int, int] = field(default_factory=dict)
    creators: dict[int, int] = field(default_factory=dict)  # chat -> its creator (the admin)

    def facilitates(self, user: SimUser, chat_id: int | None) -> bool:
        return chat_id is not None and (
            chat_id in self.facilitator_chats.get(user.id, set()) or self.creators.get(chat_id) == user.id
        )

    @classmethod
    async def read(cls, h: Harness) -> Roles:
        roles = cls()
        roles.creators = {
            chat.id: user_id
            for chat in h.tg.chats.values()
            for user_id, status in chat.statuses.items()
            if status in ("creator", "administrator") and user_id != h.tg.bot.id
        }

        async def pairs(sql: str) -> list[tuple[Any, ...]]:
            async with h.services.sessionmaker() as session:
                return [tuple(row) for row in await session.execute(text(sql))]

        tg_of = "(SELECT telegram_id FROM people p WHERE p.id = {})"
        chat_of = "(SELECT chat_id FROM groups g WHERE g.id = {})"
        for user, chat in await pairs(
            f"SELECT {tg_of.format('m.person_id')}, {chat_of.format('m.group_id')} FROM memberships m "
            "WHERE m.named_facilitator AND m.status = 'member'"
        ):
            roles.facilitator_chats.setdefault(user, set()).add(chat)
        roles.in_dialogue = {user for (user,) in await pairs("SELECT user_id FROM dialogues")}
        roles.offer_driver = dict(await pairs(f"SELECT id, {tg_of.format('driver_id')} FROM ride_offers"))
        roles.request_rider = dict(await pairs(f"SELECT id, {tg_of.format('person_id')} FROM ride_requests"))
        roles.request_offer = dict(await pairs("SELECT id, offer_id FROM ride_requests WHERE status = 'proposed'"))
        roles.meeting_chat = dict(await pairs(f"SELECT id, {chat_of.format('group_id')} FROM meetings"))
        roles.meeting_creator = dict(await pairs(f"SELECT id, {tg_of.format('created_by_id')} FROM meetings"))
        roles.proposal_chat = dict(await pairs(f"SELECT id, {chat_of.format('group_id')} FROM proposals"))
        roles.round_chat = dict(await pairs(f"SELECT id, {chat_of.format('group_id')} FROM priority_rounds"))
        roles.action_chat = dict(await pairs(f"SELECT id, {chat_of.format('group_id')} FROM action_items"))
        roles.action_owner = dict(await pairs(f"SELECT id, {tg_of.format('owner_id')} FROM action_items"))
        return roles


class Fuzzer:
    """`await Fuzzer(harness, seed).run(updates)` on a running harness."""

    def __init__(self, h: Harness, seed: int = 1, round_size: int = 50, precise: bool = False) -> None:
        self.h, self.tg = h, h.tg
        self.rng = random.Random(seed)
        self.seed = seed
        self.round_size = round_size
        self.world: World | None = None
        self.roles = Roles()
        # precise: the database is read after each forged update, so a change names its update.
        self.precise = precise
        self.last: str = ""  # the last forged update, described (for precise reports)

    # ------------------------------------------------------------------ the world
    async def build_world(self) -> World:
        tg, h = self.tg, self.h
        awa, zoe = tg.user("Awa", "awa_anim"), tg.user("Zoé", "zoe_anim")
        karim, julie, sami, lina = (tg.user(n, f"{n.lower()}_m") for n in ("Karim", "Julie", "Sami", "Lina"))
        theo = tg.user("Théo", "theo_m")
        group_a, group_b = tg.group("Groupe A", creator=awa), tg.group("Groupe B", creator=zoe)
        tg.add_bot(group_a, awa)
        tg.add_bot(group_b, zoe)
        for person in (karim, julie, sami, lina):
            tg.join(group_a, person)
        tg.join(group_b, theo)
        await h.settle()
        for person in (awa, zoe, karim, julie, sami, theo):
            tg.start_private(person)
        for line in ("/lieux Oyonnax | 46.2567, 5.6556", "/lieux Nantua | 46.1533, 5.6086"):
            tg.say(group_a, awa, line)
        tg.say(group_a, awa, "/reunion 12/11 14h | Centre social | Bilan")
        tg.say(group_b, zoe, "/reunion 13/11 10h | Mairie | Transports")
        tg.say(group_b, zoe, "/lieux Bourg | 46.2052, 5.2255")
        await h.settle()
        announcement = tg.bot_messages(group_a.id)[-1]
        tg.press(karim, announcement, "Je propose des places")
        await h.settle()
        tg.press(karim, tg.bot_messages(karim.id)[-2], "Oyonnax")
        await h.settle()
        tg.say(tg.private_chat(karim), karim, "2")
        await h.settle()
        tg.say(tg.private_chat(karim), karim, "13h30")
        await h.settle()
        tg.press(julie, announcement, "Je cherche une place")
        await h.settle()
        tg.say(tg.private_chat(julie), julie, "Nantua")
        await h.settle()
        tg.say(group_a, karim, "/proposition Des bus le samedi")
        tg.say(group_a, julie, "/proposition Un local pour se retrouver")
        tg.say(group_b, theo, "/proposition Un covoiturage solidaire")
        await h.settle()
        tg.press(sami, announcement, "Je ne peux pas")
        for line in (
            "/sondage On se retrouve samedi ? | Oui | Non",
            "/vote 1",
            "/priorites",
            "/action @karim_m Appeler la mairie | 20/11",
            "/annuler",
            "/deplacer",
            "/suivi 1",
        ):
            tg.say(group_a, awa, line)
        await h.settle()
        world = World(group_a, group_b, [awa, zoe], [karim, julie, sami, lina], [theo])
        await self._harvest(world)
        self.world = world
        return world

    async def _harvest(self, world: World) -> None:
        for chat_id in list(self.tg.chats):
            for message in self.tg.bot_messages(chat_id):
                for button in message.buttons():
                    if "callback_data" in button:
                        world.buttons.append((message, button["callback_data"]))
        # The attendance checklist's button, written as the bot writes it (the checklist itself
        # comes after the meeting).
        roles = await Roles.read(self.h)
        for meeting_id in roles.meeting_chat:
            world.buttons.append((self.tg.bot_messages(world.group_a.id)[-1], cb.Attendance(meeting_id, "ok").encode()))

    # ------------------------------------------------------------------ strings
    def hostile(self) -> str:
        picks = [self.rng.choice(HOSTILE) for _ in range(self.rng.randint(1, 3))]
        return self.rng.choice([" ", " | ", "\n", ""]).join(picks)

    def _chat_for(self, user: SimUser) -> SimChat:
        world = self._world()
        return self.tg.private_chat(user) if self.rng.random() < 0.4 and user.started else world.group_of(user)

    def _world(self) -> World:
        if self.world is None:
            raise RuntimeError("build_world() first")
        return self.world

    # ------------------------------------------------------------------ the allowed half
    def allowed(self) -> str:
        """One hostile update that the bot must survive; it may change things (its right)."""
        world, rng, tg = self._world(), self.rng, self.tg
        user = rng.choice(world.everyone)
        chat = self._chat_for(user)
        roll = rng.random()
        if roll < 0.35:
            name = rng.choice(KNOWN) if rng.random() < 0.8 else rng.choice(UNKNOWN)
            if name == "oublier":
                name = "aide"  # erasing a fuzz actor would make them a new person in the next half
            tg.say(chat, user, f"/{name} {self.hostile()}".rstrip())
            return "command"
        if roll < 0.45:
            private = tg.private_chat(user) if user.started else chat
            tg.say(private, user, self.hostile())
            return "text"
        if roll < 0.55:
            replied = tg.bot_messages(chat.id)
            if replied:
                tg.reply(chat, user, rng.choice(replied[-5:]), self.hostile())
                return "reply"
            tg.say(chat, user, "/aide")
            return "command"
        if roll < 0.75:
            return self._press_allowed(user)
        if roll < 0.8:
            latitude, longitude = rng.choice(ABSURD)
            tg.share_location(chat, user, latitude, longitude)
            return "location"
        return self._odd_update(user, chat)

    def _press_allowed(self, user: SimUser) -> str:
        """A real button, pressed where it was sent, by someone who sees that message."""
        world, tg = self._world(), self.tg
        for _ in range(10):
            message, data = self.rng.choice(world.buttons)
            chat = tg.chats[message.chat_id]
            if isinstance(cb.decode(data), SELF_SERVICE):
                continue
            if chat.type == "private":  # only its owner sees a private message
                presser = tg.users[chat.id]
            else:
                inside = [
                    u for u in world.everyone if chat.statuses.get(u.id) in ("creator", "administrator", "member")
                ]
                presser = self.rng.choice(inside)
            tg.send_callback(presser, message, data)
            return "press"
        tg.say(world.group_of(user), user, "/prochaine")
        return "command"

    def _odd_update(self, user: SimUser, chat: SimChat) -> str:
        """What Relais does not ask for or does not expect: it must pass by quietly."""
        tg, rng = self.tg, self.rng
        base = {"message_id": tg.new_id(), "date": tg.now(), "chat": chat.as_api(), "from": user.as_api()}
        kind = rng.choice(["edited", "sticker", "photo", "reaction", "join_request", "channel", "poll_answer", "poll"])
        if kind == "edited":
            self._push("edited_message", base | {"text": "/annuler 1", "edit_date": tg.now()})
        elif kind == "sticker":
            sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512}
            self._push("message", base | {"sticker": sticker | {"is_animated": False, "is_video": False}})
        elif kind == "photo":
            self._push(
                "message", base | {"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 9, "height": 9}]}
            )
        elif kind == "reaction":
            reaction = {"chat": chat.as_api(), "message_id": 1, "date": tg.now(), "user": user.as_api()}
            self._push(
                "message_reaction", reaction | {"old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}
            )
        elif kind == "join_request":
            request = {"chat": self._world().group_a.as_api(), "from": user.as_api(), "user_chat_id": user.id}
            self._push("chat_join_request", request | {"date": tg.now()})
        elif kind == "channel":
            channel = {"id": -1009999999999, "type": "channel", "title": "Canal"}
            self._push(
                "channel_post",
                {
                    "message_id": tg.new_id(),
                    "date": tg.now(),
                    "chat": channel,
                    "sender_chat": channel,
                    "text": "/reunion",
                },
            )
        elif kind == "poll_answer":
            answer = {"poll_id": f"nope{rng.randint(1, 10**9)}", "user": user.as_api(), "option_ids": [0]}
            self._push("poll_answer", answer | {"option_persistent_ids": ["x-0"]})
        else:
            poll_id = f"nope{rng.randint(1, 10**9)}"
            options = [{"persistent_id": f"{poll_id}-{i}", "text": t, "voter_count": 3 - i} for i, t in enumerate("ab")]
            poll = {"id": poll_id, "question": "?", "total_voter_count": 4, "is_closed": False, "is_anonymous": True}
            poll |= {
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": True,
                "members_only": False,
            }
            self._push("poll", poll | {"options": options})
        return kind

    def _push(self, kind: str, payload: dict[str, Any]) -> None:
        """An update as Telegram would send it (checked here: one python-telegram-bot cannot parse
        would be the fuzzer's mistake, and it stops every update behind it in long polling)."""
        Update.de_json({"update_id": 1, kind: payload}, None)
        self.tg.push_update(kind, payload)

    # ------------------------------------------------------------------ the forged half
    def forged(self) -> str:
        """One update that must change nothing: forged data, or a press or command not allowed."""
        roll = self.rng.random()
        if roll < 0.35:
            return self._forged_data()
        if roll < 0.75:
            return self._replay_forbidden()
        return self._command_not_allowed()

    def _callback(self, user: SimUser, message: SimMessage, data: str, why: str) -> None:
        self.last = f"{why}: {user.first_name} pressed {data!r} on a message in chat {message.chat_id}"
        self.tg.send_callback(user, message, data)

    def _someones_message(self, user: SimUser) -> SimMessage | None:
        """A bot message in a chat the user is in (a forged client sends its data on it)."""
        chat = self._chat_for(user)
        messages = self.tg.bot_messages(chat.id)
        return self.rng.choice(messages[-10:]) if messages else None

    def _forged_data(self) -> str:
        rng, world = self.rng, self._world()
        user = rng.choice(world.everyone)
        message = self._someones_message(user)
        if message is None:
            return self._command_not_allowed()
        _, real = rng.choice(world.buttons)
        mutations: list[Callable[[], str]] = [
            lambda: real + "\n",
            lambda: real[: rng.randint(0, len(real))],
            lambda: real.split(":")[0] + ":" + ":".join(str(rng.choice([987654321, 0, -1, "x"])) for _ in range(2)),
            lambda: ":".join(reversed(real.split(":"))),
            lambda: "".join(rng.choice("abc:0123456789\n é") for _ in range(rng.randint(1, 64))),
            lambda: rng.randbytes(rng.randint(1, 40)).decode("latin-1"),
            lambda: real.replace(real.split(":")[-1], "9" * 9) if ":" in real else real + ":1",
        ]
        data = rng.choice(mutations)() or "x"
        decoded = cb.decode(data)
        if not isinstance(decoded, cb.Unknown) and not self._forbidden(decoded, user):
            data = "zz:" + data[:60]  # a mutation that landed on a button this person may press
        self._callback(user, message, data, "forged")
        return "forged_data"

    def _forbidden(self, data: cb.Callback, user: SimUser) -> bool:
        """Whether `user` may not press a button carrying `data`: pressing it must change nothing."""
        roles = self.roles
        if isinstance(data, cb.PublishMeeting | cb.SaveSetup | cb.TimeZoneChoice | cb.CarpoolPlace):
            return user.id not in roles.in_dialogue  # a dialogue's buttons, without that dialogue
        if isinstance(data, cb.CarpoolSeats | cb.CarpoolDeparture):
            return user.id not in roles.in_dialogue
        if isinstance(data, cb.RideDecision):
            offer = roles.request_offer.get(data.request_id)
            return offer is None or roles.offer_driver.get(offer) != user.id
        if isinstance(data, cb.CancelOffer):
            return roles.offer_driver.get(data.offer_id) != user.id
        if isinstance(data, cb.CancelRequest):
            return roles.request_rider.get(data.request_id) != user.id
        if isinstance(data, cb.Attendance):
            chat = roles.meeting_chat.get(data.meeting_id)
            runs = roles.facilitates(user, chat) or roles.meeting_creator.get(data.meeting_id) == user.id
            return chat is not None and not runs
        if isinstance(data, cb.CancelMeeting | cb.MoveMeeting):
            chat = roles.meeting_chat.get(data.meeting_id)
            return chat is not None and not roles.facilitates(user, chat)
        if isinstance(data, cb.PickForFollowUp | cb.FollowUpState):
            chat = roles.proposal_chat.get(data.proposal_id)
            return chat is not None and not roles.facilitates(user, chat)
        if isinstance(data, cb.ActionStatus):
            chat = roles.action_chat.get(data.action_id)
            owner = roles.action_owner.get(data.action_id) == user.id
            return chat is not None and not owner and not roles.facilitates(user, chat)
        if isinstance(data, cb.Follow):
            return self._other_group(user, roles.proposal_chat.get(data.proposal_id))
        if isinstance(data, cb.PriorityPick):
            return self._other_group(user, roles.round_chat.get(data.round_id))
        meeting_id = getattr(data, "meeting_id", None)
        if meeting_id is not None:  # a member's button of a meeting: forbidden to the other group
            return self._other_group(user, roles.meeting_chat.get(meeting_id))
        return False

    def _other_group(self, user: SimUser, chat_id: int | None) -> bool:
        """The button belongs to a group this person is not a member of."""
        if chat_id is None:
            return False
        chat = self.tg.chats.get(chat_id)
        return chat is not None and chat.statuses.get(user.id) not in ("creator", "administrator", "member")

    def _replay_forbidden(self) -> str:
        rng, world = self.rng, self._world()
        for _ in range(20):
            _, data = rng.choice(world.buttons)
            decoded = cb.decode(data)
            if isinstance(decoded, (*SELF_SERVICE, cb.Unknown)):
                continue
            strangers = [user for user in world.everyone if self._forbidden(decoded, user)]
            if not strangers:
                continue
            user = rng.choice(strangers)
            message = self._someones_message(user)
            if message is None:
                continue
            self._callback(user, message, data, "replayed")
            return "replay_forbidden"
        return self._forged_data()

    def _command_not_allowed(self) -> str:
        world = self._world()
        participants = [
            u for u in world.members_a + world.members_b if not self.roles.facilitates(u, world.group_of(u).id)
        ]
        if not participants:
            return self._forged_data()
        user = self.rng.choice(participants)
        line = self.rng.choice(FACILITATOR_ONLY)
        if self.rng.random() < 0.3:
            line += " " + self.hostile()
        self.last = f"{user.first_name} typed {line[:60]!r}"
        self.tg.say(world.group_of(user), user, line)
        return "facilitator_command_by_participant"

    # ------------------------------------------------------------------ the run
    # Tables of the process's own bookkeeping, not data: edits to make, the updates handled (a
    # forged update is handled too, and recorded), the processes alive, the groups' sends (a
    # refusal is a message too).
    BOOKKEEPING = frozenset({"refreshes", "handled_updates", "workers", "group_sends"})

    async def snapshot(self) -> dict[str, dict[Any, tuple]]:
        """Every row of every table, by id (when a member was last seen left out)."""
        rows: dict[str, dict[Any, tuple]] = {}
        async with self.h.services.sessionmaker() as session:
            for table in Base.metadata.sorted_tables:
                if table.name in self.BOOKKEEPING:
                    continue
                columns = [c for c in table.columns if c.name != "last_seen_at"]
                result = await session.execute(select(*columns))
                rows[table.name] = {row._mapping["id"]: tuple(row) for row in result}
        return rows

    async def run(self, updates: int) -> FuzzReport:
        report = FuzzReport(self.seed)
        errors = _Errors()
        logging.getLogger().addHandler(errors)
        started = time.perf_counter()
        try:
            if self.world is None:
                await self.build_world()
            await self._read_roles()
            self.tg.refused.clear()
            done = 0
            while done < updates:
                half = min(self.round_size, (updates - done + 1) // 2)
                for _ in range(half):
                    report.kinds[self.allowed()] += 1
                await self._settle(report)
                before = await self.snapshot()
                forged = min(half, updates - done - half)
                for _ in range(forged):
                    report.kinds[self.forged()] += 1
                    if self.precise:
                        await self._settle(report)
                        after = await self.snapshot()
                        report.changed_rows += [f"{change} by {self.last}" for change in _differences(before, after)]
                        before = after
                await self._settle(report)
                after = await self.snapshot()
                report.changed_rows += _differences(before, after)
                report.forged += forged
                done += half + forged
            report.updates = done
        finally:
            logging.getLogger().removeHandler(errors)
            report.seconds = time.perf_counter() - started
        report.exceptions = errors.found
        return report

    async def _read_roles(self) -> None:
        """Who may press what, as the database says now (the allowed half may have named a
        facilitator, matched a ride or opened a dialogue)."""
        self.roles = await Roles.read(self.h)

    async def _settle(self, report: FuzzReport) -> None:
        await self.h.settle(timeout=120)
        report.unanswered += len(self.tg.pending_callbacks)
        self.tg.pending_callbacks.clear()
        for method, code, description in self.tg.refused:
            if code not in (403, 429):
                report.refused[f"{method} {code} {description[:60]}"] += 1
        self.tg.refused.clear()
        # New buttons appear as the run goes (a poll closed, a new announcement): harvest them too.
        await self._read_roles()


def _differences(before: dict[str, dict[Any, tuple]], after: dict[str, dict[Any, tuple]]) -> list[str]:
    changed = []
    for table, rows in after.items():
        old = before.get(table, {})
        changed += [f"{table} {key} added" for key in rows.keys() - old.keys()]
        changed += [f"{table} {key} removed" for key in old.keys() - rows.keys()]
        changed += [f"{table} {key} changed" for key in rows.keys() & old.keys() if rows[key] != old[key]]
    return changed
