"""/destinataires: the department's addressees (the services and elected officials proposals go
to), kept by the coordinators, with each one's responsiveness: proposals transmitted, answered in
time, late, overdue, waiting, and the median days to an answer."""

from __future__ import annotations

from aiohttp import web

from bot.domain import answers
from bot.domain.errors import RefusalError
from bot.domain.web_access import Viewer
from bot.ui.i18n import plain
from handlers.dashboard.pages import language_of, render, require_viewer, small_number
from handlers.dashboard.security import PageError, checked_form, reading, services_of, writing


async def _coordinator(request: web.Request) -> Viewer:
    viewer = await require_viewer(request)
    if not viewer.coordinator:
        raise PageError(403, "web.error.forbidden")
    return viewer


async def _page(request: web.Request, viewer: Viewer, error: str = "", status: int = 200) -> web.Response:
    svc = services_of(request)
    async with reading(request) as session:
        listed = await answers.addressees(session)
        records = await answers.by_addressee(session, svc.clock.now())
    return render(
        request,
        "addressees.html",
        {"addressees": listed, "records": records, "error": error, "done": request.query.get("fait", "")},
        viewer,
        status=status,
    )


async def addressees_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, await _coordinator(request))


async def add(request: web.Request) -> web.StreamResponse:
    viewer = await _coordinator(request)
    form = await checked_form(request, viewer)
    try:
        async with writing(request) as session:
            await answers.add_addressee(
                session, form.get("nom", ""), form.get("email", ""), services_of(request).clock.now()
            )
    except RefusalError as exc:
        message = plain(language_of(request, viewer), exc.key, **exc.values)
        return await _page(request, viewer, message, status=400)
    raise web.HTTPSeeOther("/destinataires?fait=ajout")


async def remove(request: web.Request) -> web.StreamResponse:
    viewer = await _coordinator(request)
    await checked_form(request, viewer)
    addressee_id = small_number(request.match_info["addressee_id"])
    if addressee_id is None:
        raise PageError(404, "web.error.not_found")
    async with writing(request) as session:
        if not await answers.remove_addressee(session, addressee_id):
            raise PageError(404, "web.error.not_found")
    raise web.HTTPSeeOther("/destinataires?fait=retrait")
