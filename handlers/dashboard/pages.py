"""The dashboard's pages: thin views that call the same domain rules as the chat and render
plain data through server-side templates (bot/ui/templates/).

- /groupes: the groups the viewer facilitates (a coordinator: every group, the department's
  view) with the three indicators for a period, sortable, with their total and a CSV;
- /groupes/{id}: coming meetings and their answers, the attendance chart and its figures, the
  proposals board by state (where a facilitator changes a state: the same messages as /suivi,
  through the outbox), the carpool board and the CSV downloads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from bot.domain import answers, carpool, department
from bot.domain import meetings as m
from bot.domain import proposals as p
from bot.domain.costs import euros
from bot.domain.errors import RefusalError
from bot.domain.facilitators import is_facilitator
from bot.domain.groups import find_group_by_id
from bot.domain.periods import Period, PeriodError, parse_period
from bot.domain.reports import attendance_sheet, group_line, group_report
from bot.domain.web_access import Viewer, may_see, visible_groups
from bot.ui import charts
from bot.ui.deadlines import waiting_line
from bot.ui.i18n import LANGUAGES, plain, tn
from bot.ui.meetings import when_text
from bot.ui.proposals import change_sentence
from bot.ui.reports import (
    attendance_csv,
    groups_csv_head,
    groups_csv_rows,
    meetings_csv,
    proposals_csv,
    useful_label,
)
from handlers.common import notify_in_session as notify
from handlers.common import plan, unit_of_work
from handlers.dashboard.security import (
    DASHBOARD,
    LANGUAGE_COOKIE,
    VIEWER,
    PageError,
    checked_form,
    reading,
    services_of,
    set_cookie,
    viewer_of,
    writing,
)
from storage.models import Group

# The department's view sorts by these columns (largest first; the group's name A to Z).
SORTS = {
    "groupe": lambda line: line.name.casefold(),
    "reunions": lambda line: line.meetings,
    "presence": lambda line: -1 if line.attendance_rate is None else line.attendance_rate,
    "propositions": lambda line: line.proposals,
    "transmises": lambda line: line.transmitted,
    "prises": lambda line: -1 if line.taken_rate is None else line.taken_rate,
    "contributions": lambda line: line.contributions,
    "trajets": lambda line: line.rides,
}
CSV_TABLES = ("reunions", "presences", "propositions")

log = logging.getLogger("relais.dashboard")


# ----------------------------------------------------------------------------- rendering
def language_of(request: web.Request, viewer: Viewer | None = None) -> str:
    """Asked in the address (?langue=en), remembered in a cookie, else the session's, else the default."""
    for asked in (request.query.get("langue"), request.cookies.get(LANGUAGE_COOKIE)):
        if asked in LANGUAGES:
            return asked
    if viewer is not None and viewer.session.language in LANGUAGES:
        return viewer.session.language
    return services_of(request).settings.bot.default_language


def helpers(language: str) -> dict[str, Any]:
    """What templates call: catalogue texts (escaped by Jinja), plural forms, dates, rates."""

    def tr(key: str, **values: object) -> str:
        return plain(language, key, **values)

    def trn(key: str, count: int, **values: object) -> Markup:
        return Markup(tn(language, key, count, **values))  # tn escapes the values itself

    def rate(value: int | None) -> str:
        return plain(language, "web.no_rate") if value is None else f"{value} %"

    def when(moment: datetime, zone: str) -> str:
        return when_text(moment, zone, language)

    def useful(option: str) -> str:
        return useful_label(language, option)

    return {"tr": tr, "trn": trn, "rate": rate, "when": when, "euros": euros, "useful": useful, "language": language}


def small_number(text: str) -> int | None:
    """A number in an address (a group's id, a proposal's number): ASCII digits that fit the
    database's integers; anything else ("²", thirty digits) is no number, not an error."""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


