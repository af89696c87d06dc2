"""Sending an SMS: the gateway behind one small interface, paced at its own rate.

`android`: SMS Gateway for Android (a phone with a SIM that the department runs; its client,
android-sms-gateway); the answers come to Relais' webhook. `ovh`: OVHcloud's SMS API (a French
operator a department contracts; its client, ovh); the answers are collected from its inbox.
`fake`: SMS Gateway for Android's API on loopback (bot/simulator/sms_gateway.py), for the tests and
the demo; bot/simulator/ovh_sms.py is OVHcloud's. The dispatcher hands over the deliveries whose
recipient is `sms:<person>`; an SMS is claimed, sent and recorded like any other delivery, so a
restart sends none twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import ovh
from android_sms_gateway import client, domain, errors
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient

from bot.domain.sms import is_gsm

log = logging.getLogger(__name__)


class SmsRefusedError(Exception):
    """The gateway said no: `temporary` when trying again later may work (it is down, busy)."""

    def __init__(self, detail: str, temporary: bool) -> None:
        super().__init__(detail)
        self.temporary = temporary


@dataclass(frozen=True)
class Inbound:
    """An SMS someone sent, waiting in an operator's inbox (a gateway that posts to the webhook
    has none)."""

    id: str
    number: str
    text: str
    received_at: str


class SmsGateway(Protocol):
    async def send(self, number: str, text: str, key: str, again: bool = False) -> str:
        """Send `text` to `number`; `key` names the delivery (the gateway sees it once). `again`:
        an earlier attempt may have reached the gateway. Returns the gateway's id for it; raises
        SmsRefusedError."""
        ...

    async def inbox(self) -> list[Inbound]:
        """The SMS received and not yet cleared (none for a gateway that posts them)."""
        ...

    async def clear(self, inbound: Inbound) -> None:
        """Taken into account: the operator may forget it."""
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

    async def send(self, number: str, text: str, key: str, again: bool = False) -> str:
        async with self._lock:
            wait = self._next - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(time.monotonic(), self._next) + self.spacing
        try:
            sent = await self.gateway.send(number, text, key, again)
        except SmsRefusedError:
            self.on_outcome("refused")
            raise
        self.on_outcome("ok")
        return sent

    async def inbox(self) -> list[Inbound]:
        """What waits in the inbox; nothing when the gateway cannot say (read again later)."""
        try:
            return await self.gateway.inbox()
        except SmsRefusedError as exc:
            log.warning("sms inbox unreadable: %s", exc)
            return []

    async def clear(self, inbound: Inbound) -> None:
        """Not cleared (the gateway cannot say): read again, it counts once."""
        try:
            await self.gateway.clear(inbound)
        except SmsRefusedError as exc:
            log.warning("sms inbox: not cleared (%s)", exc)

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

    async def send(self, number: str, text: str, key: str, again: bool = False) -> str:
        # `again` needs no look: the gateway answers 409 for an id it already took.
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

    async def inbox(self) -> list[Inbound]:
        return []  # the phone posts each SMS to the webhook (handlers/sms.py)

    async def clear(self, inbound: Inbound) -> None:
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None


# OVHcloud's API regions (the client's own names), or an address (the loopback fake).
OVH_REGIONS = frozenset(ovh.client.ENDPOINTS)
LOOKED_AT = 50  # pending jobs compared with a message sent again, at most (a wave's tail)


class OvhGateway:
    """OVHcloud's SMS API through its client (`ovh`, synchronous: each call in a thread).

    Sent with `senderForResponse` (a number people can answer) and tagged with the delivery's key.
    OVHcloud has no idempotent send, so a message that may have gone before (`again`) is looked
    for first: among the SMS sent under its tag, then among the jobs still pending; found, it is
    not sent twice. The answers wait in the account's inbox until cleared."""

    def __init__(self, endpoint: str, service: str, application_key: str, secret: str, consumer_key: str) -> None:
        region = endpoint if endpoint in OVH_REGIONS else "ovh-eu"
        self._client = ovh.Client(
            endpoint=region,
            application_key=application_key,
            application_secret=secret,
            consumer_key=consumer_key,
            timeout=30,
        )
        if endpoint not in OVH_REGIONS:
            # The client knows regions by name only; the tests' fake is an address on loopback.
            self._client._endpoint = endpoint.rstrip("/")
        self.base = f"/sms/{service}"

    async def _call(self, method: str, path: str, **data: Any) -> Any:
        try:
            if method == "GET":
                return await asyncio.to_thread(self._client.get, self.base + path, **data)
            if method == "DELETE":
                return await asyncio.to_thread(self._client.delete, self.base + path)
            return await asyncio.to_thread(self._client.post, self.base + path, **data)
        except ovh.exceptions.HTTPError as exc:  # the network, before any answer
            raise SmsRefusedError("network", temporary=True) from exc
        except (ovh.exceptions.NetworkError, ovh.exceptions.InvalidResponse) as exc:
            raise SmsRefusedError(exc.__class__.__name__, temporary=True) from None
        except ovh.exceptions.APIError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", 0)
            temporary = status == 429 or status >= 500
            raise SmsRefusedError(f"operator {status}", temporary=temporary) from None

    async def _already_sent(self, number: str, text: str, tag: str) -> str | None:
        # The pending jobs first, then the SMS sent: a job leaves the first for the second, so it
        # cannot slip between the two looks. A job gone between the list and its reading (404)
        # has just been sent: the second look finds it.
        for job_id in (await self._call("GET", "/jobs"))[:LOOKED_AT]:
            try:
                job = await asyncio.to_thread(self._client.get, f"{self.base}/jobs/{job_id}")
            except ovh.exceptions.ResourceNotFoundError:
                continue
            except ovh.exceptions.APIError:
                raise SmsRefusedError("operator: pending jobs unreadable", temporary=True) from None
            if job.get("receiver") == number and job.get("message") == text:
                return str(job_id)
        sent = await self._call("GET", "/outgoing", tag=tag, receiver=number)
        return str(sent[0]) if sent else None

    async def send(self, number: str, text: str, key: str, again: bool = False) -> str:
        tag = key[-20:]  # OVHcloud's tags are short
        if again and (found := await self._already_sent(number, text, tag)) is not None:
            return found
        job = await self._call(
            "POST",
            "/jobs",
            message=text,
            receivers=[number],
            senderForResponse=True,  # a number members can answer
            noStopClause=True,  # not advertising; Relais answers STOP itself
            coding="7bit" if is_gsm(text) else "8bit",
            charset="UTF-8",
            priority="high",
            tag=tag,
        )
        if number in job.get("invalidReceivers", []) or not job.get("ids"):
            raise SmsRefusedError("operator: invalid receiver", temporary=False)
        return str(job["ids"][0])

    async def inbox(self) -> list[Inbound]:
        found = []
        for inbound_id in await self._call("GET", "/incoming"):
            got = await self._call("GET", f"/incoming/{inbound_id}")
            found.append(Inbound(str(got["id"]), str(got["sender"]), str(got["message"]), str(got["creationDatetime"])))
        return found

    async def clear(self, inbound: Inbound) -> None:
        await self._call("DELETE", f"/incoming/{inbound.id}")

    async def close(self) -> None:
        return None
