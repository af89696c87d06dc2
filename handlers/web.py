"""HTTP entry points (aiohttp): Telegram's webhook and the health check."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.metrics import CONTENT_TYPE
from bot.services import Services
from handlers.common import waiting_to_go
from storage.db import ping

log = logging.getLogger(__name__)

APPLICATION = web.AppKey("application", Application)
SERVICES = web.AppKey("services", Services)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise."""
    database_ok = await ping(request.app[SERVICES].engine)
    body = {"status": "ok" if database_ok else "degraded", "database": "ok" if database_ok else "unreachable"}
    return web.json_response(body, status=200 if database_ok else 503)


LOOPBACK = ("127.0.0.1", "::1")


def _proxied(request: web.Request) -> bool:
    """A request a reverse proxy passed on: it comes from loopback, but from anyone behind it."""
    return any(name in request.headers for name in ("X-Forwarded-For", "X-Real-IP", "Forwarded"))


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' scrape: with `web.metrics_token`, only its bearer; without, only loopback
    (a reverse proxy must then not pass /metrics on: docs/installation.md, nginx)."""
    svc = request.app[SERVICES]
    token = svc.settings.web.metrics_token.get_secret_value()
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=401, text="a bearer token is needed\n")
    elif request.remote not in LOOPBACK or _proxied(request):
        return web.Response(status=403, text="only from this machine, or set web.metrics_token\n")
    now = svc.clock.now()
    try:
        async with svc.sessionmaker() as session:
            backlog = await waiting_to_go(session, now)
    except Exception as exc:  # the scrape fails: Prometheus marks the target down, which it is
        svc.database_outage.failed(exc)
        return web.Response(status=503, text="the database is unreachable\n")
    body = svc.metrics.exposition(backlog, backlog.oldest_due_seconds(now))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def telegram_webhook(request: web.Request) -> web.Response:
    """Check the secret, parse the update, handle it before answering.

    Answering after handling means a crash mid-update gets no 2xx, so Telegram sends it again;
    the application drops updates it has already handled.
    """
    expected = request.app[SERVICES].settings.webhook.secret_token.get_secret_value()
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return web.json_response({"ok": False, "error": "forbidden"}, status=403)
    try:
        data = await request.json(loads=json.loads)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
        application = request.app[APPLICATION]
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError):
        return web.json_response({"ok": False, "error": "malformed update"}, status=400)
    # Through the update processor: in turn with the chat's other updates, side by side with others.
    try:
        await application.update_processor.process_update(update, application.process_update(update))
    except Exception:  # the commit failed (logged by the processor's caller); Telegram will re-send
        log.warning("update %s not handled", update.update_id)
        return web.json_response({"ok": False, "error": "not handled"}, status=500)
    needs_retry = getattr(application, "needs_retry", None)  # bot/application.py's RelaisApplication
    if needs_retry is not None and needs_retry(update.update_id):  # the database was away: ask again
        return web.json_response({"ok": False, "error": "try again"}, status=500)
    return web.json_response({"ok": True})


def build_web_app(application: Application, services: Services) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[APPLICATION] = application
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if services.settings.webhook.url:
        app.router.add_post(services.settings.webhook.path, telegram_webhook)
    return app
