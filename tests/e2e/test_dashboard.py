"""End to end: the web dashboard, over HTTP against the real process and the fake Telegram.

/tableau's one-time link, the session cookie, CSRF, who sees which group (the chat's rule,
coordinators from the configuration), the pages' figures, the CSV files, the chart, and a state
changed on the board posting the same follow-up as /suivi in the group."""

from __future__ import annotations

import csv
import html
import io
import re
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp

from tests.e2e.test_reports import held_meeting
from tests.support.helpers import last_text, load_group, other_group

LINK_RE = re.compile(r"(http://\S+/connexion\?jeton=\S+)")


@asynccontextmanager
async def browser():
    # unsafe=True: keep cookies for an IP address (the test server is 127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        yield client


async def ask_link(h, user) -> str:
    h.tg.say(h.tg.private_chat(user), user, "/tableau")
    await h.settle()
    found = LINK_RE.search(last_text(h, user.id))
    assert found, last_text(h, user.id)
    return found.group(1)


async def log_in(h, client, user) -> str:
    """Follow /tableau's link and confirm: returns the page the session lands on."""
    link = await ask_link(h, user)
    async with client.get(link) as page:
        assert page.status == 200
        body = await page.text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    token = re.search(r'name="jeton" value="([^"]+)"', body).group(1)
    async with client.post(f"{h.services.dashboard_url}/connexion", data={"jeton": token, "csrf": csrf}) as landed:
        assert landed.status == 200 and landed.url.path == "/groupes"
        return await landed.text()