def render(
    request: web.Request, template: str, context: dict[str, Any], viewer: Viewer | None = None, status: int = 200
) -> web.Response:
    language = language_of(request, viewer)
    other = plain(language, "web.other_language_code")
    # The same page in the other language, on this site: a path such as //evil.example/x would
    # otherwise make the link leave it.
    switch = f"/{request.path.lstrip('/')}?{urlencode({**request.query, 'langue': other})}"
    values = {**helpers(language), "viewer": viewer, "switch_language": switch, **context}
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    if request.query.get("langue") in LANGUAGES:
        set_cookie(response, request, LANGUAGE_COOKIE, language, 365 * 86400)
    return response


def refusal_page(request: web.Request, refused: PageError, viewer: Viewer | None) -> web.Response:
    language = language_of(request, viewer)
    minutes = services_of(request).settings.dashboard.link_minutes
    text = plain(language, refused.key, **{"minutes": minutes, **refused.values})
    return render(request, "message.html", {"message": text}, viewer, status=refused.status)


@web.middleware
async def refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """A PageError raised anywhere in a view becomes its French (or English) page."""
    try:
        return await handler(request)
    except PageError as refused:
        return refusal_page(request, refused, _seen(request))
    except web.HTTPNotFound:
        return refusal_page(request, PageError(404, "web.error.not_found"), _seen(request))
    except web.HTTPException:
        raise  # a redirect, aiohttp's 405: as they are
    except Exception:  # a defect: logged (without the request's data), and a page, with its headers
        resource = request.match_info.route.resource
        log.exception("a dashboard page failed: %s", resource.canonical if resource is not None else "?")
        return refusal_page(request, PageError(500, "web.error.unexpected"), _seen(request))


def _seen(request: web.Request) -> Viewer | None:
    seen = request.get(VIEWER)
    return seen.viewer if seen is not None else None


async def require_viewer(request: web.Request) -> Viewer:
    viewer = await viewer_of(request)
    if viewer is None:
        raise PageError(401, "web.error.session")
    return viewer


def period_of(request: web.Request, zone: str) -> tuple[Period, str, str | None]:
    """The period asked (?periode=...), its text, and the error key when it was not understood
    (the default period is shown then)."""
    text = request.query.get("periode", "").strip()[:40]
    today = services_of(request).clock.now().astimezone(ZoneInfo(zone)).date()
    try:
        return parse_period(text, today), text, None
    except PeriodError:
        return parse_period("", today), text, "web.error.period"


def period_context(period: Period, text: str, error: str | None) -> dict[str, Any]:
    return {"period": period, "period_text": text, "period_error": error}


# ----------------------------------------------------------------------------- the groups, side by side
async def home(request: web.Request) -> web.StreamResponse:
    viewer = await viewer_of(request)
    if viewer is not None:
        raise web.HTTPSeeOther("/groupes")
    minutes = services_of(request).settings.dashboard.link_minutes
    return render(request, "login.html", {"minutes": minutes})


@dataclass(frozen=True)
class Asked:
    """The department's view as the address asks it: period, filters, sort and page."""

    period: Period
    period_text: str
    period_error: str | None
    filters: department.Filters
    sort: str
    page: int

    def query(self, **changes: object) -> str:
        values: dict[str, object] = {
            "periode": self.period_text,
            "nom": self.filters.name,
            "territoire": self.filters.territory,
            "animateur": self.filters.facilitator,
            "tri": "" if self.sort == "groupe" else self.sort,
            "page": "" if self.page == 1 else self.page,
        }
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value not in ("", None, 1)})


def asked(request: web.Request) -> Asked:
    period, text, error = period_of(request, services_of(request).settings.bot.default_timezone)
    query = request.query
    filters = department.Filters.of(query.get("nom", ""), query.get("territoire", ""), query.get("animateur", ""))
    sort = query.get("tri", "groupe")
    return Asked(
        period,
        text,
        error,
        filters,
        sort if sort in department.SORTS else "groupe",
        small_number(query.get("page", "1")) or 1,
    )


async def _among(request: web.Request, viewer: Viewer, session: Any) -> list[int] | None:
    """A coordinator sees every group; anyone else, the groups they facilitate."""
    if viewer.coordinator:
        return None
    return [group.id for group in await visible_groups(session, viewer, request.app[DASHBOARD].admins)]


