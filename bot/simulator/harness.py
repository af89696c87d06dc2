"""Runs the real Relais runtime against the fake Telegram: used by the end-to-end tests and the demo."""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

import aiohttp

from bot.application import RelaisApplication
from bot.clock import FakeClock
from bot.config import Settings
from bot.outbox.dispatch import DispatchReport
from bot.outbox.unit_of_work import later_idle
from bot.runtime import Relais
from bot.services import Services
from bot.simulator.ovh_sms import FakeOvhSms
from bot.simulator.scenario import FakeTelegram
from bot.simulator.sms_gateway import FakeSmsGateway
from jobs.housekeeping import housekeep
from jobs.scheduler import DISPATCHER, dispatch_now

# The bot's own sending limits lifted, for runs whose fake applies none (the demo, the fuzzer):
# they show or measure what updates do, not how fast Telegram lets the answers go.
UNPACED = {
    "telegram": {
        "group_messages_per_minute": 1000,
        "messages_per_second": 30,
        "private_burst": 1000,
        "private_messages_per_second": 30,
    }
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Harness:
    """`async with Harness(url) as h:` gives a running bot (`h.relais`) and its Telegram (`h.tg`)."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: FakeClock | None = None,
        webhook: bool = False,
        flood_control: bool = True,
        overrides: dict[str, dict[str, Any]] | None = None,
        sms: bool | str = False,
    ) -> None:
        self.tg = FakeTelegram(flood_control=flood_control)
        # The members' phones, through a fake gateway: SMS Gateway for Android's (True) or
        # OVHcloud's ("ovh").
        self.sms: FakeSmsGateway | FakeOvhSms | None = (
            FakeOvhSms() if sms == "ovh" else FakeSmsGateway() if sms else None
        )
        self.clock = clock or FakeClock()
        self.database_url = database_url
        self.webhook = webhook
        self.overrides = overrides or {}
        self.relais: Relais | None = None
        self._baseline = 0  # updates a previous bot process already handled

    def settings(self) -> Settings:
        data: dict[str, dict[str, Any]] = {
            "telegram": {
                "token": self.tg.token,
                "api_base_url": self.tg.base_url,
                "api_file_url": self.tg.base_url.replace("/bot", "/file/bot"),
                "polling_timeout": 5,
                # Edits at once (the fake clock does not move by itself); tests of the spacing
                # set it and move the clock.
                "edit_spacing_seconds": 0,
            },
            "database": {"url": self.database_url},
            "web": {"enabled": True, "listen": "127.0.0.1", "port": 0},
        }
        if self.webhook:
            port = free_port()
            data["web"]["port"] = port
            data["webhook"] = {"url": f"http://127.0.0.1:{port}/telegram/webhook", "secret_token": "test-secret_12345"}
        if self.sms is not None:
            data["sms"] = self.sms.settings()
        for section, values in self.overrides.items():
            data.setdefault(section, {}).update(values)
        return Settings.model_validate(data)

    @property
    def sms_webhook(self) -> str:
        """Where the gateway posts what people answer by SMS."""
        assert self.relais is not None
        return f"http://127.0.0.1:{self.relais.web_port}{self.settings().sms.webhook_path}"

    async def start(self) -> Harness:
        await self.tg.start()
        if self.sms is not None:
            await self.sms.start()
        self.relais = Relais(self.settings(), clock=self.clock, auto_dispatch=False)
        await self.relais.start()
        return self

    async def stop(self) -> None:
        if self.relais is not None:
            await self.relais.stop()
            self.relais = None
        await self.tg.stop()
        if self.sms is not None:
            await self.sms.stop()

    async def restart(self) -> None:
        """Stop the bot process and start a fresh one on the same database and Telegram."""
        assert self.relais is not None
        await self.relais.stop()
        self._baseline = self.tg.last_update_id
        self.relais = Relais(self.settings(), clock=self.clock, auto_dispatch=False)
        await self.relais.start()

    async def __aenter__(self) -> Harness:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def app(self) -> RelaisApplication:
        assert self.relais is not None and isinstance(self.relais.application, RelaisApplication)
        return self.relais.application

    @property
    def services(self) -> Services:
        assert self.relais is not None and self.relais.services is not None
        return self.relais.services

    patience = 10.0  # seconds settle() waits before it gives up (a demo under Telegram's limits waits longer)

    async def settle(self, timeout: float | None = None) -> None:
        """Wait until the bot has handled every update Telegram has for it."""
        timeout = self.patience if timeout is None else timeout
        await self.tg.webhook_idle()
        if self.tg.last_update_id > self._baseline:
            await self.app.wait_processed(self.tg.last_update_id, timeout)
        await self.sent(timeout)

    async def sent(self, timeout: float | None = None) -> None:
        """Wait until what handled updates said is out, and the edits due by now are made."""
        timeout = self.patience if timeout is None else timeout
        svc = self.services
        assert svc.sender is not None and svc.refresher is not None
        async with asyncio.timeout(timeout):
            while True:
                await later_idle()  # a chart or a PDF made after its update's commit
                await svc.sender.drain()
                started = await svc.refresher.run_due()
                await svc.refresher.drain()
                # An edit that ended (maybe the background run's) may have asked for another:
                # the state changed while it was under way. Done when nothing more is due now.
                upcoming = await svc.refresher.next_due()
                if not started and (upcoming is None or upcoming > svc.clock.now()):
                    break

    async def run_jobs(self) -> DispatchReport:
        """What the scheduler would do now (by the injectable clock): tests and the demo call it."""
        await self.settle()
        report = await dispatch_now(self.app)
        await self.app.bot_data[DISPATCHER].sms_idle()
        return report

    async def sms_answer(self, number: str, text: str) -> None:
        """Someone answers an SMS from their phone, and Relais takes it in (by the webhook, or
        from the operator's inbox)."""
        if isinstance(self.sms, FakeOvhSms):
            self.sms.answer(number, text)
            await self.collect_sms()
            return
        assert self.sms is not None
        status = await self.sms.answer(self.sms_webhook, number, text)
        assert status == 200, status

    async def answer_by_link(self, url: str, state: str, text: str, until: str = "") -> int:
        """A decision-maker opens an answer link and sends its form, as a browser would (the
        cookie, the form's CSRF token); returns the status of the page it lands on."""
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            async with client.get(url) as page:
                found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
            assert found is not None, page.status
            fields = {"csrf": found.group(1), "etat": state, "reponse": text, "jusqu_au": until}
            async with client.post(url, data=fields) as landed:
                status = landed.status
        await self.settle()
        return status

    async def collect_sms(self) -> int:
        """What the collection of the operator's SMS inbox does every few seconds, now."""
        assert self.relais is not None
        read = await self.relais.collect_sms()
        await self.settle()
        return read

    async def housekeep(self) -> dict[str, int]:
        """What the hourly housekeeping job would do now (by the injectable clock)."""
        await self.settle()
        return await housekeep(self.services)
