"""What the Telegram handlers share: who is asking and from where, what the bot says back (queued,
sent after the update commits), the facilitator check, refusals, button data, wake-ups and
deep-link openers. The dialogue router is beside it (dialogue_router.py)."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard, TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    ChatMember,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    MessageEntity,
    Poll,
    PollAnswer,
    ReplyParameters,
    Update,
    User,
)
from telegram import MaybeInaccessibleMessage as PressedMessage
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.domain import facilitators
from bot.domain import meetings as m
from bot.domain import proposals as p
from bot.domain.deeplinks import PROPOSE, group_payload, start_url
from bot.domain.errors import RefusalError
from bot.domain.facilitators import AdminLookup
from bot.domain.groups import find_group, find_group_by_id
from bot.domain.people import (
    GROUP_ANONYMOUS_BOT,
    TELEGRAM_SERVICE,
    UserInfo,
    find_member_by_username,
    find_person,
    note_member_count,
    person_in_group,
)
from bot.outbox import say as outbox
from bot.outbox.say import OnSent, after_sent
from bot.services import db, fetch_admin_ids, fetch_anonymous_admin_ids, fetch_member_count, services
from bot.ui import callbacks as cb
from bot.ui.card import card_text
from bot.ui.i18n import pick_language, plain, t
from bot.ui.meetings import announcement_text, rsvp_keyboard
from bot.ui.mentions import mention
from bot.ui.proposals import change_sentence
from storage.models import ActionItem, Group, Meeting, Person, Proposal, ProposalChange, RideOffer, RideRequest

log = logging.getLogger(__name__)
Tap = TypeVar("Tap", bound=cb.Callback)
Owned = TypeVar("Owned", Meeting, Proposal, ActionItem)  # what a button may name, each in a group


@dataclass(frozen=True)
class LinkOpener:
    """What /start does with a signed deep link of one purpose: `subject` says whether the link
    names a meeting (its id is passed) or a group (the linked Group is passed)."""

    subject: str
    open: Callable[[Update, Any, Any], Awaitable[None]]


# Filled by the features at registration: deep-link purpose -> opener. /start reads it, so the
# start handler needs no other feature's handler.
LINK_OPENERS: dict[str, LinkOpener] = {}


def on_link(purpose: str, subject: str, open_: Callable[[Update, Any, Any], Awaitable[None]]) -> None:
    """What /start does with a signed deep link of this purpose (at registration)."""
    LINK_OPENERS[purpose] = LinkOpener(subject, open_)


Context = ContextTypes.DEFAULT_TYPE

GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
# Member statuses that mean someone is in the group.
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)


# The parts of an update a handler reads, typed as the handler can rely on them. python-telegram-bot
# types an update's sender, chat, message and pressed button as optional, since an update carries
# only some of them; each handler is registered (by command, button pattern or filter) for updates
# that do carry what it reads. These say so once, and fail loudly if a handler were ever
# registered for updates that do not.


Part = TypeVar("Part")


class MissingPartError(LookupError):
    """A handler got an update without what it is registered for (a programming error)."""


def _present(part: Part | None, what: str) -> Part:
    if part is None:
        raise MissingPartError(f"an update without {what}")
    return part


def user_of(update: Update) -> User:
    """Who sent the message or pressed the button."""
    return _present(update.effective_user, "a sender")


def chat_of(update: Update) -> Chat:
    """The chat the update comes from."""
    return _present(update.effective_chat, "a chat")


def message_of(update: Update) -> Message:
    """The message that came (a command, an answer to a question, a document)."""
    return _present(update.effective_message, "a message")


def query_of(update: Update) -> CallbackQuery:
    """The pressed button's query (its data, its id to answer)."""
    return _present(update.callback_query, "a pressed button")


def poll_of(update: Update) -> Poll:
    """A poll's new counts (a `poll` update)."""
    return _present(update.poll, "a poll")


def poll_answer_of(update: Update) -> PollAnswer:
    """A vote in a poll that is not anonymous (a `poll_answer` update)."""
    return _present(update.poll_answer, "a vote")


