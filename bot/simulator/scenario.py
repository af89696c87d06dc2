"""The people side of the fake Telegram: acts as members, admins and groups do.

Each action records what Telegram would show in the chat and delivers the updates a bot with
privacy mode on would receive: by getUpdates, or by POST to the webhook once one is set.
Actions return the id of the last update they delivered (0 when the bot receives nothing).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp

from bot.simulator.server import FakeTelegramServer, SimChat, SimMessage, SimUser
from bot.simulator.spec import UploadedFile

_MENTION_RE = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")


def is_command(text: str) -> bool:
    """What privacy mode lets through as a command: one Telegram recognises at the start."""
    return _COMMAND_RE.match(text) is not None


class FakeTelegram(FakeTelegramServer):
    """Fake Telegram server plus scenario helpers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self.webhook_statuses: list[int] = []
        self._chat_counter = 0

    # ---------------------------------------------------------------- delivery
    def deliver(self, kind: str, payload: dict[str, Any]) -> int:
        if not self.wants(kind):
            return 0
        if self.webhook_url:
            update_id = self.last_update_id = self.last_update_id + 1
            task = asyncio.get_running_loop().create_task(self._post_webhook({"update_id": update_id, kind: payload}))
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)
            return update_id
        return self.push_update(kind, payload)

    async def _post_webhook(self, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        # Telegram retries until it gets a 2xx; three tries are enough for tests.
        for _ in range(3):
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(self.webhook_url or "", json=update, headers=headers) as response,
                ):
                    self.webhook_statuses.append(response.status)
                    if response.status < 300:
                        return
            except aiohttp.ClientError:
                self.webhook_statuses.append(0)
            await asyncio.sleep(0.05)

    # ---------------------------------------------------------------- people and chats
    def user(self, first_name: str, username: str | None = None, language_code: str | None = "fr") -> SimUser:
        person = SimUser(
            id=self.new_id() * 1000 + 7, first_name=first_name, username=username, language_code=language_code
        )
        self.users[person.id] = person
        return person

    def group(
        self,
        title: str,
        creator: SimUser,
        members: tuple[SimUser, ...] | list[SimUser] = (),
        admins: tuple[SimUser, ...] | list[SimUser] = (),
    ) -> SimChat:
        """A basic group the bot is not yet in."""
        self._chat_counter += 1
        chat = SimChat(id=-(4000000000 + self._chat_counter), type="group", title=title)
        return self._peopled(chat, creator, members, admins)

    def _peopled(
        self,
        chat: SimChat,
        creator: SimUser,
        members: tuple[SimUser, ...] | list[SimUser],
        admins: tuple[SimUser, ...] | list[SimUser],
    ) -> SimChat:
        chat.statuses[creator.id] = "creator"
        for admin in admins:
            chat.statuses[admin.id] = "administrator"
        for member in members:
            chat.statuses.setdefault(member.id, "member")
        self.chats[chat.id] = chat
        return chat

    def forum(
        self,
        title: str,
        creator: SimUser,
        members: tuple[SimUser, ...] | list[SimUser] = (),
        admins: tuple[SimUser, ...] | list[SimUser] = (),
    ) -> SimChat:
        """A supergroup with topics (a forum) the bot is not yet in."""
        self._chat_counter += 1
        chat = SimChat(id=-(1000000000000 + self._chat_counter), type="supergroup", title=title, is_forum=True)
        return self._peopled(chat, creator, members, admins)

    def create_topic(self, chat: SimChat, by: SimUser, name: str) -> int:
        """`by` opens a topic in a forum; its id is the id of its first (service) message."""
        assert chat.is_forum, f"{chat.title} has no topics"
        message = self.record_message(chat.id, by.id, service={"forum_topic_created": {"name": name, "icon_color": 0}})
        message.thread_id = message.message_id
        chat.topics[message.message_id] = {"name": name, "closed": False}
        return message.message_id

    def automatic_forward(self, chat: SimChat, text: str) -> int:
        """A post of the group's linked channel, forwarded into the group by Telegram: from the
        "Telegram" account (777000, not a bot), signed by the channel."""
        telegram = self.users[777000]
        message = self.record_message(chat.id, telegram.id, text=text)
        channel = {"id": -(1000000000000 + 999), "type": "channel", "title": f"{chat.title} (canal)"}
        payload = self.message_api(message) | self._text_payload(text)
        payload |= {
            "sender_chat": channel,
            "is_automatic_forward": True,
            "forward_origin": {
                "type": "channel",
                "chat": channel,
                "message_id": message.message_id,
                "date": self.now(),
            },
        }
        return self._post(chat, telegram, payload, None, is_command(text))

    def remain_anonymous(self, chat: SimChat, admin: SimUser) -> None:
        """An administrator switches on "Remain anonymous": their messages are the group's."""
        assert chat.statuses.get(admin.id) in ("creator", "administrator"), f"{admin.first_name} is not an admin"
        chat.anonymous.add(admin.id)

    def close_topic(self, chat: SimChat, topic: int | None) -> None:
        """An administrator closes a topic (None: General): only administrators may write there."""
        if topic is None:
            chat.general_closed = True
        else:
            chat.topics[topic]["closed"] = True

    def private_chat(self, user: SimUser) -> SimChat:
        if user.id not in self.chats:
            self.chats[user.id] = SimChat(id=user.id, type="private", first_name=user.first_name)
        return self.chats[user.id]

    def _member_update(self, chat: SimChat, actor: SimUser, subject: SimUser, new: str) -> dict[str, Any]:
        """Move `subject` to status `new` and describe the change as Telegram does."""
        old_api = self.member_api(chat, subject.id)
        chat.statuses[subject.id] = new
        return {
            "chat": chat.as_api(),
            "from": actor.as_api(),
            "date": self.now(),
            "old_chat_member": old_api,
            "new_chat_member": self.member_api(chat, subject.id),
        }

    def _service(self, chat: SimChat, actor: SimUser, service: dict[str, Any]) -> int:
        message = self.record_message(chat.id, actor.id, service=service)
        return self.deliver("message", self.message_api(message))

    def add_bot(self, chat: SimChat, by: SimUser, as_admin: bool = False) -> int:
        """`by` adds the bot to the group (as administrator if asked)."""
        self._service(chat, by, {"new_chat_members": [self.bot.as_api()]})
        update = self._member_update(chat, by, self.bot, "administrator" if as_admin else "member")
        return self.deliver("my_chat_member", update)

    def bot_left(self, chat: SimChat) -> None:
        self.deliver("my_chat_member", self._member_update(chat, self.bot, self.bot, "left"))

    def restrict_bot(self, chat: SimChat, by: SimUser) -> int:
        """An administrator takes away the bot's right to send messages; it stays in the group."""
        return self.deliver("my_chat_member", self._member_update(chat, by, self.bot, "restricted"))

    def remove_bot(self, chat: SimChat, by: SimUser) -> int:
        update = self._member_update(chat, by, self.bot, "left")
        self.record_message(chat.id, by.id, service={"left_chat_member": self.bot.as_api()})
        return self.deliver("my_chat_member", update)

    def join(self, chat: SimChat, user: SimUser) -> int:
        update = self._member_update(chat, user, user, "member")
        last = self._service(chat, user, {"new_chat_members": [user.as_api()]})
        if chat.statuses.get(self.bot.id) == "administrator":
            last = self.deliver("chat_member", update) or last
        return last

    def leave(self, chat: SimChat, user: SimUser) -> int:
        update = self._member_update(chat, user, user, "left")
        last = self._service(chat, user, {"left_chat_member": user.as_api()})
        if chat.statuses.get(self.bot.id) == "administrator":
            last = self.deliver("chat_member", update) or last
        return last

    def _text_payload(self, text: str, mentioned: SimUser | None = None) -> dict[str, Any]:
        entities: list[dict[str, Any]] = []
        if mentioned is not None:  # picked in Telegram's mention list: a link to the person, no @
            start = text.index(mentioned.first_name)
            entities.append(
                {
                    "type": "text_mention",
                    "offset": len(text[:start].encode("utf-16-le")) // 2,
                    "length": len(mentioned.first_name.encode("utf-16-le")) // 2,
                    "user": mentioned.as_api(),
                }
            )
        if command := _COMMAND_RE.match(text):  # Telegram ends a command at its first other character
            entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
        for match in _MENTION_RE.finditer(text):
            entities.append({"type": "mention", "offset": match.start(), "length": match.end() - match.start()})
        entities.sort(key=lambda entity: entity["offset"])
        return {"text": text, "entities": entities} if entities else {"text": text}

    def say(
        self,
        chat: SimChat,
        user: SimUser,
        text: str,
        reply_to: SimMessage | None = None,
        topic: int | None = None,
        mentioning: SimUser | None = None,
    ) -> int:
        """`user` writes `text` in `chat` (in a forum, in `topic`, or in the replied message's
        topic; General otherwise); a bot in privacy mode sees only commands and replies to it.
        `mentioning`: someone picked in the mention list, whose first name is in `text`."""
        if chat.type != "private" and chat.statuses.get(user.id) not in ("creator", "administrator", "member"):
            raise AssertionError(f"{user.first_name} is not in {chat.title}")
        if topic is None and reply_to is not None:
            topic = reply_to.thread_id
        if topic is not None:
            assert topic in chat.topics, f"no topic {topic} in {chat.title}"
            closed = chat.topics[topic]["closed"]
        else:
            closed = chat.is_forum and chat.general_closed
        if closed and chat.statuses.get(user.id) not in ("creator", "administrator"):
            raise AssertionError(f"{user.first_name} cannot write in a closed topic")
        message = self.record_message(
            chat.id,
            user.id,
            text=text,
            reply_to=reply_to.message_id if reply_to else None,
            thread_id=topic,
            anonymous=user.id in chat.anonymous,
        )
        return self._post(
            chat, user, self.message_api(message) | self._text_payload(text, mentioning), reply_to, is_command(text)
        )

    def send_document(
        self, chat: SimChat, user: SimUser, filename: str, content: bytes, reply_to: SimMessage | None = None
    ) -> int:
        """`user` sends a file (the 📎 menu), in reply to `reply_to` when given."""
        if chat.type != "private" and chat.statuses.get(user.id) not in ("creator", "administrator", "member"):
            raise AssertionError(f"{user.first_name} is not in {chat.title}")
        message = self.record_message(
            chat.id,
            user.id,
            document=UploadedFile(filename, content),
            reply_to=reply_to.message_id if reply_to else None,
        )
        return self._post(chat, user, self.message_api(message), reply_to, False)

    def send_photo(
        self, chat: SimChat, user: SimUser, filename: str = "ticket.jpg", size: tuple[int, int] = (960, 1280)
    ) -> int:
        """`user` sends a photo (a receipt, say): the bot gets it as Telegram's sizes of one picture."""
        if chat.type != "private" and chat.statuses.get(user.id) not in ("creator", "administrator", "member"):
            raise AssertionError(f"{user.first_name} is not in {chat.title}")
        message = self.record_message(
            chat.id, user.id, photo=UploadedFile(filename, b"\xff\xd8 photo"), photo_size=size
        )
        return self._post(chat, user, self.message_api(message), None, False)

    def share_location(
        self, chat: SimChat, user: SimUser, latitude: float, longitude: float, reply_to: SimMessage | None = None
    ) -> int:
        """`user` shares a location (the 📎 menu, or a reply keyboard's request_location button)."""
        if chat.type != "private" and chat.statuses.get(user.id) not in ("creator", "administrator", "member"):
            raise AssertionError(f"{user.first_name} is not in {chat.title}")
        message = self.record_message(
            chat.id,
            user.id,
            location={"latitude": latitude, "longitude": longitude},
            reply_to=reply_to.message_id if reply_to else None,
        )
        return self._post(chat, user, self.message_api(message), reply_to, False)

    def _post(
        self, chat: SimChat, user: SimUser, payload: dict[str, Any], reply_to: SimMessage | None, command: bool
    ) -> int:
        """Deliver a person's message as privacy mode allows: everything in private, commands
        and replies to the bot in groups (everything when the bot is an administrator)."""
        if chat.type == "private":
            if user.blocked:
                return 0
            return self.deliver("message", payload)
        sees_all = chat.statuses.get(self.bot.id) == "administrator"
        to_bot = reply_to is not None and reply_to.sender_id == self.bot.id
        if chat.statuses.get(self.bot.id) in ("member", "administrator") and (sees_all or to_bot or command):
            return self.deliver("message", payload)
        return 0

    def reply(self, chat: SimChat, user: SimUser, to: SimMessage, text: str) -> int:
        """`user` replies to `to` (swipes it, or the reply field the bot's question opened). A
        question with ForceReply is answered only by those whose client shows it: anyone else
        would not see the reply field open, and a test that replies for them proves nothing."""
        if to.asks_reply and to.sender_id == self.bot.id and not self.shows_prompt(to, user.id):
            raise AssertionError(
                f"{user.first_name}'s client does not show the question {to.text[:60]!r}: "
                "it neither quotes them nor mentions them"
            )
        return self.say(chat, user, text, reply_to=to)

    def question_for(self, chat: SimChat, user: SimUser) -> SimMessage:
        """The bot's latest question whose reply field `user`'s client opened in `chat`."""
        for message in reversed(self.bot_messages(chat.id)):
            if self.shows_prompt(message, user.id):
                return message
        raise AssertionError(f"no question of the bot is open for {user.first_name} in {chat.title or 'private'}")

    def answer_question(self, chat: SimChat, user: SimUser, text: str) -> int:
        """`user` types `text` in the reply field the bot's latest question opened for them (what
        a facilitator does without thinking of the reply gesture)."""
        return self.reply(chat, user, self.question_for(chat, user), text)

    def press(self, user: SimUser, message: SimMessage, label: str) -> int:
        """`user` taps the button whose label contains `label` under `message`."""
        matches = [b for b in message.buttons() if label in b["text"]]
        if not matches:
            raise AssertionError(f"no button {label!r} under message {message.message_id}: {message.labels()}")
        button = matches[0]
        self.note("tap", message.chat_id, user.id, text=button["text"])
        if "url" in button:
            return self.open_link(user, button["url"])
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} does nothing in this fake")
        return self.send_callback(user, message, button["callback_data"])

    def send_callback(self, user: SimUser, message: SimMessage, data: str) -> int:
        """A callback query with arbitrary data: what a forged or replayed button sends."""
        query_id = str(self.new_id())
        self.pending_callbacks.add(query_id)
        self.callback_from[query_id] = (user.id, message.chat_id)
        tapped = self.journal[-1] if self.journal else None
        if tapped is not None and tapped.kind == "tap" and tapped.user_id == user.id:  # pressed, not forged
            self.tap_entries[query_id] = tapped
        payload = {
            "id": query_id,
            "from": user.as_api(),
            "message": self.message_api(message),
            "chat_instance": str(abs(message.chat_id)),
            "data": data,
        }
        return self.deliver("callback_query", payload)

    def vote(self, user: SimUser, message: SimMessage, options: list[int] | tuple[int, ...]) -> int:
        """`user` votes in the poll of `message` (an empty list takes the vote back).

        The bot gets a `poll` update with the new counts and, for a non-anonymous poll, a
        `poll_answer` update naming the voter; that one carries no chat."""
        poll = message.poll
        if poll is None:
            raise AssertionError(f"message {message.message_id} has no poll")
        if poll["is_closed"]:
            raise AssertionError("this poll is closed")
        chat = self.chats[message.chat_id]
        if chat.statuses.get(user.id) not in ("creator", "administrator", "member"):
            raise AssertionError(f"{user.first_name} is not in {chat.title}")
        if any(not 0 <= i < len(poll["options"]) for i in options) or (
            len(options) > 1 and not poll["allows_multiple_answers"]
        ):
            raise AssertionError(f"invalid choice {options}")
        votes: dict[int, list[int]] = self.polls[poll["id"]]["votes"]
        if options:
            votes[user.id] = list(options)
        else:
            votes.pop(user.id, None)
        for index, option in enumerate(poll["options"]):
            option["voter_count"] = sum(index in chosen for chosen in votes.values())
        poll["total_voter_count"] = len(votes)
        chosen = ", ".join(poll["options"][i]["text"] for i in options)
        self.note("vote", message.chat_id, user.id, text=chosen)
        last = self.deliver("poll", dict(poll, options=[dict(o) for o in poll["options"]]))
        if not poll["is_anonymous"]:
            answer = {
                "poll_id": poll["id"],
                "user": user.as_api(),
                "option_ids": list(options),
                "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in options],
            }
            last = self.deliver("poll_answer", answer) or last
        return last

    def last_callback_url(self) -> str | None:
        """The URL the last answered button opened, if it opened one."""
        last = list(self.callback_answers)[-1] if self.callback_answers else None
        return self.callback_urls.get(last) if last else None

    def last_callback_answer(self) -> str | None:
        return list(self.callback_answers.values())[-1] if self.callback_answers else None

    def open_link(self, user: SimUser, url: str) -> int:
        parsed = urlparse(url)
        if parsed.netloc != "t.me" or parsed.path.strip("/") != self.bot.username:
            raise AssertionError(f"link {url} does not open this bot")
        payload = parse_qs(parsed.query).get("start", [None])[0]
        return self.start_private(user, payload)

    def start_private(self, user: SimUser, payload: str | None = None) -> int:
        """`user` presses Start (through a deep link when `payload` is given)."""
        user.started, user.blocked = True, False
        chat = self.private_chat(user)
        return self.say(chat, user, f"/start {payload}" if payload else "/start")

    def block(self, user: SimUser) -> int:
        """`user` blocks the bot; Telegram tells the bot with my_chat_member in the private chat."""
        chat = self.private_chat(user)
        user.blocked = True
        update = {
            "chat": chat.as_api(),
            "from": user.as_api(),
            "date": self.now(),
            "old_chat_member": {"status": "member", "user": self.bot.as_api()},
            "new_chat_member": {"status": "kicked", "user": self.bot.as_api(), "until_date": 0},
        }
        return self.deliver("my_chat_member", update)

    def upgrade_to_supergroup(self, chat: SimChat, by: SimUser) -> SimChat:
        """The group becomes a supergroup with a new id; old-id sends then get migrate_to_chat_id."""
        self._chat_counter += 1
        new = SimChat(
            id=-(1000000000000 + self._chat_counter), type="supergroup", title=chat.title, statuses=dict(chat.statuses)
        )
        self.chats[new.id] = new
        self._service(chat, by, {"migrate_to_chat_id": new.id})
        chat.migrated_to = new.id
        self._service(new, by, {"migrate_from_chat_id": chat.id})
        return new

    async def webhook_idle(self) -> None:
        while self._webhook_tasks:
            await asyncio.gather(*list(self._webhook_tasks), return_exceptions=True)
