"""Sending an SMS: the gateway behind one small interface, paced at its own rate.

`android`: SMS Gateway for Android (a phone with a SIM that the department runs; its client,
android-sms-gateway). `fake`: the same API on loopback (bot/simulator/sms_gateway.py), for the
tests and the demo. The dispatcher hands over the deliveries whose recipient is `sms:<person>`;
an SMS is claimed, sent and recorded like any other delivery, so a restart sends none twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

import aiohttp
from android_sms_gateway import client, domain, errors
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient

log = logging.getLogger(__name__)


class SmsRefusedError(Exception):
    """The gateway said no: `temporary` when trying again later may work (it is down, busy)."""

    def __init__(self, detail: str, temporary: bool) -> None:
        super().__init__(detail)
        self.temporary = temporary


class SmsGateway(Protocol):
    async def send(self, number: str, text: str, key: str) -> str:
        """Send `text` to `number`; `key` names the delivery (the gateway sees it once).
        Returns the gateway's id for it; raises SmsRefusedError."""
        ...

    async def close(self) -> None: ...


class Paced:
    """At most `per_minute` sends, evenly spaced: a phone sends about one SMS every few seconds,
    an operator at its contract's rate. Real time, as Telegram's own pacing is."""

    def __init__(
        self, gateway: SmsGateway, per_minute: int, on_outcome: Callable[[str], None] = lambda o: None
    ) -> None:
        self.gateway, self.spacing, self.on_outcome = gateway, 60.0 / per_minute, on_outcome
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def send(self, number: str, text: str, key: str) -> str:
        async with self._lock:
            wait = self._next - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(time.monotonic(), self._next) + self.spacing
        try:
            sent = await self.gateway.send(number, text, key)
        except SmsRefusedError:
            self.on_outcome("refused")
            raise
        self.on_outcome("ok")
        return sent

    async def close(self) -> None:
        await self.gateway.close()


class AndroidGateway:
    """SMS Gateway for Android, by its HTTP API (the phone's local server or the cloud relay)."""

    def __init__(self, url: str, login: str, password: str) -> None:
        self.url, self.login, self.password = url, login, password
        self._session: aiohttp.ClientSession | None = None
        self._client: client.AsyncAPIClient | None = None

    def _api(self) -> client.AsyncAPIClient:
        if self._client is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            self._client = client.AsyncAPIClient(
                self.login,
                self.password,
                base_url=self.url,
                http_client=AiohttpAsyncHttpClient(self._session),
            )
        return self._client

    async def send(self, number: str, text: str, key: str) -> str:
        message = domain.Message(
            phone_numbers=[number], text_message=domain.TextMessage(text=text), id=key, with_delivery_report=True
        )
        try:
            state = await self._api().send(message)
        except errors.APIError as exc:
            if exc.status_code == 409:  # "Message with the same ID already exists": sent before a crash
                return key
            raise self._refused(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SmsRefusedError(exc.__class__.__name__, temporary=True) from None
        return str(state.id)

    @staticmethod
    def _refused(exc: errors.APIError) -> SmsRefusedError:
        temporary = (
            isinstance(exc, errors.InternalServerError | errors.ServiceUnavailableError) or exc.status_code == 429
        )
        return SmsRefusedError(f"gateway {exc.status_code}", temporary=temporary)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None