def pressed_message(update: Update) -> PressedMessage:
    """The message whose button was pressed: its chat and id (its content may be out of reach,
    for a message over 48 hours old)."""
    return _present(query_of(update).message, "the message of a button (inline mode, which Relais does not use)")


# What the bot says. Nothing here waits for Telegram: it is queued with the update and sent once
# the update's transaction has committed (bot/outbox/after_commit.py), in order within each chat.


def say(chat_id: int, text: str, on_sent: OnSent | None = None, *, always: bool = False, **kwargs: Any) -> None:
    """A message to a chat; `on_sent(session, message)` runs once it is out. `always`: sent even
    if the update fails (the apology)."""
    outbox.reply_in(chat_id, text, on_sent, always, **kwargs)


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message is in (None: General, or a group without topics). Only a topic
    message's thread is a topic: in other supergroups a reply thread has an id too."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def replied_to(message: Message | None) -> Message | None:
    """The message someone really replied to. In a forum every message of a topic carries the
    topic's creation message as `reply_to_message` although the person replied to nothing."""
    if message is None or message.reply_to_message is None:
        return None
    replied = message.reply_to_message
    if replied.forum_topic_created is not None or (
        message.is_topic_message and replied.message_id == message.message_thread_id
    ):
        return None
    return replied


def is_person(user: User | None) -> TypeGuard[User]:
    """Someone who can be a member: not a bot, not one of Telegram's own accounts."""
    return user is not None and not user.is_bot and user.id not in (TELEGRAM_SERVICE, GROUP_ANONYMOUS_BOT)


def someone_named(update: Update) -> User | None:
    """Whom a command names without a @username: someone picked in Telegram's mention list (a
    text_mention, for people who have no username), or the author of the message the command
    really replies to (a person, not a channel or an anonymous administrator)."""
    message = update.effective_message
    if message is None:
        return None
    for entity in message.entities or ():
        if entity.type == MessageEntity.TEXT_MENTION and is_person(entity.user):
            return entity.user
    replied = replied_to(message)
    if replied is not None and replied.sender_chat is None and is_person(replied.from_user):
        return replied.from_user
    return None


async def named_member(update: Update, group: Group) -> Person | None:
    """The current member a command names: picked in Telegram's mention list, the author of the
    message it replies to, or a @pseudo as its first word (/attestation, /sms)."""
    named = someone_named(update)
    if named is not None:
        found = await person_in_group(db(), group, named.id)
    else:
        username = command_args(update).split(" ")[0].lstrip("@")
        found = await find_member_by_username(db(), group, username) if username else None
    return found[0] if found is not None and found[1].status == "member" else None


def answering(update: Update) -> dict[str, Any]:
    """Where an answer to this update goes: in the topic it came from and, for a message in a
    group (or a command in private), quoting it: everyone sees what is answered, and a selective
    ForceReply opens for its author. The quote is dropped, not the answer, if the message is gone."""
    message = update.effective_message
    if message is None:
        return {}
    where: dict[str, Any] = {}
    if (thread := topic_of(message)) is not None:
        where["message_thread_id"] = thread
    is_command = bool(message.text and message.text.startswith("/"))
    if update.callback_query is None and (message.chat.type != Chat.PRIVATE or is_command):
        where["reply_parameters"] = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    return where


def reply(update: Update, text: str, on_sent: OnSent | None = None, *, always: bool = False, **kwargs: Any) -> None:
    """A message in the chat the update comes from, answering it (see `answering`)."""
    say(chat_of(update).id, text, on_sent, always=always, **(answering(update) | kwargs))


def ask(
    update: Update, text: str, on_sent: OnSent | None = None, *, placeholder: str | None = None, **kwargs: Any
) -> None:
    """A question to answer by replying (a step of a guided dialogue). In a group Telegram opens
    the reply field only for the people a question quotes or names: after a command it quotes the
    command; after a tap it names who tapped (a link on their first name, `{name}` in the text's
    catalogue entry, which the caller fills with `asker_name`). Never for every member."""
    markup = ForceReply(selective=True, input_field_placeholder=placeholder)
    reply(update, text, on_sent, reply_markup=markup, **kwargs)


