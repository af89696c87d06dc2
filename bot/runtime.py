"""Starting and stopping a Relais process: database, Telegram application, web server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import Application

from bot import version
from bot.application import ALLOWED_UPDATES, build_application
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.domain import communes
from bot.domain.deeplinks import derive_secret
from bot.failures import EXIT_DATABASE, EXIT_NETWORK, EXIT_TOKEN, EXIT_WEB, StartupError, where
from bot.logs import quiet_libraries
from bot.outbox.after_commit import ChatSender
from bot.outbox.kinds import check_registry
from bot.outbox.refresh import Refresher
from bot.outbox.sms_gateway import AndroidGateway, OvhGateway, Paced, SmsGateway
from bot.outbox.unit_of_work import later_idle
from bot.process_lock import ProcessLock
from bot.services import Services, fetch_admin_ids
from handlers.dashboard.routes import setup_dashboard
from handlers.help import set_command_menus
from handlers.sms import collect, collect_forever, setup_sms
from handlers.web import build_web_app
from jobs.housekeeping import start_housekeeping
from jobs.scheduler import DISPATCHER, leave, start_dispatcher
from storage.db import create_engine, create_sessionmaker, migrate

log = logging.getLogger(__name__)


def _database_reason(exc: BaseException, url: str) -> str:
    text = str(exc).lower()
    if "unable to open database file" in text:
        return "the file cannot be created or opened: does its folder exist, and may Relais write there?"
    if "readonly" in text or "read-only" in text:
        return "the file is read-only for Relais"
    if isinstance(exc, ConnectionRefusedError) or "connection refused" in text or "connect call failed" in text:
        return "connection refused: is the database server running, at that address and port?"
    if "password" in text or "authentication" in text:
        return "the server refused the user or password"
    if "does not exist" in text:
        return "the server has no such database"
    if isinstance(exc, OSError | TimeoutError):
        return f"the server cannot be reached ({exc.__class__.__name__})"
    return exc.__class__.__name__


async def open_database(url: str, echo: bool = False) -> AsyncEngine:
    """The engine, with every migration applied; a StartupError naming the cause otherwise."""
    engine = create_engine(url, echo)
    try:
        await migrate(engine)
    except Exception as exc:
        await engine.dispose()
        reason = _database_reason(exc.__cause__ or exc if isinstance(exc, DBAPIError) else exc, url)
        raise StartupError(
            EXIT_DATABASE, f"cannot open the database ({where(url)}): {reason}; check database.url"
        ) from None
    return engine


@contextlib.asynccontextmanager
async def telegram_phase(settings: Settings) -> AsyncIterator[None]:
    """Telegram's answers at start-up, as one plain line: the token refused, or no network."""
    host = urlsplit(settings.telegram.api_base_url).hostname or settings.telegram.api_base_url
    try:
        yield
    except InvalidToken:
        raise StartupError(
            EXIT_TOKEN,
            "Telegram rejected the bot token: check telegram.token (or RELAIS_TELEGRAM__TOKEN) "
            "against the one @BotFather gave",
        ) from None
    except BadRequest as exc:  # Telegram answered, and refused (a BadRequest is a NetworkError too)
        raise StartupError(
            EXIT_NETWORK,
            f"Telegram refused a start-up request ({exc.message}): for a webhook, check webhook.url "
            "(https://, on port 443, 80, 88 or 8443)",
        ) from None
    except NetworkError as exc:
        raise StartupError(
            EXIT_NETWORK,
            f"cannot reach Telegram at {host} ({exc.__class__.__name__}): check the network, "
            "a firewall or proxy, and telegram.api_base_url",
        ) from None


def sms_gateway(settings: Settings) -> SmsGateway:
    """The configured SMS gateway (the fake one speaks SMS Gateway for Android's API)."""
    sms = settings.sms
    if sms.provider == "ovh":
        return OvhGateway(
            sms.ovh_endpoint,
            sms.ovh_service,
            sms.ovh_application_key,
            sms.ovh_application_secret.get_secret_value(),
            sms.ovh_consumer_key.get_secret_value(),
        )
    return AndroidGateway(sms.url, sms.login, sms.password.get_secret_value())


