"""A fake Telegram Bot API server over loopback, faithful enough to catch what real Telegram refuses.

The real python-telegram-bot Application talks to it through `telegram.api_base_url`. Every call is
checked against the official spec; Telegram's rules are enforced, never more leniently than
Telegram: lengths in UTF-16 units, callback data and 100 buttons, strict HTML, 403 in private,
flood control overall, per group and per private chat, group migration, a quoted message that
must exist, who a ForceReply is shown to, forums and closed topics, anonymous administrators,
members present before the bot, a restricted bot, webhook ports. Problems that real Telegram
would reject as a client bug are collected in `flagged`, and tests fail when it is not empty.
The scenario side (people speaking, pressing buttons, joining...) lives in `scenario.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import logging
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from aiohttp import BodyPartReader, web

from bot.simulator import telegram_html
from bot.simulator.spec import CallCheck, UploadedFile, check_call, spec, type_fields

log = logging.getLogger(__name__)

SEND_METHODS = {
    "sendMessage",
    "sendDocument",
    "sendPoll",
    "sendPhoto",
    "sendLocation",
    "sendVenue",
    "sendAudio",
    "sendVideo",
    "sendVoice",
    "sendSticker",
    "sendContact",
    "sendDice",
    "sendMediaGroup",
    "copyMessage",
    "forwardMessage",
}
# 400 answers that only a buggy client gets: tests fail when the bot earns one.
CLIENT_BUG_MARKERS = (
    "can't parse entities",
    "too long",
    "BUTTON_DATA_INVALID",
    "text is empty",
    "MESSAGE_TOO_LONG",
    "unsupported parse_mode",
    "inline keyboard",
    "BOT_COMMAND",
    "poll question",
    "poll must have",
    "poll options",
    "wrong open period",
    "wrong close date",
    "PHOTO_INVALID_DIMENSIONS",
    "IMAGE_PROCESS_FAILED",
    "REPLY_MARKUP_TOO_LONG",
)
MAX_BUTTONS = 100  # in one inline keyboard
MAX_TEXT = 4096
MAX_CAPTION = 1024
GLOBAL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# One private chat: about one message a second, a burst of ten tolerated (a bucket of ten tokens,
# one back each second).
PRIVATE_BURST, PRIVATE_PER_SECOND = 10, 1.0
GROUP_ANONYMOUS_BOT = 1087968824  # the account anonymous administrators' messages come from
TELEGRAM_SERVICE = 777000  # the account a linked channel's automatic forwards come from


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class SimUser:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "fr"
    is_bot: bool = False
    started: bool = False  # pressed Start in a private chat with the bot
    blocked: bool = False

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class SimChat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    first_name: str | None = None
    # user id -> creator | administrator | member | left | kicked
    statuses: dict[int, str] = field(default_factory=dict)
    migrated_to: int | None = None
    pinned: int | None = None  # the pinned message's id
    # A forum (a supergroup with topics): topic id (its creation message's id) -> name and whether
    # it is closed; General has no id and may be closed too. A closed topic takes messages only
    # from administrators (TOPIC_CLOSED for everyone else, the bot included).
    is_forum: bool = False
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    general_closed: bool = False
    # Administrators who remain anonymous: their messages are signed by the group itself.
    anonymous: set[int] = field(default_factory=set)

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.is_forum:
            data["is_forum"] = True
        if self.title is not None:
            data["title"] = self.title
        if self.first_name is not None:
            data["first_name"] = self.first_name
        return data


@dataclass
class SimMessage:
    chat_id: int
    message_id: int
    sender_id: int
    date: int
    text: str = ""  # what people see (HTML already rendered)
    html: str | None = None  # the source, when sent with parse_mode HTML
    reply_markup: dict[str, Any] | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    photo_size: tuple[int, int] | None = None  # width, height (read from the PNG itself)
    poll: dict[str, Any] | None = None
    location: dict[str, float] | None = None
    reply_to: int | None = None
    thread_id: int | None = None  # the forum topic it is in (None: General, or not a forum)
    # A ForceReply's audience: the ids whose client opens the reply field, or None for everyone
    # (selective=False); unset when the message asks nothing.
    prompt_for: frozenset[int] | None = None
    asks_reply: bool = False
    # Written by an anonymous administrator: Telegram shows it as the group's (sender_chat) and
    # from GroupAnonymousBot; `sender_id` keeps the real author, whom their own client knows.
    anonymous: bool = False
    deleted: bool = False
    edits: int = 0
    service: dict[str, Any] | None = None
    at: float = 0.0  # wall-clock time the fake accepted it (benchmarks measure lateness with it)

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def labels(self) -> list[str]:
        return [button["text"] for button in self.buttons()]


@dataclass(frozen=True)
class JournalEntry:
    """One thing people saw happen, for the demo's transcript: a message sent or edited (as it
    was then), a button tapped, the short answer to a tap, a vote."""

    kind: str  # message | edit | tap | answer | vote
    chat_id: int
    user_id: int
    message: SimMessage | None = None
    text: str = ""
    alert: bool = False


@dataclass
class Fault:
    method: str
    kind: str  # "429" | "500" | "slow" | "drop"
    remaining: int
    retry_after: int = 1
    delay: float = 0.0
    chat_id: int | None = None


class FakeTelegramServer:
    """The server and its world: users, chats, messages, pending updates."""

    def __init__(
        self,
        token: str = "123456789:TEST-token_for_the_fake",
        bot_username: str = "relais_test_bot",
        bot_name: str = "Relais",
        flood_control: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot = SimUser(id=int(token.split(":")[0]), first_name=bot_name, username=bot_username, is_bot=True)
        self.flood_control = flood_control
        self.clock = clock
        self.users: dict[int, SimUser] = {
            self.bot.id: self.bot,
            GROUP_ANONYMOUS_BOT: SimUser(GROUP_ANONYMOUS_BOT, "Group", "GroupAnonymousBot", None, is_bot=True),
            TELEGRAM_SERVICE: SimUser(TELEGRAM_SERVICE, "Telegram", None, None),
        }
        self.chats: dict[int, SimChat] = {}
        self.messages: dict[int, list[SimMessage]] = {}
        self.flagged: list[str] = []
        # Unknown parameters: Telegram ignores them, so they are reported rather than refused.
        self.reported: list[tuple[str, str]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # Every call answered with an error: (method, code, description). A 403 in private and a
        # 429 are Telegram's to give and the bot's to handle; anything else is a request refused.
        self.refused: list[tuple[str, int, str]] = []
        self.callback_answers: dict[str, str | None] = {}
        self.callback_urls: dict[str, str] = {}  # answers that open a URL (a deep link to the bot)
        self.pending_callbacks: set[str] = set()
        self.callback_from: dict[str, tuple[int, int]] = {}  # query id -> (user, chat of the message)
        # What happened, in order, when someone keeps it (the demo); None: not kept (tests, benches).
        self.journal: list[JournalEntry] | None = None
        self.tap_entries: dict[str, JournalEntry] = {}  # query id -> the tap it answers, in the journal
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.faults: list[Fault] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.allowed_updates: list[str] | None = None
        self.rate_limited = 0  # 429 answers sent
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self.last_update_id = 0
        self._new_update = asyncio.Condition()
        self._poll_generation = 0
        self._ids = itertools.count(1001)
        self._message_ids: dict[int, itertools.count] = {}
        self._sent_times: deque[float] = deque()
        self._group_sent: dict[int, deque[float]] = {}
        self._private_tokens: dict[int, tuple[float, float]] = {}  # chat -> (tokens, when)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.polls: dict[str, dict[str, Any]] = {}  # poll id -> chat, message, votes by user
        self.files: dict[str, UploadedFile] = {}  # file id -> the file, for a document sent again by id
        self.photo_sizes: dict[str, tuple[int, int]] = {}  # photo file id -> width, height

    # ---------------------------------------------------------------- lifecycle
    async def start(
        self, host: str = "127.0.0.1", port: int = 0, extra_routes: Callable[[web.Application], None] | None = None
    ) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        if extra_routes is not None:
            extra_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ---------------------------------------------------------------- world helpers
    def new_id(self) -> int:
        return next(self._ids)

    def now(self) -> int:
        return int(self.clock())

    def flag(self, problem: str) -> None:
        log.warning("fake telegram flagged: %s", problem)
        self.flagged.append(problem)

    def chat_messages(self, chat_id: int) -> list[SimMessage]:
        return [m for m in self.messages.get(chat_id, []) if not m.deleted]

    def bot_messages(self, chat_id: int) -> list[SimMessage]:
        return [m for m in self.chat_messages(chat_id) if m.sender_id == self.bot.id and m.service is None]

    def record_message(self, chat_id: int, sender_id: int, **fields: Any) -> SimMessage:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = SimMessage(
            chat_id=chat_id, message_id=next(counter), sender_id=sender_id, date=self.now(), at=time.time(), **fields
        )
        self.messages.setdefault(chat_id, []).append(message)
        self.note("message", chat_id, sender_id, message)
        return message

    def note(self, kind: str, chat_id: int, user_id: int, message: SimMessage | None = None, **fields: Any) -> None:
        """Keep an entry of the journal, with the message as it is now (it may be edited later)."""
        if self.journal is not None:
            snapshot = copy.deepcopy(message) if message is not None else None
            self.journal.append(JournalEntry(kind, chat_id, user_id, snapshot, **fields))

    def note_answer(self, query_id: str, chat_id: int, user_id: int, text: str, alert: bool) -> None:
        """A tap's short answer is kept right after its tap: it shows where the person tapped, at
        once, whatever else the same tap sent elsewhere (a private message may reach Telegram first)."""
        tap = self.tap_entries.pop(query_id, None)
        if self.journal is None:
            return
        entry = JournalEntry("answer", chat_id, user_id, None, text=text, alert=alert)
        after = next((index for index, seen in enumerate(self.journal) if seen is tap), None)
        if after is None:
            self.journal.append(entry)
        else:
            self.journal.insert(after + 1, entry)

    def find_message(self, chat_id: int, message_id: int) -> SimMessage | None:
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def message_api(self, message: SimMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.as_api(),
            "from": self.users[message.sender_id].as_api(),
        }
        if message.anonymous:
            data["from"] = self.users[GROUP_ANONYMOUS_BOT].as_api()
            data["sender_chat"] = chat.as_api()
        if message.document is not None:
            self.files.setdefault(f"doc{message.chat_id}_{message.message_id}", message.document)
            data["document"] = {
                "file_id": f"doc{message.chat_id}_{message.message_id}",
                "file_unique_id": f"u{message.chat_id}_{message.message_id}",
                "file_name": message.document.filename,
                "file_size": len(message.document.content),
            }
            # As Telegram does: the type the sender's app gave, from the file's name.
            mime_type = mimetypes.guess_type(message.document.filename)[0]
            if mime_type is not None:
                data["document"]["mime_type"] = mime_type
            if message.text:
                data["caption"] = message.text
        elif message.photo is not None and message.photo_size is not None:
            width, height = message.photo_size
            unique = f"{message.chat_id}_{message.message_id}"
            self.files.setdefault(f"photo{unique}", message.photo)
            self.photo_sizes.setdefault(f"photo{unique}", message.photo_size)
            data["photo"] = [
                {"file_id": f"photo{unique}", "file_unique_id": f"p{unique}", "width": width, "height": height}
            ]
            if message.text:
                data["caption"] = message.text
        elif message.poll is not None:
            data["poll"] = message.poll
        elif message.location is not None:
            data["location"] = dict(message.location)
        elif message.text:
            data["text"] = message.text
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.thread_id is not None:
            data["message_thread_id"] = message.thread_id
            data["is_topic_message"] = True
        replied_id = message.reply_to
        if replied_id is None and message.thread_id is not None and message.message_id != message.thread_id:
            replied_id = message.thread_id  # in a topic, every message "replies" to the topic's first one
        if replied_id:
            replied = self.find_message(message.chat_id, replied_id)
            if replied:
                data["reply_to_message"] = self.message_api(replied)
        if message.service:
            data.update(message.service)
        return data

    # ---------------------------------------------------------------- updates
    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.last_update_id = update_id
        self._updates.append({"update_id": update_id, kind: payload})
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    async def _notify(self) -> None:
        async with self._new_update:
            self._new_update.notify_all()

    def wants(self, kind: str) -> bool:
        default = kind not in ("chat_member", "message_reaction", "message_reaction_count")
        return kind in self.allowed_updates if self.allowed_updates else default

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        # Like Telegram, a new getUpdates ends the one still waiting, whose caller gets 409.
        self._poll_generation += 1
        generation = self._poll_generation
        await self._notify()
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        offset = params.get("offset", 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = params.get("limit", 100)
        timeout = min(params.get("timeout", 0), 50)
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._new_update:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
                remaining = deadline - asyncio.get_running_loop().time()
                if ready or remaining <= 0:
                    return ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), remaining)

    # ---------------------------------------------------------------- HTTP
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        if request.content_type == "multipart/form-data":
            params: dict[str, Any] = {}
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    params[part.name] = UploadedFile(part.filename, await part.read(), part.headers.get("Content-Type"))
                else:
                    params[part.name] = await part.text()
            return params
        return dict(await request.post()) if request.can_read_body else dict(request.query)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        name = request.match_info["method"]
        method = _METHOD_NAMES.get(name.lower())
        raw = await self._read_params(request)
        if method is None:
            self.flag(f"unknown method {name}")
            return _error(ApiError(404, "Not Found"))
        checked = check_call(method, raw)
        assert checked is not None
        self.calls.append((method, checked.params))
        self.reported.extend((method, name) for name in checked.unknown)
        problem = _describe_problems(method, checked)
        if problem:
            self.flag(problem)
            if checked.missing:
                return _error(ApiError(400, f'Bad Request: parameter "{checked.missing[0]}" is required'))
        fault = self._take_fault(method, checked.params.get("chat_id"))
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "drop":
                request.transport.close()  # type: ignore[union-attr]
                raise asyncio.CancelledError
            elif fault.kind == "429":
                self.rate_limited += 1
                return _error(
                    ApiError(
                        429, f"Too Many Requests: retry after {fault.retry_after}", {"retry_after": fault.retry_after}
                    )
                )
            else:
                return _error(ApiError(500, "Internal Server Error"))
        try:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                self.flag(f"{method} is valid Bot API but this fake does not simulate it")
                raise ApiError(501, f"Not Implemented: {method} is not simulated")
            if method in SEND_METHODS:
                self._may_send(checked.params.get("chat_id"), method)
                self._check_flood(checked.params.get("chat_id"))
            result = await handler(checked.params)
        except ApiError as exc:
            self.refused.append((method, exc.code, exc.description))
            if any(marker in exc.description for marker in CLIENT_BUG_MARKERS):
                self.flag(f"{method}: {exc.description}")
            return _error(exc)
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str, chat_id: Any) -> Fault | None:
        for fault in self.faults:
            if fault.method in (method, "*") and fault.remaining > 0 and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                return fault
        return None

    def script_fault(
        self,
        method: str,
        kind: str,
        times: int = 1,
        *,
        retry_after: int = 1,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> Fault:
        """Make the next `times` calls of `method` ("*" for any) fail: 429, 500, slow or drop."""
        fault = Fault(method, kind, times, retry_after=retry_after, delay=delay, chat_id=chat_id)
        self.faults.append(fault)
        return fault

    def _check_flood(self, chat_id: Any) -> None:
        if not self.flood_control:
            return
        now = time.monotonic()
        while self._sent_times and now - self._sent_times[0] >= 1.0:
            self._sent_times.popleft()
        if len(self._sent_times) >= GLOBAL_PER_SECOND:
            self.rate_limited += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None and chat.type != "private":
            window = self._group_sent.setdefault(chat.id, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= GROUP_PER_MINUTE:
                self.rate_limited += 1
                wait = max(1, math.ceil(60.0 - (now - window[0])))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            window.append(now)
        elif chat is not None:
            tokens, since = self._private_tokens.get(chat.id, (float(PRIVATE_BURST), now))
            tokens = min(PRIVATE_BURST, tokens + (now - since) * PRIVATE_PER_SECOND)
            if tokens < 1:
                self.rate_limited += 1
                wait = max(1, math.ceil((1 - tokens) / PRIVATE_PER_SECOND))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            self._private_tokens[chat.id] = (tokens - 1, now)
        self._sent_times.append(now)

    # ---------------------------------------------------------------- rules
    def _target_chat(self, chat_id: Any) -> SimChat:
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            if isinstance(chat_id, int) and chat_id in self.users:
                user = self.users[chat_id]
                if user.blocked:
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not user.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.statuses.get(self.bot.id) not in ("member", "administrator", "creator", "restricted"):
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _may_send(self, chat_id: Any, method: str) -> None:
        """A bot an administrator restricted may not send there (it stays a member)."""
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None and chat.type != "private" and chat.statuses.get(self.bot.id) == "restricted":
            what = {"sendPoll": "polls", "sendDocument": "documents", "sendPhoto": "photos"}.get(
                method, "text messages"
            )
            raise ApiError(400, f"Bad Request: not enough rights to send {what} to the chat")

    def _render(self, text: str, parse_mode: str | None, limit: int, what: str = "message") -> tuple[str, str | None]:
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                visible = telegram_html.parse(text).text
            except telegram_html.HTMLParseError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
            source: str | None = text
        elif parse_mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode} in this fake (use HTML)")
        else:
            visible, source = text, None
        if what == "message" and not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if telegram_html.utf16_length(visible) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return visible, source

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        if not isinstance(markup, dict):
            return None
        if sum(len(row) for row in markup.get("inline_keyboard", [])) > MAX_BUTTONS:
            raise ApiError(400, "Bad Request: REPLY_MARKUP_TOO_LONG")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                actions = [k for k in button if k not in ("text", "icon_custom_emoji_id", "style")]
                if len(actions) != 1:
                    self.flag(f"inline button {button.get('text')!r} must have exactly one action, has {actions}")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        return markup

    # ---------------------------------------------------------------- methods
    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot.as_api() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return await self._get_updates(params)

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        url = urlparse(params["url"]) if params["url"] else None
        # Loopback is this fake's own test network; Telegram itself reaches only these ports.
        if url is not None and url.hostname not in ("127.0.0.1", "localhost", "::1"):
            if url.scheme != "https":
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
            if (url.port or 443) not in (443, 80, 88, 8443):
                raise ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        self.webhook_url = params["url"] or None
        self.webhook_secret = params.get("secret_token")
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params["chat_id"])
        text, source = self._render(params["text"], params.get("parse_mode"), MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._quoted(chat, params.get("reply_parameters"))
        thread = self._placement(chat, params, reply_to)
        message = self.record_message(
            chat.id, self.bot.id, text=text, html=source, reply_markup=markup, reply_to=reply_to, thread_id=thread
        )
        self._set_prompt_audience(chat, message, params.get("reply_markup"))
        return self.message_api(message)

    def _placement(self, chat: SimChat, params: dict[str, Any], quoted: int | None) -> int | None:
        """The topic a message goes to: the one named, else the quoted message's, else General.
        A closed one refuses the bot unless it is an administrator."""
        named = params.get("message_thread_id")
        if not chat.is_forum:
            if named is not None:
                raise ApiError(400, "Bad Request: message thread not found")
            return None
        thread = named
        if thread is None and quoted is not None:
            replied = self.find_message(chat.id, quoted)
            thread = replied.thread_id if replied is not None else None
        admin = chat.statuses.get(self.bot.id) in ("administrator", "creator")
        if thread is None:
            if chat.general_closed and not admin:
                raise ApiError(400, "Bad Request: TOPIC_CLOSED")
            return None
        topic = chat.topics.get(thread)
        if topic is None:
            raise ApiError(400, "Bad Request: message thread not found")
        if topic["closed"] and not admin:
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        return thread

    def _quoted(self, chat: SimChat, reply_parameters: Any) -> int | None:
        """The message a send replies to: it must exist in that chat, unless the bot allowed
        sending without it (then the message goes as if it replied to nothing)."""
        if not isinstance(reply_parameters, dict) or "message_id" not in reply_parameters:
            return None
        if reply_parameters.get("chat_id") not in (None, chat.id):
            self.flag("reply_parameters.chat_id names another chat: Relais never quotes across chats")
        quoted = self.find_message(chat.id, reply_parameters["message_id"])
        if quoted is None:
            if reply_parameters.get("allow_sending_without_reply"):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return quoted.message_id

    def _set_prompt_audience(self, chat: SimChat, message: SimMessage, markup: Any) -> None:
        """Who Telegram shows a ForceReply to. Selective: the users mentioned in the text (an
        @username, or a tg://user?id= link) and the sender of the message it replies to, and nobody
        else; not selective: every member of the chat."""
        if not isinstance(markup, dict) or not markup.get("force_reply"):
            return
        message.asks_reply = True
        if not markup.get("selective"):
            message.prompt_for = None
            if chat.type != "private":
                self.flag(f"ForceReply(selective=False) in {chat.title}: every member's keyboard switches to a reply")
            return
        audience: set[int] = set()
        for link in telegram_html.parse(message.html).links if message.html else []:
            if link.startswith("tg://user?id="):
                audience.add(int(link.removeprefix("tg://user?id=")))
        usernames = {user.username.lower(): user.id for user in self.users.values() if user.username}
        for name in re.findall(r"@([A-Za-z][A-Za-z0-9_]{3,31})", message.text):
            if name.lower() in usernames:
                audience.add(usernames[name.lower()])
        if message.reply_to is not None:
            quoted = self.find_message(chat.id, message.reply_to)
            if quoted is not None:
                audience.add(quoted.sender_id)
        audience.discard(self.bot.id)
        message.prompt_for = frozenset(audience)
        if chat.type != "private" and not audience:
            self.flag(f"ForceReply(selective=True) in {chat.title} neither quotes nor mentions anyone: nobody sees it")

    def shows_prompt(self, message: SimMessage, user_id: int) -> bool:
        """Whether `user_id`'s client opens the reply field for this ForceReply message."""
        if not message.asks_reply:
            return False
        chat = self.chats[message.chat_id]
        return chat.type == "private" or message.prompt_for is None or user_id in message.prompt_for

    async def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params["chat_id"])
        document = params["document"]
        if isinstance(document, str) and document in self.files:  # a file Telegram already has, by its id
            document = self.files[document]
        if not isinstance(document, UploadedFile):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption, source = ("", None)
        if params.get("caption"):
            caption, source = self._render(params["caption"], params.get("parse_mode"), MAX_CAPTION, "caption")
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._quoted(chat, params.get("reply_parameters"))
        thread = self._placement(chat, params, reply_to)
        message = self.record_message(
            chat.id,
            self.bot.id,
            text=caption,
            html=source,
            document=document,
            reply_markup=markup,
            reply_to=reply_to,
            thread_id=thread,
        )
        return self.message_api(message)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo uploaded as a file: Telegram's limits (10 MB; width + height at most 10,000;
        sides at most 20 to 1). Only PNG is read here, which is what Relais sends."""
        chat = self._target_chat(params["chat_id"])
        reply_to = self._quoted(chat, params.get("reply_parameters"))
        thread = self._placement(chat, params, reply_to)
        photo = params["photo"]
        if isinstance(photo, str) and photo in self.files:  # a photo Telegram already has, by its id
            caption, source = ("", None)
            if params.get("caption"):
                caption, source = self._render(params["caption"], params.get("parse_mode"), MAX_CAPTION, "caption")
            markup = self._check_markup(params.get("reply_markup"))
            message = self.record_message(
                chat.id,
                self.bot.id,
                text=caption,
                html=source,
                photo=self.files[photo],
                photo_size=self.photo_sizes.get(photo, (640, 480)),
                reply_markup=markup,
                reply_to=reply_to,
                thread_id=thread,
            )
            return self.message_api(message)
        if not isinstance(photo, UploadedFile):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        content = bytes(photo.content)
        if len(content) > 10 * 1024 * 1024:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        if content[:8] != b"\x89PNG\r\n\x1a\n" or content[12:16] != b"IHDR":
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption, source = ("", None)
        if params.get("caption"):
            caption, source = self._render(params["caption"], params.get("parse_mode"), MAX_CAPTION, "caption")
        message = self.record_message(
            chat.id,
            self.bot.id,
            text=caption,
            html=source,
            photo=photo,
            photo_size=(width, height),
            reply_to=reply_to,
            thread_id=thread,
        )
        return self.message_api(message)

    def _editable(self, params: dict[str, Any]) -> SimMessage:
        chat = self._target_chat(params.get("chat_id"))
        message = self.find_message(chat.id, params.get("message_id", 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.sender_id != self.bot.id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(params)
        text, source = self._render(params["text"], params.get("parse_mode"), MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message",
            )
        message.text, message.html, message.reply_markup = text, source, markup
        message.edits += 1
        self.note("edit", message.chat_id, self.bot.id, message)
        return self.message_api(message)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.reply_markup = markup
        message.edits += 1
        self.note("edit", message.chat_id, self.bot.id, message)
        return self.message_api(message)

    async def _m_deleteMessage(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params["chat_id"])
        message = self.find_message(chat.id, params["message_id"])
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = params["callback_query_id"]
        if query_id not in self.pending_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and telegram_html.utf16_length(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.pending_callbacks.discard(query_id)
        self.callback_answers[query_id] = text
        user_id, chat_id = self.callback_from.pop(query_id, (0, 0))
        if text:
            self.note_answer(query_id, chat_id, user_id, text, bool(params.get("show_alert")))
        if params.get("url"):
            self.callback_urls[query_id] = params["url"]
        return True

    async def _m_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params["chat_id"])
        return chat.as_api() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def member_api(self, chat: SimChat, user_id: int) -> dict[str, Any]:
        status = chat.statuses.get(user_id, "left")
        user = self.users[user_id].as_api()
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": user_id in chat.anonymous}
        if status == "administrator":
            data: dict[str, Any] = {"status": "administrator", "user": user}
            for f in type_fields("ChatMemberAdministrator"):
                if f["required"] and f["types"] == ["Boolean"]:
                    data[f["name"]] = f["name"] not in ("can_be_edited", "is_anonymous")
            data["is_anonymous"] = user_id in chat.anonymous
            data["can_pin_messages"] = True  # optional in the API; an administrator of a group may pin
            return data
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        if status == "restricted":  # may read, may not send
            data = {"status": "restricted", "user": user, "until_date": 0}
            for f in type_fields("ChatMemberRestricted"):
                if f["required"] and f["types"] == ["Boolean"]:
                    data[f["name"]] = f["name"] == "is_member"
            return data
        return {"status": status if status in ("member", "left") else "left", "user": user}

    async def _m_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params["chat_id"])
        if params["user_id"] not in self.users:
            raise ApiError(400, "Bad Request: user not found")
        return self.member_api(chat, params["user_id"])

    async def _m_getChatMemberCount(self, params: dict[str, Any]) -> int:
        """Everyone in the group, bots included: people who were there before the bot too."""
        chat = self._target_chat(params["chat_id"])
        return sum(status in ("creator", "administrator", "member", "restricted") for status in chat.statuses.values())

    async def _m_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._target_chat(params["chat_id"])
        return [
            self.member_api(chat, uid)
            for uid, status in chat.statuses.items()
            if status in ("creator", "administrator")
        ]

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            name = command.get("command", "")
            if not (
                1 <= len(name) <= 32 and all(c.islower() or c.isdigit() or c == "_" for c in name) and name.isascii()
            ):
                self.flag(f"setMyCommands: invalid command name {name!r}")
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, params.get("language_code", ""))] = commands
        return True

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands.pop((scope, params.get("language_code", "")), None)
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._target_chat(params["chat_id"])
        return True

    async def _m_sendPoll(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params["chat_id"])
        if chat.type == "channel" and params.get("is_anonymous") is False:
            raise ApiError(400, "Bad Request: non-anonymous polls can't be sent to channel chats")
        question, _ = self._render(params["question"], params.get("question_parse_mode"), MAX_TEXT, "poll question")
        if not 1 <= len(question) <= 300:
            raise ApiError(400, "Bad Request: poll question length must not exceed 300")
        options = params["options"]
        if not 2 <= len(options) <= 12:
            raise ApiError(400, "Bad Request: poll must have 2-12 options")
        texts = []
        for option in options:
            text = option.get("text", "") if isinstance(option, dict) else str(option)
            if not 1 <= len(text) <= 100:
                raise ApiError(400, "Bad Request: poll options length must not exceed 100")
            texts.append(text)
        open_period, close_date = params.get("open_period"), params.get("close_date")
        if open_period is not None and not 5 <= open_period <= 2628000:
            raise ApiError(400, "Bad Request: wrong open period specified")
        if close_date is not None and not 5 <= close_date - self.now() <= 2628000:
            raise ApiError(400, "Bad Request: wrong close date specified")
        poll_id = str(self.new_id() * 7919)
        poll: dict[str, Any] = {
            "id": poll_id,
            "question": question,
            "total_voter_count": 0,
            "is_closed": bool(params.get("is_closed")),
            "is_anonymous": params.get("is_anonymous", True),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": bool(params.get("allows_multiple_answers")),
            "allows_revoting": True,
            "members_only": False,
            "options": [
                {"persistent_id": f"{poll_id}-{i}", "text": text, "voter_count": 0} for i, text in enumerate(texts)
            ],
        }
        if open_period is not None:
            poll["open_period"] = open_period
            poll["close_date"] = self.now() + open_period
        elif close_date is not None:
            poll["close_date"] = close_date
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._quoted(chat, params.get("reply_parameters"))
        thread = self._placement(chat, params, reply_to)
        message = self.record_message(
            chat.id, self.bot.id, poll=poll, reply_markup=markup, reply_to=reply_to, thread_id=thread
        )
        self.polls[poll_id] = {"chat_id": chat.id, "message_id": message.message_id, "votes": {}}
        return self.message_api(message)

    async def _m_stopPoll(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params["chat_id"])
        message = self.find_message(chat.id, params["message_id"])
        if message is None or message.poll is None:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        if message.sender_id != self.bot.id:
            raise ApiError(400, "Bad Request: poll can't be stopped")
        if message.poll["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        message.poll["is_closed"] = True
        # An edit without reply_markup takes the inline keyboard away (as editMessageText does).
        message.reply_markup = self._check_markup(params.get("reply_markup"))
        self.note("edit", message.chat_id, self.bot.id, message)
        return message.poll

    async def _m_pinChatMessage(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params["chat_id"])
        message = self.find_message(chat.id, params["message_id"])
        if message is None:
            raise ApiError(400, "Bad Request: message to pin not found")
        if chat.type != "private" and chat.statuses.get(self.bot.id) not in ("administrator", "creator"):
            raise ApiError(400, "Bad Request: not enough rights to manage pinned messages in the chat")
        chat.pinned = message.message_id
        return True

    async def _m_leaveChat(self, params: dict[str, Any]) -> bool:
        """The bot leaves a group: Telegram tells it with my_chat_member, as for a removal."""
        chat = self._target_chat(params["chat_id"])
        if chat.type == "private":
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        self.bot_left(chat)
        return True

    def bot_left(self, chat: SimChat) -> None:
        """Overridden by the scenario side, which delivers the update."""
        chat.statuses[self.bot.id] = "left"

    async def _m_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_logOut(self, params: dict[str, Any]) -> bool:
        return True


_METHOD_NAMES = {name.lower(): name for name in spec()["methods"]}


def _describe_problems(method: str, checked: CallCheck) -> str:
    parts = []
    if checked.missing:
        parts.append(f"missing required {checked.missing}")
    if checked.wrong:
        parts.append(f"wrong types {checked.wrong}")
    return f"{method}: " + "; ".join(parts) if parts else ""


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.code)