def asker_name(update: Update) -> str:
    """Who asked, as a question after a tap names them: a link in groups (so that the reply field
    opens for them), their first name in private."""
    user = user_of(update)
    if is_group_chat(update):
        return mention(user.id, user.first_name)
    return user.first_name


def send(chat_id: int, method: str, on_sent: OnSent | None = None, **kwargs: Any) -> None:
    """Any other Bot API call to a chat (a document, a poll), by python-telegram-bot's method name."""
    outbox.send_in(chat_id, method, on_sent, **kwargs)


def edit(chat_id: int, message_id: int, text: str, **kwargs: Any) -> None:
    """New text (and buttons) for a message the bot sent."""
    outbox.send_in(chat_id, "edit_message_text", message_id=message_id, text=text, **kwargs)


def _tapped_message(update: Update) -> tuple[int, int]:
    message = pressed_message(update)
    return message.chat.id, message.message_id


def edit_tapped(update: Update, text: str, **kwargs: Any) -> None:
    """New text for the message whose button was pressed."""
    chat_id, message_id = _tapped_message(update)
    edit(chat_id, message_id, text, **kwargs)


def edit_tapped_buttons(update: Update, reply_markup: Any) -> None:
    """New buttons only, for the message whose button was pressed."""
    chat_id, message_id = _tapped_message(update)
    outbox.send_in(chat_id, "edit_message_reply_markup", message_id=message_id, reply_markup=reply_markup)


def answer(update: Update, text: str | None = None, *, always: bool = False, **kwargs: Any) -> None:
    """The short confirmation a person sees after pressing a button (show_alert, url)."""
    query = query_of(update)
    outbox.answer_tap(query.id, {"text": text, **kwargs}, always, by=query.from_user.id)


def user_info(user: User) -> UserInfo:
    return UserInfo(
        telegram_id=user.id, first_name=user.first_name, username=user.username, language_code=user.language_code
    )


def command_args(update: Update) -> str:
    """What follows the command name: '/suivi 12 transmise X' -> '12 transmise X' (a line break
    after the command counts as a space)."""
    message = update.effective_message
    parts = (message.text or "").split(None, 1) if message else []
    return parts[1].strip() if len(parts) == 2 else ""


def is_group_chat(update: Update) -> bool:
    return update.effective_chat is not None and chat_of(update).type in GROUP_TYPES


async def current_group(update: Update) -> Group | None:
    """The active group this update comes from, if any."""
    if not is_group_chat(update):
        return None
    # Asked by the presence tracking, the feature and the router in turn: one query per update.
    memo = db().info.setdefault("relais.current_group", {})
    chat_id = chat_of(update).id
    if chat_id not in memo:
        memo[chat_id] = await find_group(db(), chat_id)
    return memo[chat_id]


def person_language(person: Person, group: Group) -> str:
    """The language to write to a member in private: theirs when Relais has it, else the group's."""
    return pick_language(person.language_code, group.language)


Wording = Callable[[str], tuple[str, InlineKeyboardMarkup | None]]  # language -> text, buttons


async def tell_runners(
    context: Context, meeting: Meeting, group: Group, kind: str, message: Wording, besides: Person | None = None
) -> list[Person]:
    """A durable notice, in private and in each one's language, to those who run the meeting
    (`besides`, who wrote it, excepted); returns those it reached."""
    now = services(context).clock.now()
    reached = []
    for runner in await facilitators.meeting_runners(db(), meeting, group, admin_lookup(context)):
        if besides is not None and runner.id == besides.id:
            continue
        text, markup = message(person_language(runner, group))
        if outbox.notify(db(), runner, text, kind, now, reply_markup=markup):
            reached.append(runner)
    return reached


def language_for(update: Update, context: Context, group: Group | None = None) -> str:
    """The group's language in groups; the person's Telegram language in private."""
    default = services(context).settings.bot.default_language
    if group is not None:
        return group.language
    if update.effective_chat is not None and chat_of(update).type == Chat.PRIVATE and update.effective_user:
        return pick_language(user_of(update).language_code, default)
    return default


async def admin_ids(context: Context, chat_id: int) -> frozenset[int]:
    return await fetch_admin_ids(context.bot, services(context), chat_id)


COUNT_FRESH = timedelta(minutes=10)  # Telegram's member count, asked again after this