async def groups_page(request: web.Request) -> web.StreamResponse:
    viewer = await require_viewer(request)
    ask = asked(request)
    async with reading(request) as session:
        among = await _among(request, viewer, session)
        found = await department.department_page(session, ask.period, ask.filters, ask.sort, ask.page, among)
        places = await department.territories(session) if viewer.coordinator else []
    return render(
        request,
        "groups.html",
        {
            "lines": found.lines,
            "total": found.total,
            "found": found,
            "filters": ask.filters,
            "territories": places,
            "department": services_of(request).settings.dashboard.department,
            "csv_url": f"/groupes.csv?{ask.query(page='')}",
            "sort_url": lambda key: f"/groupes?{ask.query(tri='' if key == 'groupe' else key, page='')}",
            "page_url": lambda number: f"/groupes?{ask.query(page=number)}",
            "sort": ask.sort,
            **period_context(ask.period, ask.period_text, ask.period_error),
        },
        viewer,
        status=400 if ask.period_error else 200,
    )


async def groups_csv_file(request: web.Request) -> web.StreamResponse:
    """Every group the view's filters keep, streamed a slice at a time, then the total."""
    viewer = await require_viewer(request)
    ask = asked(request)
    language = language_of(request, viewer)
    name = f"groupes-{ask.period.start:%Y%m%d}-{ask.period.end:%Y%m%d}"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}.csv"',
        }
    )
    await response.prepare(request)
    await response.write(groups_csv_head(language))
    async with reading(request) as session:
        among = await _among(request, viewer, session)
        async for lines in department.every_line(session, ask.period, ask.filters, ask.sort, among):
            await response.write(groups_csv_rows(language, lines))
        total = await department.totals(session, department.scope(ask.filters, among), ask.period)
    await response.write(groups_csv_rows(language, [total]))
    await response.write_eof()
    return response


# ----------------------------------------------------------------------------- one group
@dataclass(frozen=True)
class ComingMeeting:
    starts_at: datetime
    place: str
    topic: str
    counts: m.Counts
    carpool: list[carpool.PlaceCounts]


async def _group(request: web.Request, viewer: Viewer, session: Any) -> Group:
    group_id = small_number(request.match_info["group_id"])
    if group_id is None:
        raise PageError(404, "web.error.not_found")
    group = await find_group_by_id(session, group_id)
    if group is None:
        raise PageError(404, "web.error.not_found")
    if not await may_see(session, viewer, group, request.app[DASHBOARD].admins):
        raise PageError(403, "web.error.forbidden")
    return group


async def group_page(request: web.Request) -> web.StreamResponse:
    viewer = await require_viewer(request)
    svc = services_of(request)
    admins = request.app[DASHBOARD].admins
    state = request.query.get("etat", "")
    async with reading(request) as session:
        group = await _group(request, viewer, session)
        period, text, error = period_of(request, group.timezone)
        report = await group_report(session, group, period, svc.clock.now())
        coming = [
            ComingMeeting(
                meeting.starts_at,
                meeting.place,
                meeting.topic,
                await m.counts(session, meeting),
                await carpool.board(session, meeting),
            )
            for meeting in await m.upcoming_meetings(session, group, svc.clock.now(), limit=5)
        ]
        board = await p.board_page(session, group, state, small_number(request.query.get("page", "1")) or 1)
        may_change = await is_facilitator(session, group, viewer.person.telegram_id, admins)
        # Offered in the note of a transmission (an HTML datalist: no script).
        listed = [addressee.name for addressee in await answers.addressees(session)] if may_change else []
    query = {"periode": text} if text else {}
    done = request.query.get("fait", "")
    return render(
        request,
        "group.html",
        {
            "group": group,
            "line": group_line(group, report),
            "report": report,
            "coming": coming,
            "board_counts": board.counts,
            "board": board,
            "states": p.FOLLOW_UP,
            "state": state if state in board.counts else "",
            "proposals": board.proposals,
            "may_change": may_change,
            "addressees": listed,
            "done": small_number(done),
            "done_state": request.query.get("nouvel", ""),
            "query": urlencode(query),
            "state_url": lambda name: f"/groupes/{group.id}?{urlencode({**query, 'etat': name} if name else query)}",
            "board_url": lambda number: (
                f"/groupes/{group.id}?"
                + urlencode({**query, **({"etat": state} if state in board.counts else {}), "page": number})
                + "#t-propositions"
            ),
            "waiting": lambda proposal: waiting_line(language_of(request, viewer), proposal, group.timezone),
            **period_context(period, text, error),
        },
        viewer,
        status=400 if error else 200,
    )


