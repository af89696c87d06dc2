"""Every URL of the dashboard, in one place, and the setup of its templates."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.domain.facilitators import AdminLookup
from bot.services import Services
from handlers.dashboard import addressees, answer_page, login, pages
from handlers.dashboard.security import DASHBOARD, Dashboard, security_headers

STATIC = Path(__file__).resolve().parents[2] / "bot" / "ui" / "static"


def setup_dashboard(app: web.Application, services: Services, admins: AdminLookup) -> None:
    app[DASHBOARD] = Dashboard(services, admins)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.ui", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,  # a name missing from a view is a defect, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.middlewares.extend([security_headers, pages.refusals])
    router = app.router
    router.add_get("/", pages.home)
    router.add_get("/connexion", login.login_page)
    router.add_post("/connexion", login.login_submit)
    router.add_post("/deconnexion", login.logout)
    router.add_get("/groupes", pages.groups_page)
    router.add_get("/groupes.csv", pages.groups_csv_file)
    router.add_get("/groupes/{group_id}", pages.group_page)
    router.add_get("/groupes/{group_id}/presence.png", pages.attendance_png)
    router.add_get("/groupes/{group_id}/{table}.csv", pages.group_csv)
    router.add_post("/groupes/{group_id}/propositions/{number}", pages.change_state)
    router.add_post("/groupes/{group_id}/territoire", pages.set_territory)
    router.add_get("/reponse/{token}", answer_page.answer_page)
    router.add_post("/reponse/{token}", answer_page.answer_submit)
    router.add_get("/destinataires", addressees.addressees_page)
    router.add_post("/destinataires", addressees.add)
    router.add_post("/destinataires/{addressee_id}/retirer", addressees.remove)
    router.add_static("/static/", STATIC, append_version=False)