async def refresh_member_count(context: Context, group: Group) -> None:
    """Ask Telegram how many members the group has (people there before Relais included), when
    the count kept is older than a few minutes; kept on the group for rates, votes and jobs."""
    now = services(context).clock.now()
    if group.member_count_at is not None and now - group.member_count_at < COUNT_FRESH:
        return
    note_member_count(group, await fetch_member_count(context.bot, services(context), group.chat_id), now)


async def in_group_says_telegram(context: Context, group: Group, user_id: int) -> bool:
    """Whether Telegram says this person is in the group now. A deep link can be forwarded to
    anyone, and a member who left keeps the old ones: opening a link proves nothing."""
    try:
        member = await context.bot.get_chat_member(group.chat_id, user_id)
    except TelegramError as exc:
        log.info("could not check a member of chat %s: %s", group.chat_id, exc.__class__.__name__)
        return False
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in PRESENT


def forget_admins(context: Context, chat_id: int) -> None:
    services(context).admin_cache.pop(chat_id, None)


def admin_lookup(context: Context) -> AdminLookup:
    """Telegram's administrators of a chat, asked through this update's bot (cached)."""

    async def lookup(chat_id: int) -> frozenset[int]:
        return await admin_ids(context, chat_id)

    return lookup


async def is_facilitator(context: Context, group: Group, user_id: int) -> bool:
    """The rule of bot/domain/facilitators.py, with Telegram asked for the administrators."""
    return await facilitators.is_facilitator(db(), group, user_id, admin_lookup(context))


async def require_facilitator(update: Update, context: Context) -> Group | None:
    """The group, when the update comes from a facilitator in an active group; otherwise say why."""
    message, user = message_of(update), user_of(update)
    if message is None or user is None:
        return None
    group = await current_group(update)
    if group is None:
        reply(update, t(language_for(update, context), "setup.only_in_group"))
        return None
    if not await is_facilitator(context, group, user.id):
        reply(update, t(group.language, "facilitator.only"))
        return None
    return group


async def button_group(update: Update, context: Context, group_id: int | None) -> tuple[Group, str] | None:
    """The active group a pressed button's object belongs to, and the language to answer in, when
    the button was pressed in that group or in private; otherwise the press is answered as
    invalid (a forged button, another group's id) and None is returned."""
    query, user = query_of(update), user_of(update)
    group = await find_group_by_id(db(), group_id)
    in_group = is_group_chat(update)
    # Pressed in a group: the object must be that group's (its chat is the one pressed in).
    if group is None or (in_group and group.chat_id != chat_of(update).id):
        default = services(context).settings.bot.default_language
        language = group.language if group is not None else pick_language(user.language_code, default)
        outbox.answer_tap(query.id, {"text": plain(language, "button.invalid")}, by=user.id)
        return None
    return group, group.language if in_group else pick_language(user.language_code, group.language)


async def refuse(update: Update, language: str, error: RefusalError, example: str | None = None) -> None:
    """Answer a refused command in plain French, with an example when one helps."""
    text = t(language, error.key, **error.values)
    if example:
        text += "\n" + t(language, example)
    reply(update, text)


def propose_url(context: Context, group: Group) -> str:
    """The link that opens the private "💡 Faire une proposition" dialogue for this group."""
    svc = services(context)
    return start_url(svc.bot_username, group_payload(svc.link_secret, group.id, PROPOSE))


def wake_at(context: Context, moments: list[datetime]) -> None:
    """Ask the dispatcher to run at these moments (the database holds what is due): once the
    update commits, or at once outside one."""
    if outbox.collecting():
        outbox.plan(moments)
    else:
        services(context).wake_at(moments)


# What handlers say besides replies, by intent (bot/outbox/say.py): no feature handler imports
# bot/outbox itself.