async def attendance_png(request: web.Request) -> web.StreamResponse:
    viewer = await require_viewer(request)
    async with reading(request) as session:
        group = await _group(request, viewer, session)
        period, _, _ = period_of(request, group.timezone)
        report = await group_report(session, group, period)
    # Drawn after the transaction, in a thread (other requests and chats go on meanwhile), unless
    # the same figures were drawn lately.
    chart = await charts.attendance_png(language_of(request, viewer), group, report)
    if chart is None:
        raise PageError(404, "web.group.no_meetings_held")
    return web.Response(body=chart, content_type="image/png")


def _csv_response(content: bytes, name: str) -> web.Response:
    return web.Response(
        body=content,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


async def group_csv(request: web.Request) -> web.StreamResponse:
    viewer = await require_viewer(request)
    table = request.match_info["table"]
    if table not in CSV_TABLES:
        raise PageError(404, "web.error.not_found")
    language = language_of(request, viewer)
    async with reading(request) as session:
        group = await _group(request, viewer, session)
        period, _, _ = period_of(request, group.timezone)
        if table == "presences":
            content = attendance_csv(language, group, await attendance_sheet(session, group, period))
        else:
            report = await group_report(session, group, period)
            content = (meetings_csv if table == "reunions" else proposals_csv)(language, group, report)
    return _csv_response(content, f"bilan-{table}-{period.start:%Y%m%d}-{period.end:%Y%m%d}")


async def change_state(request: web.Request) -> web.StreamResponse:
    """A facilitator moves a proposal: the same change, sentence and news as /suivi, sent after
    the commit through the outbox (a durable notice to the group, the news to followers)."""
    viewer = await require_viewer(request)
    form = await checked_form(request, viewer)
    svc = services_of(request)
    state = form.get("etat", "")
    note = form.get("precision", "").strip() or None
    now = svc.clock.now()
    # One unit of work: what it says goes out once the change has committed (the group's sentence
    # now, the news to followers with the dispatcher run it plans).
    with unit_of_work(svc.sender, svc.refresher, svc.wake_at) as work:
        async with writing(request) as session:
            group = await _group(request, viewer, session)
            if not await is_facilitator(session, group, viewer.person.telegram_id, request.app[DASHBOARD].admins):
                raise PageError(403, "web.proposal.read_only")
            number = p.parse_number(request.match_info["number"])
            if number is None:
                raise PageError(404, "web.error.not_found")
            try:
                proposal = await p.require_proposal(session, group, number)
                change = await p.change_state(
                    session, proposal, state, note, None, viewer.person, now, svc.settings.proposals
                )
            except RefusalError as exc:
                raise PageError(400, exc.key, **exc.values) from None
            plan([await p.plan_news(session, group, change, now)])
            sentence = change_sentence(group.language, proposal, change.state, change.note, change.progress, None)
            notify(session, group, sentence, "follow_up", now)
            back = f"/groupes/{group.id}?{urlencode({'fait': number, 'nouvel': state})}"
            await work.write_down(session, now)
        work.committed = True
    raise web.HTTPSeeOther(back)


async def set_territory(request: web.Request) -> web.StreamResponse:
    """A coordinator files a group under a territory (the department's view filters by it)."""
    viewer = await require_viewer(request)
    form = await checked_form(request, viewer)
    if not viewer.coordinator:
        raise PageError(403, "web.error.forbidden")
    async with writing(request) as session:
        group = await _group(request, viewer, session)
        department.file_under(group, form.get("territoire", ""))
        back = f"/groupes/{group.id}"
    raise web.HTTPSeeOther(back)
