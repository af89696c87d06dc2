"""What every dashboard request goes through: security headers, the session cookie, the CSRF
check of forms, and the one database transaction of a request.

- Headers: a strict Content-Security-Policy (only this site's own stylesheet and images, no
  script at all), frames denied, no referrer (a login link must never leak in one).
- The cookie: HttpOnly, SameSite=Strict, Secure when the dashboard is served over HTTPS.
- Forms: every POST carries the session's CSRF token (the login form, before any session, a
  token doubled in a short-lived cookie); one without it changes nothing and gets a 403.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.domain.facilitators import AdminLookup
from bot.domain.web_access import Viewer, open_viewer
from bot.services import Services

SESSION_COOKIE = "relais_session"
LOGIN_COOKIE = "relais_login"  # the login form's CSRF token, doubled (there is no session yet)
LANGUAGE_COOKIE = "relais_lang"  # before a session: the language asked for on the login page

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard's pages share: the bot's services, and the lookup of a chat's Telegram
    administrators that the chat's rule of who facilitates needs."""

    services: Services
    admins: AdminLookup


DASHBOARD = web.AppKey("dashboard", Dashboard)


@dataclass(frozen=True)
class Seen:
    """The request's viewer, looked up once (None: no live session)."""

    viewer: Viewer | None


VIEWER = web.RequestKey("relais_viewer", Seen)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a redirect, or aiohttp's own 404 and 405
        _secure(request, exc.headers)
        raise
    _secure(request, response.headers)
    return response


def _secure(request: web.Request, headers: Any) -> None:
    headers.update(HEADERS)
    if is_https(request):  # browsers then never try the dashboard over plain http again
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


def is_https(request: web.Request) -> bool:
    public = request.app[DASHBOARD].services.settings.dashboard.public_url
    return public.startswith("https://") or request.secure


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int | None = None
) -> None:
    """HttpOnly, SameSite=Strict, Secure over HTTPS. Without max_age the browser forgets it when
    closed (the session cookie; the server also ends the session after idle_minutes)."""
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="Strict", secure=is_https(request), path="/"
    )


def link_key(request: web.Request) -> bytes:
    """The key login links are signed with (derived from the bot's token, never stored)."""
    return services_of(request).link_secret


def services_of(request: web.Request) -> Services:
    return request.app[DASHBOARD].services


@contextlib.asynccontextmanager
async def reading(request: web.Request) -> AsyncIterator[Any]:
    """A read-only transaction (pages): it never holds SQLite's single writer turn."""
    async with services_of(request).sessionmaker() as session:
        yield session


@contextlib.asynccontextmanager
async def writing(request: web.Request) -> AsyncIterator[Any]:
    """One transaction that writes, committed whole or not at all; on SQLite it takes its turn
    with the bot's updates (one writer), so it is kept short: no drawing inside."""
    svc = services_of(request)
    async with svc.update_turn(), svc.sessionmaker.begin() as session:
        yield session


async def viewer_of(request: web.Request) -> Viewer | None:
    """The live session behind the request's cookie (its use recorded), or None."""
    if VIEWER in request:
        return request[VIEWER].viewer
    svc = services_of(request)
    settings = svc.settings.dashboard
    found = None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        async with writing(request) as session:
            found = await open_viewer(
                session,
                cookie,
                svc.clock.now(),
                timedelta(minutes=settings.idle_minutes),
                frozenset(settings.coordinators),
            )
            if found is not None:
                session.expunge_all()  # plain values for the page, read after this transaction
    request[VIEWER] = Seen(found)
    return found


def same_token(given: object, expected: str) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


async def checked_form(request: web.Request, viewer: Viewer) -> dict[str, str]:
    """The form's fields, once its CSRF token matched the session's; 403 otherwise."""
    form = await request.post()
    if not same_token(form.get("csrf"), viewer.session.csrf):
        raise PageError(403, "web.error.csrf")
    # A NUL character is no text (PostgreSQL refuses it in a text column): dropped.
    return {key: value.replace("\x00", "") for key, value in form.items() if isinstance(value, str)}


class PageError(Exception):
    """A request that gets a French page saying why (status, catalogue key, values)."""

    def __init__(self, status: int, key: str, **values: object) -> None:
        super().__init__(key)
        self.status, self.key, self.values = status, key, values