def send_file_later(
    context: Context,
    make: Callable[[], Awaitable[bytes | None]],
    chat_ids: list[int],
    method: str,
    field: str,
    filename: str,
    **options: object,
) -> None:
    """A file made once the update has committed, outside its transaction and SQLite's writer
    turn (a chart, a PDF: a quarter of a second of drawing), then sent to each chat: written down
    in a short transaction of its own, so durable from then on. None made: nothing sent."""
    svc = services(context)

    async def made_then_sent() -> None:
        content = await make()
        if content is None:
            return
        with outbox.unit_of_work(svc.sender, svc.refresher, svc.wake_at) as work:
            for chat_id in chat_ids:
                made: dict[str, object] = {field: InputFile(io.BytesIO(content), filename=filename), **options}
                outbox.send_in(chat_id, method, None, **made)
            async with svc.update_turn(), svc.sessionmaker.begin() as session:
                await work.write_down(session, svc.clock.now())
            work.committed = True

    outbox.later(made_then_sent)


def notify(
    context: Context, to: Person | Group, text: str, kind: str, reply_markup: InlineKeyboardMarkup | None = None
) -> bool:
    """Durable and once, to a person in private or to a group, sent after the commit; False for
    someone Relais cannot write to (or who paused its messages), or a group it has left."""
    return outbox.notify(db(), to, text, kind, services(context).clock.now(), reply_markup)


async def follow(context: Context, chat_id: int, subject_id: int, **messages: int) -> None:
    """Keep these messages of a chat, named by refresh kind (`announcement=42`), in step with
    their subject's state: coalesced edits, spaced."""
    await outbox.follow(db(), chat_id, subject_id, messages, services(context).clock.now())


async def tell_rides_changed(context: Context, group: Group, meeting: Meeting, moved_by: timedelta | None) -> None:
    """The carpool's notices when its meeting is cancelled (`moved_by` None) or moved."""
    await outbox.tell_rides_changed(db(), group, meeting, moved_by, services(context).clock.now())


async def ask_drivers(context: Context, group: Group, meeting: Meeting, request: RideRequest) -> RideOffer | None:
    """A ride asked for: the nearest driver with a free seat is asked, in private."""
    svc = services(context)
    return await outbox.ask_drivers(db(), group, meeting, request, svc.settings.carpool.radius_km, svc.clock.now())


async def release_held(context: Context, person: Person) -> int:
    """Reports held for a facilitator who had not opened the private chat go out now; how many."""
    return await outbox.release_held(db(), person.id, services(context).clock.now())


def saying_now() -> bool:
    """Whether an update is being handled here (what it says waits for its commit)."""
    return outbox.collecting()


waiting_to_go = outbox.waiting_to_go  # what waits to go out (/healthz, /metrics)


def nowhere_to_answer(error: BaseException | None) -> bool:
    """Whether Telegram's answer says the chat cannot be written to (blocked, the bot removed)."""
    return outbox.classify(error).outcome is outbox.Outcome.BLOCKED


# For an entry point other than an update (the dashboard), which holds its own session.
unit_of_work = outbox.unit_of_work
notify_in_session = outbox.notify
follow_in_session = outbox.follow  # the same, for the web's entry points (no update, no context)
plan = outbox.plan
poll_record = outbox.poll_record  # what a native poll records once Telegram has it


async def plan_jobs(context: Context, meeting_id: int | None = None, group_id: int | None = None) -> None:
    """After a meeting (or a group's meetings) changed: one dispatcher run at each pending due time."""
    wake_at(context, await outbox.pending_due_times(db(), meeting_id=meeting_id, group_id=group_id))


async def publish_change(
    update: Update,
    context: Context,
    group: Group,
    proposal: Proposal,
    change: ProposalChange,
    target: Proposal | None = None,
) -> str:
    """The change in one sentence for the group (returned, for the caller to post or edit in),
    and in private for the author and followers, through the outbox."""
    wake_at(context, [await p.plan_news(db(), group, change, services(context).clock.now())])
    return change_sentence(group.language, proposal, change.state, change.note, change.progress, target)


async def announce(group: Group, meeting: Meeting) -> None:
    """Post the meeting's announcement with its answers so far and its buttons; its counts are
    edited in that message from then on."""
    say(
        group.chat_id,
        announcement_text(group, meeting, await m.counts(db(), meeting), await m.series_position(db(), meeting)),
        on_sent=after_sent("announcement", id=meeting.id),
        reply_markup=rsvp_keyboard(group.language, meeting),
    )


