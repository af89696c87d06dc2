"""bot/aiohttp_request.py: python-telegram-bot's requests over aiohttp send what httpx sent (a
form, urlencoded or multipart with files), return Telegram's status and body for
python-telegram-bot to read, and turn a silent or absent server into the errors it expects.
(The end-to-end suite sends every request of Relais through it to the fake Telegram.)"""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import certifi
import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.aiohttp_request import AiohttpRequest, trusted_certificates

MESSAGE = {"message_id": 7, "date": 1_700_000_000, "chat": {"id": -100, "type": "supergroup", "title": "G"}}
ME = {"id": 1, "is_bot": True, "first_name": "Relais", "username": "relais_test_bot"}


class Telegram:
    """A server answering like Telegram, keeping what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer: tuple[int, dict[str, Any]] = (200, {"ok": True, "result": MESSAGE})
        self.silent = asyncio.Event()  # set: it does not answer until released
        self.released = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "getMe":  # python-telegram-bot asks it first
            return web.json_response({"ok": True, "result": ME})
        seen: dict[str, Any] = {"method": request.match_info["method"], "type": request.content_type}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                seen[part.name] = (part.filename, part.headers.get("Content-Type"), await part.read())
        else:
            seen |= dict(await request.post())
        seen["agent"] = request.headers.get("User-Agent", "")
        self.received.append(seen)
        if self.silent.is_set():
            await self.released.wait()
        status, body = self.answer
        return web.json_response(body, status=status)


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[Telegram, str]]:
    fake = Telegram()
    app = web.Application()
    app.router.add_post("/botTOKEN/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/bot"
    fake.released.set()
    await runner.cleanup()


async def test_a_message_goes_as_a_form_and_comes_back_as_a_message(telegram: tuple[Telegram, str]) -> None:
    fake, base_url = telegram
    async with Bot("TOKEN", base_url=base_url, request=AiohttpRequest()) as bot:
        sent = await bot.send_message(-100, "Réunion jeudi à 14 h", disable_notification=True)
    assert sent.message_id == 7 and sent.chat.id == -100
    (seen,) = fake.received
    assert seen["method"] == "sendMessage" and seen["type"] == "application/x-www-form-urlencoded"
    assert seen["chat_id"] == "-100" and seen["text"] == "Réunion jeudi à 14 h"
    assert seen["disable_notification"] == "true"
    assert seen["agent"].startswith("python-telegram-bot")


async def test_a_file_goes_as_multipart_with_its_name_and_type(telegram: tuple[Telegram, str]) -> None:
    fake, base_url = telegram
    document = InputFile(io.BytesIO(b"BEGIN:VCALENDAR"), filename="reunion-3.ics")
    async with Bot("TOKEN", base_url=base_url, request=AiohttpRequest()) as bot:
        await bot.send_document(42, document, caption="Ajoutez-la à votre agenda")
    (seen,) = fake.received
    assert seen["type"] == "multipart/form-data"
    assert seen["chat_id"][2] == b"42" and seen["caption"][2] == "Ajoutez-la à votre agenda".encode()
    filename, content_type, content = seen["document"]
    assert (filename, content) == ("reunion-3.ics", b"BEGIN:VCALENDAR")
    assert content_type == "text/calendar"


async def test_telegrams_refusals_are_read_by_python_telegram_bot(telegram: tuple[Telegram, str]) -> None:
    fake, base_url = telegram
    fake.answer = (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    async with Bot("TOKEN", base_url=base_url, request=AiohttpRequest()) as bot:
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(-100, "Bonjour")
    assert raised.value.retry_after in (7, timedelta(seconds=7))  # as python-telegram-bot gives it


async def test_a_server_that_does_not_answer_times_out(telegram: tuple[Telegram, str]) -> None:
    fake, base_url = telegram
    fake.silent.set()
    async with Bot("TOKEN", base_url=base_url, request=AiohttpRequest(read_timeout=0.3)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(-100, "Bonjour")


async def test_no_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    with pytest.raises(NetworkError) as raised:
        await request.post(f"http://127.0.0.1:{port}/botTOKEN/getMe")
    await request.shutdown()
    assert not isinstance(raised.value, TimedOut) and "aiohttp.ClientConnectorError" in str(raised.value)


async def test_a_request_before_initialize_or_after_shutdown_is_refused() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:1/botTOKEN/getMe", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:1/botTOKEN/getMe", "POST")


async def test_a_proxy_named_by_the_environment_carries_the_requests(
    telegram: tuple[Telegram, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, base_url = telegram  # here the server plays the proxy: a department's network may require one
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", base_url.removesuffix("/bot"))
    async with Bot("TOKEN", base_url="http://api.telegram.invalid/bot", request=AiohttpRequest()) as bot:
        await bot.send_message(-100, "Bonjour")
    assert [seen["method"] for seen in fake.received] == ["sendMessage"]


def test_the_certificates_trusted_are_certifis_or_those_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert trusted_certificates().cert_store_stats()["x509_ca"] > 100  # certifi's bundle
    bundle = Path(certifi.where()).read_text()
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index("-----END CERTIFICATE-----") + 25]
    (tmp_path / "one.pem").write_text(first + "\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "one.pem"))
    assert trusted_certificates().cert_store_stats()["x509_ca"] == 1


async def test_no_proxy_keeps_a_host_direct(telegram: tuple[Telegram, str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake, base_url = telegram
    for name in ("no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")  # nobody there: used, it would fail
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with Bot("TOKEN", base_url=base_url, request=AiohttpRequest()) as bot:
        await bot.send_message(-100, "Bonjour")
    assert [seen["method"] for seen in fake.received] == ["sendMessage"]
