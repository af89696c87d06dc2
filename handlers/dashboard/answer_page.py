"""The decision-maker's answer page: /reponse/{token}, a signed link that needs no account.

It shows the group's proposal in its words (the group's name, never members' names) and a form:
acceptée / refusée (a reason required) / à l'étude (until a date) / en cours, with a free answer.
No session: the form's CSRF token is the HMAC of a random value kept in a SameSite=Strict cookie,
so a form posted from elsewhere, or without its token, changes nothing (403). The answer reaches
the group as /suivi does: one sentence in the group and the news to the author and followers,
through the outbox, once. The link's use is logged without content.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain import answers
from bot.domain import proposals as p
from bot.domain.errors import RefusalError
from bot.domain.groups import find_group_by_id
from bot.ui.answers import STATE_WORDS, answer_note, due_day, until_text
from bot.ui.i18n import plain
from bot.ui.proposals import change_sentence
from handlers.common import notify_in_session as notify
from handlers.common import plan, unit_of_work
from handlers.dashboard.pages import language_of, render
from handlers.dashboard.security import PageError, reading, same_token, services_of, set_cookie, writing
from storage.models import Group, Proposal

ANSWER_COOKIE = "relais_reponse"
log = logging.getLogger("relais.answers")


def _csrf(secret: bytes, nonce: str, token: str) -> str:
    return hmac.new(secret, f"answer-form|{nonce}|{token}".encode(), hashlib.sha256).hexdigest()


async def _load(request: web.Request, session: Any) -> tuple[Proposal, Group]:
    svc = services_of(request)
    try:
        proposal = await answers.proposal_for(
            session,
            svc.link_secret,
            request.match_info["token"],
            svc.clock.now(),
            svc.settings.proposals.answer_grace_days,
        )
    except RefusalError as exc:
        log.info("answer link refused: %s", exc.key)
        status = 404 if exc.key == "answer.error.link" else 410
        raise PageError(status, exc.key) from None
    group = await find_group_by_id(session, proposal.group_id)
    if group is None:
        raise PageError(410, "answer.error.expired")
    return proposal, group


async def _page(
    request: web.Request,
    proposal: Proposal,
    group: Group,
    earlier: list[Any],
    fields: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    svc = services_of(request)
    language = language_of(request)
    nonce = request.cookies.get(ANSWER_COOKIE, "")
    fresh = len(nonce) < 16
    if fresh:
        nonce = secrets.token_urlsafe(24)
    token = request.match_info["token"]
    today = svc.clock.now().astimezone(ZoneInfo(group.timezone)).date()
    latest = earlier[-1] if earlier else None
    response = render(
        request,
        "answer.html",
        {
            "group_name": group.display_name,
            "proposal": proposal,
            "due": due_day(proposal, group.timezone, language),
            "overdue": svc.clock.now() > (proposal.answer_due or svc.clock.now()),
            "latest": latest,
            "latest_until": until_text(language, latest.until) if latest is not None and latest.until else "",
            "latest_state": STATE_WORDS.get(latest.state, "") if latest is not None else "",
            "csrf": _csrf(svc.link_secret, nonce, token),
            "action": f"/reponse/{token}",
            "fields": fields,
            "error": plain(language, error, limit=answers.TEXT_MAX, length=len(fields.get("reponse", "")))
            if error
            else "",
            "thanks": request.query.get("merci") == "1",
            "min_date": today.isoformat(),
        },
        status=status,
    )
    if fresh:
        set_cookie(response, request, ANSWER_COOKIE, nonce, 30 * 86400)
    return response


async def answer_page(request: web.Request) -> web.StreamResponse:
    async with reading(request) as session:
        proposal, group = await _load(request, session)
        earlier = await answers.answers_of(session, proposal)
    log.info("answer link opened: proposal %s", proposal.id)  # its use, never its content
    return await _page(request, proposal, group, earlier, {})


async def answer_submit(request: web.Request) -> web.StreamResponse:
    svc = services_of(request)
    form = await request.post()
    fields = {key: value.replace("\x00", "") for key, value in form.items() if isinstance(value, str)}
    nonce = request.cookies.get(ANSWER_COOKIE, "")
    token = request.match_info["token"]
    if len(nonce) < 16 or not same_token(fields.get("csrf"), _csrf(svc.link_secret, nonce, token)):
        log.warning("answer form refused: no valid CSRF token")
        raise PageError(403, "web.error.csrf")
    now = svc.clock.now()
    with unit_of_work(svc.sender, svc.refresher, svc.wake_at) as work:
        async with writing(request) as session:
            proposal, group = await _load(request, session)
            today = now.astimezone(ZoneInfo(group.timezone)).date()
            try:
                answer_form = answers.parse_answer_form(fields, today)
                if proposal.state in p.GONE:
                    raise answers.AnswerError("answer.error.link")
                note = answer_note(group.language, proposal.addressee_name or "", answer_form)
                change = await p.change_state(session, proposal, answer_form.state, note, None, None, now)
                await answers.record_answer(session, proposal, answer_form, now)
            except RefusalError as exc:
                key = "answer.error.same" if exc.key == "suivi.error.same" else exc.key
                # Refused before anything changed: the page again, with why.
                earlier = await answers.answers_of(session, proposal)
                return await _page(request, proposal, group, earlier, fields, key, status=400)
            plan([await p.plan_news(session, group, change, now)])
            notify(
                session, group, change_sentence(group.language, proposal, change.state, note, None), "follow_up", now
            )
            await work.write_down(session, now)
        work.committed = True
    log.info("answer link used: proposal %s answered", proposal.id)
    raise web.HTTPSeeOther(f"/reponse/{token}?merci=1")
