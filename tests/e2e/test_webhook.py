"""End to end in webhook mode, served by aiohttp: secret check, malformed bodies, idempotency."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.simulator.harness import Harness
from storage.db import create_engine
from tests.conftest import assert_telegram_happy
from tests.support.helpers import group_with_bot, load_group


@pytest.fixture
async def hooked(database_url, clock):
    async with Harness(database_url, clock=clock, webhook=True) as h:
        yield h
        await h.settle()
        assert_telegram_happy(h)


def webhook_url(h: Harness) -> str:
    return h.relais.settings.webhook.url


async def post(url: str, body: bytes | str, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_webhook_is_registered_and_updates_flow(hooked):
    tg = hooked.tg
    assert tg.webhook_url == webhook_url(hooked) and tg.webhook_secret == "test-secret_12345"
    assert "chat_member" in tg.allowed_updates and "poll_answer" in tg.allowed_updates
    chat, awa, _ = await group_with_bot(hooked)
    tg.say(chat, awa, "/configurer Groupe par webhook")
    await hooked.settle()
    assert (await load_group(hooked, chat.id)).name == "Groupe par webhook"
    assert set(tg.webhook_statuses) == {200}


def private_command(update_id: int, user_id: int, name: str, command: str) -> dict:
    """A raw update carrying a command typed in private, as Telegram would post it."""
    person = {"id": user_id, "first_name": name}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": person | {"type": "private"},
            "from": person | {"is_bot": False},
            "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


async def test_webhook_secret_and_body_checks(hooked):
    url = webhook_url(hooked)
    update = json.dumps(private_command(900001, 5, "X", "/aide")).encode()
    assert await post(url, update, None) == 403
    assert await post(url, update, "wrong-secret") == 403
    assert await post(url, update, "") == 403
    assert await post(url, b"{not json", "test-secret_12345") == 400
    assert await post(url, b"[1, 2]", "test-secret_12345") == 400
    assert await post(url, b'{"no_update_id": 1}', "test-secret_12345") == 400
    # None of those reached the bot: it never tried to answer chat 5.
    assert not [params for method, params in hooked.tg.calls if params.get("chat_id") == 5]
    assert await post(url, update, "test-secret_12345") == 200
    await hooked.sent()  # answers go out once the update has committed
    assert [params["chat_id"] for method, params in hooked.tg.calls if method == "sendMessage"][-1] == 5


async def test_webhook_redelivery_is_handled_once(hooked):
    chat, awa, _ = await group_with_bot(hooked)
    tg = hooked.tg
    tg.start_private(awa)
    await hooked.settle()
    before = len(tg.bot_messages(awa.id))
    body = json.dumps(private_command(777777, awa.id, "Awa", "/aide"))
    for _ in range(3):  # Telegram retries when it did not see our 2xx
        assert await post(webhook_url(hooked), body, "test-secret_12345") == 200
    await hooked.sent()
    assert len(tg.bot_messages(awa.id)) == before + 1


async def test_healthz(relais, tmp_path):
    port = relais.relais.web_port
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok"}
        working = relais.services.engine
        relais.services.engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/folder/relais.db")
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 503
                assert (await response.json())["database"] == "unreachable"
        finally:
            await relais.services.engine.dispose()
            relais.services.engine = working


async def test_poll_answers_without_a_chat_reach_their_group_by_webhook(hooked):
    tg = hooked.tg
    awa, karim, julie = tg.user("Awa", "awa_anim"), tg.user("Karim", "karim_m"), tg.user("Julie", "julie_m")
    chat = tg.group("Groupe par webhook", creator=awa)
    tg.add_bot(chat, awa)
    await hooked.settle()  # webhook updates are handled concurrently: the group exists before people join
    for person in (karim, julie):
        tg.join(chat, person)
    tg.start_private(julie)
    await hooked.settle()
    tg.say(chat, awa, "/sondage Quel jour ? | Mardi | Jeudi")
    await hooked.settle()
    poll = next(m for m in tg.bot_messages(chat.id) if m.poll)
    tg.vote(karim, poll, [1])
    await hooked.settle()
    hooked.clock.advance(timedelta(hours=24))
    await hooked.run_jobs()
    assert "attend votre avis" in tg.bot_messages(julie.id)[-1].text  # Karim voted: only Julie is reminded
    hooked.clock.advance(timedelta(hours=24))
    await hooked.run_jobs()
    assert "• Jeudi : 1 (100 %)" in tg.bot_messages(chat.id)[-1].text


async def test_an_update_whose_transaction_failed_is_handled_when_sent_again(hooked, monkeypatch):
    """The update is marked handled only once its transaction committed: the database away for
    a moment gets a 500, Telegram re-sends, and the copy is handled (once)."""
    chat, awa, _ = await group_with_bot(hooked)
    tg = hooked.tg
    tg.start_private(awa)
    await hooked.settle()
    before = len(tg.bot_messages(awa.id))
    real_commit = AsyncSession.commit
    failures = [OperationalError("COMMIT", {}, ConnectionError("database away"))]

    async def commit(session):
        if failures:
            raise failures.pop()
        return await real_commit(session)

    monkeypatch.setattr(AsyncSession, "commit", commit)
    body = json.dumps(private_command(888888, awa.id, "Awa", "/aide"))
    assert await post(webhook_url(hooked), body, "test-secret_12345") == 500
    await hooked.sent()
    assert len(tg.bot_messages(awa.id)) == before  # nothing said for an update that did not happen
    assert await post(webhook_url(hooked), body, "test-secret_12345") == 200
    assert await post(webhook_url(hooked), body, "test-secret_12345") == 200
    await hooked.sent()
    assert len(tg.bot_messages(awa.id)) == before + 1
