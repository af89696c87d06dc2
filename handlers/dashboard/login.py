"""Opening and closing a dashboard session.

The link /tableau sends opens a page that asks to confirm with one button, rather than opening
the session on the first GET: Telegram's link preview, or a mail scanner, would otherwise use
the link before its owner. The POST uses it (once) and sets the session cookie.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.domain.web_access import LoginError, check_login, close_session, redeem_login
from handlers.dashboard.pages import language_of, render
from handlers.dashboard.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    PageError,
    checked_form,
    link_key,
    reading,
    same_token,
    services_of,
    set_cookie,
    viewer_of,
    writing,
)
from storage.models import Person


async def login_page(request: web.Request) -> web.StreamResponse:
    svc = services_of(request)
    token = request.query.get("jeton", "")
    async with reading(request) as session:
        try:
            login = await check_login(session, token, link_key(request), svc.clock.now())
        except LoginError as exc:
            raise PageError(403, exc.key) from None
        person = await session.get(Person, login.person_id)
    csrf = secrets.token_urlsafe(24)
    response = render(
        request, "login_confirm.html", {"token": token, "csrf": csrf, "name": person.first_name if person else ""}
    )
    set_cookie(response, request, LOGIN_COOKIE, csrf, svc.settings.dashboard.link_minutes * 60)
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    svc = services_of(request)
    form = await request.post()
    if not same_token(form.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")):
        raise PageError(403, "web.error.csrf")
    token = form.get("jeton")
    async with writing(request) as session:
        try:
            secret, _ = await redeem_login(
                session,
                token if isinstance(token, str) else "",
                link_key(request),
                svc.clock.now(),
                language_of(request),
            )
        except LoginError as exc:
            raise PageError(403, exc.key) from None
    response = web.HTTPSeeOther("/groupes")
    # No max-age: the browser forgets it when closed; the server ends it after idle_minutes.
    set_cookie(response, request, SESSION_COOKIE, secret)
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    viewer = await viewer_of(request)
    if viewer is None:
        raise web.HTTPSeeOther("/")
    await checked_form(request, viewer)
    async with writing(request) as session:
        found = await session.merge(viewer.session)
        await close_session(session, found)
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