class Relais:
    """One running bot. `start()` returns once it is serving; `stop()` undoes it in reverse."""

    def __init__(self, settings: Settings, clock: Clock | None = None, auto_dispatch: bool = True) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.auto_dispatch = auto_dispatch
        self.application: Application | None = None
        self.services: Services | None = None
        self._web: web.AppRunner | None = None
        self.web_port: int | None = None
        self.process_lock = ProcessLock()
        self._communes: asyncio.Future[None] | None = None
        self._collecting: asyncio.Task[None] | None = None  # an operator's SMS inbox, read now and then

    async def start(self) -> None:
        settings = self.settings
        token = settings.require_token()
        quiet_libraries()  # whoever set up logging, no request URL (and so no token) is logged
        check_registry()  # a kind without its expansion or rendering stops here, before any send
        engine = await open_database(settings.database.url, settings.database.echo)
        webhook = bool(settings.webhook.url)
        try:
            await self.process_lock.acquire(engine, settings.database.url, polling=not webhook)
        except StartupError:
            await engine.dispose()
            raise
        self.services = Services(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            clock=self.clock,
            link_secret=derive_secret(token),
            auto_dispatch=self.auto_dispatch,
        )
        self.application = build_application(self.services, with_updater=not webhook)
        if settings.sms.enabled:  # the gateway's own pace, apart from Telegram's
            counted = self.services.metrics.sms_sent.labels
            self.services.sms = Paced(sms_gateway(settings), settings.sms.per_minute, lambda o: counted(o).inc())
        async with telegram_phase(settings):
            await self.application.initialize()
        self.services.bot_username = self.application.bot.username
        svc = self.services
        # What a sent answer records may plan the dispatcher (a poll's closing): asked through
        # svc.wake_at as the scheduler installs it.
        svc.sender = ChatSender(
            self.application.bot, svc.sessionmaker, self.clock.now, lambda moments: svc.wake_at(moments)
        )
        svc.refresher = Refresher(
            self.application.bot,
            svc.sessionmaker,
            self.clock.now,
            settings.telegram.edit_spacing_seconds,
            svc.update_turn,
        )
        async with telegram_phase(settings):
            await set_command_menus(self.application.bot, settings.bot.default_language)
        if settings.web.enabled or webhook:
            web_app = build_web_app(self.application, self.services)
            bot = self.application.bot
            setup_dashboard(web_app, svc, lambda chat_id: fetch_admin_ids(bot, svc, chat_id))
            if settings.sms.enabled:
                setup_sms(web_app, svc, self.admins)
            self._web = web.AppRunner(web_app, access_log=None)
            await self._web.setup()
            site = web.TCPSite(self._web, settings.web.listen, settings.web.port)
            try:
                await site.start()
            except OSError as exc:
                raise StartupError(
                    EXIT_WEB,
                    f"cannot listen on {settings.web.listen}:{settings.web.port} ({exc.strerror or exc}): "
                    "another program may use that port; check web.listen and web.port",
                ) from None
            self.web_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            log.info("web server on %s:%s", settings.web.listen, self.web_port)
            svc.dashboard_url = settings.dashboard.public_url or f"http://{settings.web.listen}:{self.web_port}"
        if webhook:
            async with telegram_phase(settings):
                await self.application.bot.set_webhook(
                    settings.webhook.url,
                    secret_token=settings.webhook.secret_token.get_secret_value(),
                    allowed_updates=ALLOWED_UPDATES,
                )
            log.info("webhook mode")
        else:
            async with telegram_phase(settings):
                await self.application.bot.delete_webhook()
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES,
                timeout=settings.telegram.polling_timeout,
                poll_interval=0,
                # python-telegram-bot retries with growing waits; the log hears of it once.
                error_callback=svc.telegram_outage.failed,
            )
            log.info("long polling mode")
        await self.application.start()
        svc.refresher.start()  # edits asked for before a restart go out now
        rebuilt = await start_dispatcher(self.application)
        start_housekeeping(self.application)
        log.info("dispatcher started, %s pending due times rebuilt from the database", rebuilt)
        if settings.sms.enabled and settings.sms.provider == "ovh" and self.auto_dispatch:
            self._collecting = asyncio.create_task(collect_forever(svc, self.admins))
        mode = f"webhook at {settings.webhook.url}" if webhook else "long polling"
        dashboard = svc.dashboard_url if settings.web.enabled else "off"
        log.info(
            "Relais %s running as @%s: %s, database %s, dashboard %s",
            version(),
            svc.bot_username,
            mode,
            where(settings.database.url),
            dashboard,
        )
        for warning in settings.warnings():
            log.warning("%s", warning)
        # The communes (carpool departure points by name) are read in a thread once Relais is up,
        # off the event loop: the first /lieux does not wait for them.
        self._communes = asyncio.get_running_loop().run_in_executor(None, communes.load)

    def admins(self, chat_id: int) -> Awaitable[frozenset[int]]:
        """A chat's administrators, as Telegram says (cached)."""
        assert self.application is not None and self.services is not None
        return fetch_admin_ids(self.application.bot, self.services, chat_id)

    async def collect_sms(self) -> int:
        """Read the operator's SMS inbox now (what the collection does every few seconds)."""
        assert self.services is not None
        return await collect(self.services, self.admins)

    async def stop(self) -> None:
        if self._collecting is not None:
            self._collecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collecting
        application = self.application
        if application is not None:
            dispatcher = application.bot_data.get(DISPATCHER)
            for sending in list(dispatcher.sms_sends) if dispatcher is not None else ():
                sending.cancel()  # an SMS in flight: its claim lapses, and the next run sends it once
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
                await leave(application)  # the other processes take this one's share of the rate
            svc = self.services
            if svc is not None and svc.refresher is not None:
                await svc.refresher.stop()
            if svc is not None and svc.sender is not None:
                with contextlib.suppress(TimeoutError):  # what updates said, if it can go quickly
                    await asyncio.wait_for(later_idle(), 5)  # a chart or a PDF being made
                    await asyncio.wait_for(svc.sender.drain(), 5)
                await svc.sender.close()
            await application.shutdown()
        if self._web is not None:
            await self._web.cleanup()
        if self.services is not None and self.services.sms is not None:
            await self.services.sms.close()
        await self.process_lock.release()
        if self.services is not None:
            await self.services.engine.dispose()
        log.info("stopped")


async def run_until_signalled(settings: Settings) -> None:
    """`relais run`: serve until SIGTERM or SIGINT, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    relais = Relais(settings)
    try:
        await relais.start()
    except BaseException:
        await relais.stop()
        raise
    try:
        await stop.wait()
        log.info("signal received, shutting down")
    finally:
        await relais.stop()
