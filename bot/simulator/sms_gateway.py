"""A fake SMS Gateway for Android, on loopback, for the tests and the demo (as the fake Telegram
is for Telegram): the API Relais sends through, and the phones of the people it texts.

It is no more lenient than the real one: basic authentication, a JSON body with `phoneNumbers`
and `textMessage.text`, an E.164 number. What people answer is posted to Relais' webhook signed
as the app signs it (HMAC-SHA256 of the body then the timestamp, `X-Signature`, `X-Timestamp`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

LOGIN, PASSWORD = "relais", "fake-gateway-password"
SIGNING_KEY = "fake-gateway-signing-key"
_E164 = re.compile(r"\+[1-9]\d{7,14}")


@dataclass
class Sms:
    number: str
    text: str
    key: str  # the message id Relais gave (the same delivery, the same id)
    at: float = field(default_factory=time.time)  # when the gateway took it


@dataclass
class FakePhones:
    """What every fake gateway has: the SMS it took (the phones that got them) and the ways a test
    makes it fail or hang."""

    sent: list[Sms] = field(default_factory=list)
    refuse_next: list[int] = field(default_factory=list)  # HTTP statuses for the next sends
    problems: list[str] = field(default_factory=list)  # requests the real gateway would refuse
    _runner: web.AppRunner | None = None
    # When set to an unset event, each message is taken (and counted as sent) but answered only
    # once the event is set: a process that dies meanwhile never learns it went out.
    hold: asyncio.Event | None = None
    _took: asyncio.Event = field(default_factory=asyncio.Event)  # set at each message taken
    url: str = ""

    async def serve(self, app: web.Application) -> int:
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def took(self, number: str, text: str, key: str) -> None:
        self.sent.append(Sms(number, text, key))
        self._took.set()

    async def taken(self, count: int) -> None:
        """Wait until the gateway has taken `count` messages."""
        while len(self.sent) < count:
            self._took.clear()
            await self._took.wait()

    def to(self, number: str) -> list[str]:
        """The texts a phone received, oldest first."""
        return [sms.text for sms in self.sent if sms.number == number]


@dataclass
class FakeSmsGateway(FakePhones):
    _answers: int = 0  # SMS people sent: each arrives at its own second

    async def start(self) -> FakeSmsGateway:
        app = web.Application()
        app.router.add_post("/3rdparty/v1/messages", self._send)
        port = await self.serve(app)
        self.url = f"http://127.0.0.1:{port}/3rdparty/v1"
        return self

    def settings(self, relais_port: int | None = None) -> dict[str, object]:
        """The [sms] section that points Relais at this gateway."""
        return {
            "enabled": True,
            "provider": "fake",
            "url": self.url,
            "login": LOGIN,
            "password": PASSWORD,
            "signing_key": SIGNING_KEY,
            "per_minute": 600,
        }

    async def _send(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"message": "unauthorized"}, status=401)
        if self.refuse_next:
            return web.json_response({"message": "unavailable"}, status=self.refuse_next.pop(0))
        try:
            body = await request.json()
            numbers, text = body["phoneNumbers"], body["textMessage"]["text"]
        except (ValueError, KeyError, TypeError):
            self.problems.append("malformed message")
            return web.json_response({"message": "bad request"}, status=400)
        if not numbers or not all(isinstance(n, str) and _E164.fullmatch(n) for n in numbers) or not text:
            self.problems.append(f"bad recipients or empty text: {numbers!r}")
            return web.json_response({"message": "bad request"}, status=400)
        key = str(body.get("id") or uuid.uuid4().hex)
        if any(sms.key == key for sms in self.sent):  # as the real one: an id is sent once
            return web.json_response({"message": "Message with the same ID already exists"}, status=409)
        for number in numbers:
            self.took(number, text, key)
        if self.hold is not None:
            await self.hold.wait()
        recipients = [{"phoneNumber": n, "state": "Pending"} for n in numbers]
        return web.json_response({"id": key, "state": "Pending", "recipients": recipients}, status=202)

    async def answer(
        self,
        webhook_url: str,
        number: str,
        text: str,
        event_id: str | None = None,
        key: str = SIGNING_KEY,
        received_at: str | None = None,
    ) -> int:
        """Someone answers from their phone: the gateway posts it to Relais, signed. Returns the
        HTTP status Relais gave. The same `received_at` is the same SMS posted again (as the app
        has done under a new event id)."""
        self._answers += 1
        body = json.dumps(
            {
                "deviceId": "fake-phone",
                "event": "sms:received",
                "id": event_id or uuid.uuid4().hex,
                "webhookId": "relais",
                "payload": {
                    "messageId": hashlib.sha1(text.encode()).hexdigest()[:16],
                    "message": text,
                    "phoneNumber": number,
                    "simNumber": 1,
                    "receivedAt": received_at
                    or f"2026-11-05T10:{self._answers // 60:02d}:{self._answers % 60:02d}.000+01:00",
                },
            }
        ).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Signature": signature, "X-Timestamp": timestamp}
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook_url, data=body, headers=headers) as response,
        ):
            return response.status
