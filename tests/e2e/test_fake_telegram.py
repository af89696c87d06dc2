"""The fake Telegram itself: spec checks and Telegram's rules, through the real PTB Bot client."""

from __future__ import annotations

import io
import json
import time

import aiohttp
import pytest
from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.simulator.scenario import FakeTelegram
from bot.simulator.spec import spec


@pytest.fixture
async def tg():
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(tg):
    client = Bot(tg.token, base_url=tg.base_url, request=HTTPXRequest(read_timeout=2))
    async with client:
        yield client


def seconds(value) -> float:
    """RetryAfter.retry_after is an int in PTB 22 and becomes a timedelta later."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def world(tg: FakeTelegram):
    awa = tg.user("Awa", "awa_anim")
    chat = tg.group("Groupe", creator=awa)
    tg.add_bot(chat, awa)
    return awa, chat


async def raw(tg: FakeTelegram, method: str, **params) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{tg.base_url}{tg.token}/{method}", data=params) as response,
    ):
        return response.status, await response.json()


def test_vendored_spec_matches_shared_spec():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[3] / "shared" / "botapi" / "api.json"
    if not shared.exists():
        pytest.skip("../shared/botapi/api.json is not beside this checkout")
    import scripts.vendor_botapi as vendor

    assert json.loads(vendor.render(json.loads(shared.read_text(encoding="utf-8")))) == spec()


async def test_unknown_method_missing_and_unknown_parameters(tg):
    status, body = await raw(tg, "sendMesage", chat_id="1", text="x")
    assert status == 404 and body["ok"] is False
    status, body = await raw(tg, "sendMessage", chat_id="1")
    assert status == 400 and 'parameter "text" is required' in body["description"]
    awa, chat = world(tg)
    status, body = await raw(tg, "sendMessage", chat_id=str(chat.id), text="ok", colour="red")
    assert status == 200
    assert ("sendMessage", "colour") in tg.reported
    status, body = await raw(tg, "sendMessage", chat_id=str(chat.id), text="ok", disable_notification="maybe")
    assert any("expected Boolean" in problem for problem in tg.flagged)
    status, body = await raw(
        tg,
        "sendMessage",
        chat_id=str(chat.id),
        text="ok",
        reply_markup=json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b", "colour": 1}]]}),
    )
    assert any("unknown field of InlineKeyboardButton" in problem for problem in tg.flagged)


async def test_html_rules(tg, bot):
    awa, chat = world(tg)
    await bot.send_message(chat.id, "<b>Réunion</b> &amp; café &lt;3", parse_mode=ParseMode.HTML)
    assert tg.bot_messages(chat.id)[-1].text == "Réunion & café <3"
    for bad in ("<b>non fermé", "a < b", "Tom & Jerry", "<div>x</div>", "<b><i>x</b></i>", "<a>lien</a>", "&nbsp;"):
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(chat.id, bad, parse_mode=ParseMode.HTML)
    assert len(tg.flagged) == 7


async def test_length_and_callback_data_limits(tg, bot):
    awa, chat = world(tg)
    await bot.send_message(chat.id, "é" * 4096)
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(chat.id, "é" * 4097)
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(chat.id, "<b>" + "😀" * 2049 + "</b>", parse_mode=ParseMode.HTML)  # 4098 UTF-16 units
    await bot.send_message(
        chat.id, "ok", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="é" * 32)]])
    )
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(
            chat.id, "ok", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x" * 65)]])
        )


async def test_photos_are_checked_like_telegram(tg, bot):
    awa, chat = world(tg)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (960).to_bytes(4, "big") + (720).to_bytes(4, "big")
    message = await bot.send_photo(chat.id, InputFile(io.BytesIO(png + b"\x00" * 40), filename="a.png"))
    assert message.photo[-1].width == 960 and tg.bot_messages(chat.id)[-1].photo_size == (960, 720)
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(chat.id, InputFile(io.BytesIO(b"not an image"), filename="a.png"))
    too_thin = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (4000).to_bytes(4, "big") + (100).to_bytes(4, "big")
    with pytest.raises(BadRequest, match="(?i)photo_invalid_dimensions"):
        await bot.send_photo(chat.id, InputFile(io.BytesIO(too_thin), filename="b.png"))
    tg.flagged.clear()  # the refusals were the point


async def test_private_403_for_never_started_and_blocked(tg, bot):
    karim = tg.user("Karim")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(karim.id, "Bonjour")
    tg.start_private(karim)
    await bot.send_message(karim.id, "Bonjour")
    tg.block(karim)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(karim.id, "Bonjour")


async def test_group_migration_answer(tg, bot):
    awa, chat = world(tg)
    supergroup = tg.upgrade_to_supergroup(chat, awa)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(chat.id, "x")
    assert caught.value.new_chat_id == supergroup.id
    await bot.send_message(supergroup.id, "x")
    updates = await bot.get_updates()
    services = [
        u.message for u in updates if u.message and (u.message.migrate_to_chat_id or u.message.migrate_from_chat_id)
    ]
    assert [m.migrate_to_chat_id for m in services if m.migrate_to_chat_id] == [supergroup.id]
    assert [m.migrate_from_chat_id for m in services if m.migrate_from_chat_id] == [chat.id]


async def test_flood_control_overall_per_group_and_per_private_chat(tg, bot):
    people = [tg.user(f"Membre{i}") for i in range(4)]
    for person in people:
        tg.start_private(person)
    started = time.monotonic()
    sent = 0
    with pytest.raises(RetryAfter):
        for index in range(40):  # spread over four people: the overall limit speaks first
            await bot.send_message(people[index % 4].id, "x")
            sent += 1
    assert time.monotonic() - started < 1.0 and sent == 30
    tg._sent_times.clear()
    karim = tg.user("Karim")
    tg.start_private(karim)
    with pytest.raises(RetryAfter):  # one person: a burst of ten, then about one a second
        for _ in range(12):
            await bot.send_message(karim.id, "x")
    assert len(tg.bot_messages(karim.id)) == 10
    awa, chat = world(tg)
    tg._sent_times.clear()
    with pytest.raises(RetryAfter) as caught:
        for _ in range(25):
            await bot.send_message(chat.id, "x")
    assert len(tg.bot_messages(chat.id)) == 20 and seconds(caught.value.retry_after) >= 1
    assert tg.rate_limited == 3 and tg.flagged == []


async def test_scripted_faults(tg, bot):
    awa, chat = world(tg)
    tg.script_fault("sendMessage", "429", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat.id, "x")
    assert seconds(caught.value.retry_after) == 7
    tg.script_fault("sendMessage", "500")
    with pytest.raises(NetworkError):
        await bot.send_message(chat.id, "x")
    tg.script_fault("sendMessage", "slow", delay=3)
    with pytest.raises(TimedOut):
        await bot.send_message(chat.id, "x")
    tg.script_fault("sendMessage", "drop")
    with pytest.raises(NetworkError):
        await bot.send_message(chat.id, "x")
    await bot.send_message(chat.id, "enfin")
    assert tg.bot_messages(chat.id)[-1].text == "enfin"


async def test_privacy_mode_delivery_and_callbacks(tg, bot):
    awa, chat = world(tg)
    karim = tg.user("Karim", "karim_x")
    tg.join(chat, karim)
    assert tg.say(chat, karim, "Salut") == 0
    assert tg.say(chat, karim, "/aide") > 0
    message = await bot.send_message(
        chat.id, "Question", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="q:1")]])
    )
    assert tg.reply(chat, karim, tg.find_message(chat.id, message.message_id), "Réponse") > 0
    tg.press(karim, tg.find_message(chat.id, message.message_id), "Oui")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query.data == "q:1" and query.from_user.id == karim.id
    await bot.answer_callback_query(query.id, text="Merci")
    assert tg.callback_answers[query.id] == "Merci"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id)


async def test_polls_votes_and_limits(tg, bot):
    awa, chat = world(tg)
    karim = tg.user("Karim", "karim_x")
    tg.join(chat, karim)
    message = await bot.send_poll(chat.id, "Quel jour ?", ["Mardi", "Jeudi"], is_anonymous=False, open_period=3600)
    sim_message = tg.find_message(chat.id, message.message_id)
    tg.vote(karim, sim_message, [1])
    tg.vote(awa, sim_message, [1])
    updates = await bot.get_updates()
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert [(a.user.id, a.option_ids) for a in answers] == [(karim.id, (1,)), (awa.id, (1,))]
    assert [u.poll.options[1].voter_count for u in updates if u.poll][-1] == 2
    closed = await bot.stop_poll(chat.id, message.message_id)
    assert closed.is_closed and closed.total_voter_count == 2
    with pytest.raises(BadRequest, match="(?i)already been closed"):
        await bot.stop_poll(chat.id, message.message_id)
    anonymous = await bot.send_poll(chat.id, "Anonyme ?", ["Oui", "Non"])
    await bot.get_updates(offset=updates[-1].update_id + 1)
    tg.vote(karim, tg.find_message(chat.id, anonymous.message_id), [0])
    fresh = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert [u.poll_answer for u in fresh if u.poll_answer] == [] and fresh[-1].poll.total_voter_count == 1
    for question, options in (
        ("", ["a", "b"]),
        ("q" * 301, ["a", "b"]),
        ("q", ["a"]),
        ("q", ["a"] * 13),
        ("q", ["a", "b" * 101]),
    ):
        with pytest.raises(BadRequest):
            await bot.send_poll(chat.id, question, options)
    assert len(tg.flagged) == 5


async def test_a_force_reply_reaches_only_whom_it_quotes_or_names(tg, bot):
    awa, chat = world(tg)
    karim = tg.user("Karim", "karim_m")
    chat.statuses[karim.id] = "member"
    tg.say(chat, awa, "/reunion")
    command = tg.chat_messages(chat.id)[-1]
    quoted = await bot.send_message(
        chat.id, "Quand ?", reply_parameters={"message_id": command.message_id}, reply_markup=ForceReply(selective=True)
    )
    sent = tg.find_message(chat.id, quoted.message_id)
    assert tg.shows_prompt(sent, awa.id) and not tg.shows_prompt(sent, karim.id)
    with pytest.raises(AssertionError, match="does not show"):
        tg.reply(chat, karim, sent, "mardi")
    named = await bot.send_message(
        chat.id,
        f'<a href="tg://user?id={karim.id}">Karim</a>, quelle date ?',
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(selective=True),
    )
    assert tg.shows_prompt(tg.find_message(chat.id, named.message_id), karim.id)
    assert tg.flagged == []
    await bot.send_message(chat.id, "Quand ?", reply_markup=ForceReply(selective=True))  # to nobody
    await bot.send_message(chat.id, "Quand ?", reply_markup=ForceReply(selective=False))  # to everyone
    assert len(tg.flagged) == 2 and "nobody sees it" in tg.flagged[0] and "every member" in tg.flagged[1]
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(chat.id, "x", reply_parameters={"message_id": 999})
    await bot.send_message(chat.id, "x", reply_parameters={"message_id": 999, "allow_sending_without_reply": True})


async def test_webhooks_only_on_telegram_s_ports(tg, bot):
    with pytest.raises(BadRequest, match="(?i)only on ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://relais.example.org:8080/hook")
    with pytest.raises(BadRequest, match="(?i)https url must be provided"):
        await bot.set_webhook("http://relais.example.org/hook")
    assert await bot.set_webhook("https://relais.example.org:8443/hook")
    assert tg.webhook_url == "https://relais.example.org:8443/hook"
