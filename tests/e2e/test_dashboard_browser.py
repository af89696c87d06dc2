"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright (with the
system's browser: nothing is downloaded), against the real process and the fake Telegram.

- log in through /tableau's link, see the board, change a proposal's state and see the bot post
  the follow-up in the group;
- an expired link, a reused link, a form without its CSRF token and another group's page are
  refused, in French;
- axe-core audits every page: no serious or critical violation;
- on a phone-sized screen the group page needs no horizontal scrolling.

Skipped, saying why, only where no Chromium can be found (`.ci/run` installs Debian's).
Set RELAIS_SCREENSHOTS=docs/screenshots to refresh the screenshots of docs/features.md from this run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.simulator.harness import Harness
from tests.conftest import assert_telegram_happy
from tests.e2e.test_dashboard import ask_link
from tests.e2e.test_reports import held_meeting
from tests.support.helpers import load_group, other_group

CHROMIUM = os.environ.get("RELAIS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine: apt-get install chromium (.ci/run does it)"
)
# What a sandboxed CI machine needs: no sandbox as root, and no calls out to Google's services.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
async def relais(tmp_path, clock) -> AsyncIterator[Harness]:
    """On SQLite: what the browser checks is the web side (tests/e2e/test_dashboard.py runs the
    same flows over HTTP on both databases)."""
    async with Harness(f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}", clock=clock) as h:
        yield h
        await h.settle()
        assert_telegram_happy(h)


@pytest.fixture
async def chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def open_dashboard(h, chromium, user, viewport=DESKTOP):
    """A new browser profile that logs in through the link /tableau sent `user`."""
    context = await chromium.new_context(viewport=viewport, locale="fr-FR")
    page = await context.new_page()
    await page.goto(await ask_link(h, user))
    await page.get_by_role("button", name="Ouvrir le tableau de bord").click()
    await page.wait_for_url("**/groupes")
    return page


async def world(h):
    """held_meeting's group, with a meeting to come and a second group Awa does not facilitate."""
    chat, awa, karim, julie, sami, lina = await held_meeting(h)
    h.tg.say(chat, awa, "/reunion 10/12 14h | Centre social | Les transports")
    await h.settle()
    other, zoe = other_group(h)
    h.tg.say(other, zoe, "/configurer Groupe de Zoé")
    await h.settle()
    return chat, awa, await load_group(h, chat.id), await load_group(h, other.id)


async def test_log_in_see_the_board_and_move_a_proposal(relais, chromium):
    chat, awa, group, _ = await world(relais)
    page = await open_dashboard(relais, chromium, awa)
    await page.get_by_role("link", name=group.display_name).click()
    await page.wait_for_url(f"**/groupes/{group.id}")
    assert await page.get_by_role("heading", level=1).inner_text() == group.display_name
    await page.get_by_label("Nouvel état de la proposition n°2").select_option(label="acceptée")
    before = len(relais.tg.bot_messages(chat.id))
    # Keyboard only: the form's button is reached and pressed without a mouse.
    await page.get_by_label("Précision pour la n°2").focus()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**fait=2**")
    assert "la proposition n°2 est maintenant « acceptée »" in await page.get_by_role("status").inner_text()
    await relais.settle()
    posted = [m.text for m in relais.tg.bot_messages(chat.id)[before:]]
    assert len(posted) == 1 and "n°2" in posted[0] and "Un local" in posted[0] and "accept" in posted[0], posted


async def test_expired_reused_forged_and_foreign_are_refused(relais, chromium):
    chat, awa, group, theirs = await world(relais)
    link = await ask_link(relais, awa)
    first = await chromium.new_context()
    page = await first.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Ouvrir le tableau de bord").click()
    await page.wait_for_url("**/groupes")
    # Another group's page, typed in the address bar.
    response = await page.goto(f"{relais.services.dashboard_url}/groupes/{theirs.id}")
    assert response.status == 403 and "ouverte qu'à l'animation du groupe" in await page.inner_text("main")
    # A form that lost its CSRF token changes nothing.
    await page.goto(f"{relais.services.dashboard_url}/groupes/{group.id}")
    await page.locator("#proposition-2 input[name=csrf]").evaluate("input => input.remove()")
    await page.get_by_label("Nouvel état de la proposition n°2").select_option(label="acceptée")
    await page.locator("#proposition-2 button").click()
    await page.wait_for_load_state()
    assert "Rechargez la page" in await page.inner_text("main")
    await page.goto(f"{relais.services.dashboard_url}/groupes/{group.id}")
    assert "transmise" in await page.locator("#proposition-2").inner_text()  # still where /suivi left it
    # The same link on another device: it served once.
    second = await (await chromium.new_context()).new_page()
    response = await second.goto(link)
    assert response.status == 403 and "déjà servi" in await second.inner_text("main")
    # A link older than 15 minutes.
    late = await ask_link(relais, awa)
    relais.clock.advance(timedelta(minutes=16))
    response = await second.goto(late)
    assert response.status == 403 and "a expiré" in await second.inner_text("main")


async def audit(page) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core" and results.response["url"] == page.url
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_every_page_passes_an_accessibility_audit(relais, chromium):
    chat, awa, group, theirs = await world(relais)
    base = relais.services.dashboard_url
    found: list[str] = []
    anonymous = await (await chromium.new_context()).new_page()
    await anonymous.goto(base + "/")
    found += await audit(anonymous)
    await anonymous.goto(await ask_link(relais, awa))  # the page that asks to confirm
    found += await audit(anonymous)
    await anonymous.goto(base + "/connexion?jeton=forged")  # a refusal
    found += await audit(anonymous)
    for viewport in (DESKTOP, PHONE):
        page = await open_dashboard(relais, chromium, awa, viewport)
        for path in (
            "/groupes",
            "/groupes?tri=presence&periode=2026",
            "/groupes?periode=n'importe quoi",
            f"/groupes/{group.id}",
            f"/groupes/{group.id}?etat=sent",
            f"/groupes/{group.id}?langue=en",
            f"/groupes/{theirs.id}",
        ):
            await page.goto(base + path)
            found += await audit(page)
    assert not found, "\n".join(found)


async def test_a_phone_shows_the_group_page_without_horizontal_scrolling(relais, chromium):
    chat, awa, group, _ = await world(relais)
    page = await open_dashboard(relais, chromium, awa, PHONE)
    for path in (f"/groupes/{group.id}", "/groupes"):
        await page.goto(relais.services.dashboard_url + path)
        widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{path}: {widths[0]} px of content in a {widths[1]} px screen"
    # The chart scales down to the screen and keeps its proportions.
    await page.goto(relais.services.dashboard_url + f"/groupes/{group.id}")
    box = await page.locator("img.chart").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"] and abs(box["width"] / box["height"] - 4 / 3) < 0.02


async def test_screenshots_of_the_main_pages(relais, chromium, tmp_path):
    chat, awa, group, _ = await world(relais)
    shots: dict[str, bytes] = {}
    for name, viewport in (("bureau", DESKTOP), ("telephone", PHONE)):
        page = await open_dashboard(relais, chromium, awa, viewport)
        shots[f"groupes-{name}.png"] = await page.screenshot(full_page=True)
        await page.goto(relais.services.dashboard_url + f"/groupes/{group.id}")
        shots[f"groupe-{name}.png"] = await page.screenshot(full_page=True)
    for name, image in shots.items():
        assert image.startswith(b"\x89PNG") and len(image) > 10_000, name
    save(tmp_path, shots)
    if os.environ.get("RELAIS_SCREENSHOTS"):
        save(Path(os.environ["RELAIS_SCREENSHOTS"]), shots)


def save(folder: Path, shots: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in shots.items():
        (folder / name).write_bytes(image)