async def publish(context: Context, group: Group, meeting: Meeting) -> None:
    """Post the announcement with its buttons and plan the jobs for its events."""
    await announce(group, meeting)
    await plan_jobs(context, meeting_id=meeting.id)


async def facilitator_names(context: Context, group: Group) -> list[str]:
    """The first names the card gives as its facilitation: the group's Telegram administrators
    and the members it named with /animateur (the creator of a group is usually its facilitator
    and is never named)."""
    people = await facilitators.group_facilitators(db(), group, admin_lookup(context))
    hidden = await fetch_anonymous_admin_ids(context.bot, services(context), group.chat_id)
    return sorted(person.first_name for person in facilitators.nameable(people, hidden))


async def send_card(context: Context, group: Group, person: Person) -> None:
    """The group's card in private, with the next meeting and its buttons (a newcomer, or someone
    who opened the private chat from the group's link)."""
    now = services(context).clock.now()
    upcoming = await m.upcoming_meetings(db(), group, now, limit=1)
    meeting = upcoming[0] if upcoming else None
    names = await facilitator_names(context, group)
    language = person_language(person, group)
    markup = rsvp_keyboard(language, meeting) if meeting is not None else None
    say(person.telegram_id, card_text(language, group, names, meeting), reply_markup=markup)


async def next_meeting_here(update: Update, context: Context) -> tuple[Group, Meeting] | None:
    """The group this command was typed in and its next meeting; otherwise say why there is none."""
    group = await current_group(update)
    message = update.effective_message
    if message is None:
        return None
    if group is None:
        reply(update, t(language_for(update, context), "setup.only_in_group"))
        return None
    upcoming = await m.upcoming_meetings(db(), group, services(context).clock.now(), limit=1)
    if not upcoming:
        reply(update, t(group.language, "meeting.none"))
        return None
    return group, upcoming[0]


def tapped(update: Update, kind: type[Tap]) -> Tap:
    """The pressed button's data, decoded. Handlers are registered with `pattern=kind.matches`, so
    anything else here is a programming error."""
    data = cb.decode(query_of(update).data if update.callback_query else None)
    if not isinstance(data, kind):
        raise TypeError(f"{kind.__name__} handler got other button data")
    return data


async def button_object(
    update: Update, context: Context, model: type[Owned], object_id: int
) -> tuple[Owned, Group, str] | None:
    """The meeting, proposal or action a pressed button names, its group and the language to answer
    in, when the press is valid (see button_group); otherwise it is answered as invalid."""
    found = await db().get(model, object_id)
    resolved = await button_group(update, context, found.group_id if found is not None else None)
    if resolved is None or found is None:
        return None
    return found, resolved[0], resolved[1]


async def button_member(
    update: Update, context: Context, model: type[Owned], object_id: int
) -> tuple[Owned, Group, Person, str] | None:
    """As button_object, pressed by a current member of the group (who is returned too)."""
    query, user = query_of(update), user_of(update)
    named = await button_object(update, context, model, object_id)
    if named is None:
        return None
    found, group, language = named
    member = await person_in_group(db(), group, user.id)
    if member is None or member[1].status != "member":
        outbox.answer_tap(query.id, {"text": plain(language, "button.not_member")}, by=user.id)
        return None
    return found, group, member[0], language


async def private_reader(update: Update, context: Context, group: Group, start_first: str) -> Person | None:
    """The person who asked, when an answer naming members can go to them in private (an answer to
    their own command goes even if they paused Relais' own messages); otherwise they are asked, in
    the group, to open the private chat first (`start_first`, with its button), and None is returned."""
    if update.effective_user is not None and user_of(update).id == GROUP_ANONYMOUS_BOT:
        reply(update, t(group.language, "facilitator.anonymous_private"))
        return None
    asker = await find_person(db(), user_of(update).id) if update.effective_user else None
    if asker is not None and asker.private_status == "started":
        return asker
    svc = services(context)
    url = start_url(svc.bot_username, group_payload(svc.link_secret, group.id))
    button = InlineKeyboardButton(plain(group.language, "button.open_private"), url=url)
    reply(update, t(group.language, start_first), reply_markup=InlineKeyboardMarkup([[button]]))
    return None