def csrf_of(body: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', body).group(1)


def parse_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


async def test_a_facilitator_logs_in_sees_the_board_and_moves_a_proposal(relais):
    chat, awa, karim, julie, sami, lina = await held_meeting(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion 10/12 14h | Centre social | Les transports")
    await relais.settle()
    group = await load_group(relais, chat.id)
    base = relais.services.dashboard_url
    link = await ask_link(relais, awa)
    assert "une seule fois, dans les 15 minutes" in last_text(relais, awa.id)
    async with browser() as client:
        async with client.get(link) as page:
            assert page.status == 200
            assert page.headers["X-Frame-Options"] == "DENY"
            assert page.headers["Referrer-Policy"] == "no-referrer"
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
            assert "script-src" not in page.headers["Content-Security-Policy"]  # no script at all
            assert "Bonjour Awa" in await page.text()
        # Opening the link does not use it (a link preview must not): the button does.
        async with client.get(link) as page:
            form = await page.text()
        token = re.search(r'name="jeton" value="([^"]+)"', form).group(1)
        async with client.post(
            f"{base}/connexion", data={"jeton": token, "csrf": csrf_of(form)}, allow_redirects=False
        ) as landed:
            assert landed.status == 303 and landed.headers["Location"] == "/groupes"
            cookie = landed.cookies["relais_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]  # plain http here
        async with client.get(f"{base}/groupes") as page:
            assert group.display_name in await page.text()
        async with client.get(f"{base}/groupes/{group.id}") as page:
            html = await page.text()
        assert page.status == 200
        assert "40 %" in html and "50 %" in html  # attendance; taken into account
        assert "jeudi 10 décembre à 14h" in html and "je viens : 0" in html
        assert "Un local" in html and "Des bus le samedi" in html
        # The board changes a state: the same sentence /suivi posts, through the outbox.
        before = len(tg.bot_messages(chat.id))
        async with client.post(
            f"{base}/groupes/{group.id}/propositions/2", data={"csrf": csrf_of(html), "etat": "accepted"}
        ) as moved:
            assert moved.status == 200 and "fait=2" in str(moved.url)
            assert "la proposition n°2 est maintenant « acceptée »" in await moved.text()
        await relais.settle()
        said = [m.text for m in tg.bot_messages(chat.id)[before:]]
        tg.say(chat, awa, "/suivi 1 réalisée")
        await relais.settle()
        assert said and said[0].startswith("👍") and "n°2" in said[0] and "Un local" in said[0], said
        # A form without its CSRF token changes nothing.
        async with client.post(f"{base}/groupes/{group.id}/propositions/2", data={"etat": "refused"}) as forged:
            assert forged.status == 403 and "Rechargez la page" in await forged.text()
        async with client.post(
            f"{base}/groupes/{group.id}/propositions/2", data={"csrf": "x" * 32, "etat": "refused"}
        ) as forged:
            assert forged.status == 403
        # A state that needs a note says so, in French, and changes nothing.
        async with client.post(
            f"{base}/groupes/{group.id}/propositions/2", data={"csrf": csrf_of(html), "etat": "refused"}
        ) as refused:
            assert refused.status == 400
        async with client.get(f"{base}/groupes/{group.id}?etat=accepted") as page:
            filtered = await page.text()
        assert "Un local" in filtered and "Des bus le samedi" not in filtered
        # CSV files parse back; the chart is a real PNG.
        async with client.get(f"{base}/groupes/{group.id}/propositions.csv") as document:
            assert document.headers["Content-Disposition"].startswith("attachment;")
            rows = parse_csv(await document.read())
        assert rows[0][0] == "Numéro" and rows[2][:3] == ["2", "Un local", "acceptée"]
        async with client.get(f"{base}/groupes/{group.id}/presences.csv") as document:
            assert ["1", "12/11/2026 14:00", "Julie", "présent"] in parse_csv(await document.read())
        async with client.get(f"{base}/groupes.csv") as document:
            department = parse_csv(await document.read())
        assert department[0][0] == "Groupe" and department[1][1:3] == ["1", "40"] and department[-1][0] == "Total"
        async with client.get(f"{base}/groupes/{group.id}/presence.png") as chart:
            png = await chart.read()
        assert chart.content_type == "image/png" and png.startswith(b"\x89PNG") and 10_000 < len(png) < 300_000
        # In English on request, remembered.
        async with client.get(f"{base}/groupes?langue=en") as page:
            assert "My groups" in await page.text()
        async with client.get(f"{base}/groupes") as page:
            assert "My groups" in await page.text()
        # Logging out ends the session.
        async with client.post(f"{base}/deconnexion", data={"csrf": csrf_of(html)}) as out:
            assert out.status == 200
        async with client.get(f"{base}/groupes") as page:
            assert page.status == 401


async def log_in_with(client, base: str, link: str) -> str:
    async with client.get(link) as page:
        body = await page.text()
    token = re.search(r'name="jeton" value="([^"]+)"', body).group(1)
    async with client.post(f"{base}/connexion", data={"jeton": token, "csrf": csrf_of(body)}) as landed:
        assert landed.status == 200, await landed.text()
        return await landed.text()


async def test_links_that_are_reused_expired_forged_or_without_their_token_are_refused(relais):
    chat, awa, *_ = await held_meeting(relais)
    base = relais.services.dashboard_url
    link = await ask_link(relais, awa)
    async with browser() as client:
        await log_in_with(client, base, link)
    async with browser() as client, client.get(link) as page:  # another device: the link served once already
        assert page.status == 403 and "déjà servi" in await page.text()
    late = await ask_link(relais, awa)
    relais.clock.advance(timedelta(minutes=16))
    async with browser() as client, client.get(late) as page:
        assert page.status == 403 and "a expiré" in await page.text()
    fresh = await ask_link(relais, awa)
    forged = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    async with browser() as client, client.get(forged) as page:
        assert page.status == 403 and "pas valable" in await page.text()
    async with browser() as client:
        async with client.get(fresh) as page:
            body = await page.text()
        token = re.search(r'name="jeton" value="([^"]+)"', body).group(1)
        async with client.post(f"{base}/connexion", data={"jeton": token}) as no_csrf:
            assert no_csrf.status == 403 and "Rechargez la page" in await no_csrf.text()
        await log_in_with(client, base, fresh)  # the link was not used by the refused form
        # A session unused for longer than idle_minutes (30) ends.
        relais.clock.advance(timedelta(minutes=31))
        async with client.get(f"{base}/groupes") as page:
            assert page.status == 401 and "session a pris fin" in await page.text()


async def test_each_sees_the_groups_they_facilitate_and_a_coordinator_sees_all(relais):
    h = relais
    chat, awa, karim, julie, sami, lina = await held_meeting(h)
    other, zoe = other_group(h)
    h.tg.say(other, zoe, "/configurer Groupe de Zoé")
    await h.settle()
    mine, theirs = await load_group(h, chat.id), await load_group(h, other.id)
    base = h.services.dashboard_url
    h.tg.say(h.tg.private_chat(karim), karim, "/tableau")  # a member who facilitates nothing
    await h.settle()
    assert "vous n'animez aucun groupe" in last_text(h, karim.id)
    h.tg.say(chat, karim, "/tableau")
    await h.settle()
    assert "Seule l'animation du groupe" in last_text(h, chat.id) and "jeton" not in last_text(h, karim.id)
    h.tg.say(chat, awa, "/tableau")  # in the group: the link itself goes in private
    await h.settle()
    assert "lien du tableau de bord en privé" in last_text(h, chat.id) and "jeton" not in last_text(h, chat.id)
    assert LINK_RE.search(last_text(h, awa.id))
    async with browser() as client:
        await log_in_with(client, base, await ask_link(h, awa))
        async with client.get(f"{base}/groupes") as page:
            listing = await page.text()
        assert mine.display_name in listing and "Groupe de Zoé" not in listing
        async with client.get(f"{base}/groupes/{theirs.id}") as page:
            assert page.status == 403 and "animation du groupe" in await page.text()
        async with client.get(f"{base}/groupes/{theirs.id}/propositions.csv") as page:
            assert page.status == 403
        async with client.get(f"{base}/groupes/{theirs.id}/presence.png") as page:
            assert page.status == 403
        async with client.get(f"{base}/groupes/999999") as page:
            assert page.status == 404
    # Sami is named coordinator in the configuration (by Telegram user id), as a department would.
    settings = h.services.settings.dashboard
    settings.coordinators.append(sami.id)
    settings.department = "Ain"
    async with browser() as client:
        await log_in_with(client, base, await ask_link(h, sami))
        async with client.get(f"{base}/groupes?tri=presence") as page:
            listing = await page.text()
        assert "Les groupes du département : Ain" in listing
        assert listing.index(mine.display_name) < listing.index("Groupe de Zoé")  # 40 % before none
        async with client.get(f"{base}/groupes?tri=groupe") as page:
            by_name = await page.text()
        first, second = sorted([mine.display_name, "Groupe de Zoé"], key=str.casefold)
        assert by_name.index(first) < by_name.index(second)
        async with client.get(f"{base}/groupes/{theirs.id}") as page:
            assert page.status == 200
            assert "Seule l'animation du groupe change" in html.unescape(await page.text())  # a coordinator reads


async def test_odd_addresses_and_a_nul_in_a_note_get_pages_never_errors(relais):
    """What a careless or hostile visitor types: a superscript digit, thirty digits, a path that
    starts with two slashes, a NUL in a note. Each gets a page with the security headers; nothing
    answers 500, and no link on the page leaves the site."""
    chat, awa, karim, julie, sami, lina = await held_meeting(relais)
    group = await load_group(relais, chat.id)
    base = relais.services.dashboard_url
    async with browser() as client:
        await log_in(relais, client, awa)
        for path, status in (
            (f"/groupes/{group.id}?fait=²", 200),
            (f"/groupes/{'1' * 30}", 404),
            ("/groupes/²", 404),
            ("//evil.example/x", 404),
        ):
            async with client.get(f"{base}{path}", allow_redirects=False) as page:
                body = await page.text()
                assert page.status == status, (path, page.status)
                assert (
                    page.headers["X-Frame-Options"] == "DENY"
                    and "default-src 'none'" in page.headers["Content-Security-Policy"]
                )
                assert 'href="//' not in body, path
        async with client.get(f"{base}/groupes/{group.id}") as page:
            form = await page.text()
        async with client.post(
            f"{base}/groupes/{group.id}/propositions/2",
            data={"csrf": csrf_of(form), "etat": "refused", "precision": "Pas de\x00 budget"},
        ) as moved:
            assert moved.status == 200, await moved.text()
    await relais.settle()
    assert "Pas de budget" in last_text(relais, chat.id)


async def test_served_over_https_the_dashboard_asks_browsers_to_stay_there(database_url, clock):
    from bot.simulator.harness import Harness

    for public, expected in (("https://relais.example.org", "max-age=31536000"), ("", None)):
        overrides = {"dashboard": {"public_url": public}}
        async with Harness(database_url, clock=clock, overrides=overrides) as h, browser() as client:
            page = await client.get(f"http://127.0.0.1:{h.relais.web_port}/connexion")
            page.release()
            assert page.headers.get("Strict-Transport-Security") == expected, public


async def test_a_page_that_fails_says_so_with_its_security_headers(relais, monkeypatch):
    chat, awa, karim, julie, sami, lina = await held_meeting(relais)
    group = await load_group(relais, chat.id)

    async def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr("handlers.dashboard.pages.group_report", broken)
    async with browser() as client:
        await log_in(relais, client, awa)
        async with client.get(f"{relais.services.dashboard_url}/groupes/{group.id}") as page:
            body = await page.text()
            assert page.status == 500
            assert (
                page.headers["X-Frame-Options"] == "DENY"
                and "default-src 'none'" in page.headers["Content-Security-Policy"]
            )
            assert "cette page n'a pas pu s'afficher" in html.unescape(body) and "injected" not in body


async def test_the_department_view_filtered_paged_and_its_csv_streamed(relais, monkeypatch):
    """A coordinator files a group under a territory on its page; the view keeps only the groups
    asked for (a territory, a part of a name, a facilitator who planned a meeting), a page at a
    time, with the totals of all the groups kept; the CSV streams every group kept, then the total."""
    from bot.domain import department

    h = relais
    chat, awa, karim, julie, sami, lina = await held_meeting(h)
    other, zoe = other_group(h)
    h.tg.say(other, zoe, "/configurer Groupe de Zoé")
    await h.settle()
    mine = await load_group(h, chat.id)
    h.services.settings.dashboard.coordinators.append(sami.id)
    base = h.services.dashboard_url
    async with browser() as client:
        await log_in_with(client, base, await ask_link(h, sami))
        async with client.get(f"{base}/groupes/{mine.id}") as page:
            form = await page.text()
        async with client.post(f"{base}/groupes/{mine.id}/territoire", data={"territoire": "Haut-Bugey"}) as forged:
            assert forged.status == 403  # no CSRF token: nothing filed
        filed = {"territoire": "  Haut-Bugey ", "csrf": csrf_of(form)}
        async with client.post(f"{base}/groupes/{mine.id}/territoire", data=filed) as done:
            assert done.status == 200
        assert (await load_group(h, chat.id)).territory == "Haut-Bugey"
        for query, kept in (
            ("territoire=Haut-Bugey", [mine.display_name]),
            ("nom=zoé", ["Groupe de Zoé"]),
            ("animateur=Awa", [mine.display_name]),  # she planned its meeting
            ("nom=personne", []),
        ):
            async with client.get(f"{base}/groupes?{query}") as page:
                listing = html.unescape(await page.text())
            shown = [name for name in (mine.display_name, "Groupe de Zoé") if f">{name}</a>" in listing]
            assert shown == kept, query
        assert "Aucun groupe ne correspond à ces choix." in listing
        # A page at a time (two groups a page here), the totals of every group kept on top.
        monkeypatch.setattr(department, "PAGE_SIZE", 1)
        async with client.get(f"{base}/groupes") as page:
            first = html.unescape(await page.text())
        assert "Page 1 sur 2" in first and "2 groupes." in first and "En tout — réunions : 1 · présence : 40 %" in first
        assert 'rel="next"' in first and 'rel="prev"' not in first
        async with client.get(f"{base}/groupes?page=2") as page:
            second = html.unescape(await page.text())
        assert "Page 2 sur 2" in second and 'rel="prev"' in second
        assert (mine.display_name in first) != (mine.display_name in second)
        # The CSV: every group kept, whatever the page, streamed, then the total.
        monkeypatch.setattr(department, "SLICE", 1)
        async with client.get(f"{base}/groupes.csv") as got:
            assert got.headers["Content-Type"].startswith("text/csv")
            rows = parse_csv(await got.read())
        names = sorted([mine.display_name, "Groupe de Zoé"], key=str.casefold)
        assert [row[0] for row in rows[1:]] == [*names, "Total"]


async def test_the_board_comes_a_page_at_a_time(relais):
    """Two years of proposals: the group's page shows twenty at a time, by state or all, with the
    counts of every state."""
    from storage.models import Proposal

    h = relais
    chat, awa, karim, julie, sami, lina = await held_meeting(h)
    group = await load_group(h, chat.id)
    async with h.services.sessionmaker.begin() as session:
        now = h.clock.now()
        for number in range(3, 48):
            state = "sent" if number % 3 == 0 else "new"
            idea = Proposal(group_id=group.id, number=number, text=f"Idée {number}", state=state, created_at=now)
            idea.state_changed_at = now
            session.add(idea)
    base = h.services.dashboard_url
    async with browser() as client:
        await log_in(h, client, awa)
        async with client.get(f"{base}/groupes/{group.id}") as page:
            first = html.unescape(await page.text())
        assert first.count('class="card proposal"') == 20 and "Page 1 sur 3" in first
        assert "nouvelle (30)" in first and "transmise (16)" in first  # the counts of every state
        async with client.get(f"{base}/groupes/{group.id}?etat=sent&page=2") as page:
            sent = html.unescape(await page.text())
        assert sent.count('class="card proposal"') == 16 and "Page 1 sur" not in sent  # one page: 2 is 1
        async with client.get(f"{base}/groupes/{group.id}?page=3") as page:
            last = html.unescape(await page.text())
        assert last.count('class="card proposal"') == 7 and 'rel="prev"' in last and 'rel="next"' not in last
