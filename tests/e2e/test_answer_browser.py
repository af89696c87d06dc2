"""The decision-maker's answer page in a real browser (Debian's headless Chromium): answered with
the keyboard only on a 390 px phone screen, audited by axe-core (the form, its refusal, the
answer recorded, a forged link), with no horizontal scrolling. The group reads the answer."""

from __future__ import annotations

import re

from tests.e2e.test_dashboard_browser import ARGS, CHROMIUM, PHONE, audit, chromium, pytestmark, relais, world

__all__ = ["ARGS", "CHROMIUM", "chromium", "pytestmark", "relais"]  # the fixtures and the skip, shared

LINK_RE = re.compile(r"(http://\S+/reponse/\S+)")


async def answer_link(h, awa) -> str:
    """The link /suivi 2 transmise gave Awa in private (held_meeting's world)."""
    await h.run_jobs()
    text = next(m.text for m in reversed(h.tg.bot_messages(awa.id)) if "/reponse/" in (m.text or ""))
    return LINK_RE.search(text).group(1)


async def test_answered_with_the_keyboard_on_a_phone(relais, chromium):
    chat, awa, group, _ = await world(relais)
    relais.tg.start_private(awa)
    url = await answer_link(relais, awa)
    context = await chromium.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    await page.goto(url)
    assert "Une proposition du groupe" in await page.get_by_role("heading", level=1).inner_text()
    found = await audit(page)
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    # Keyboard only: the first choice, an arrow to "Refusée", then the fields, then the button,
    # without a reason first (refused, said on the page), then with it.
    await page.get_by_label("Acceptée").focus()
    await page.keyboard.press("ArrowDown")
    assert await page.get_by_label("Refusée (donnez la raison)").is_checked()
    await page.keyboard.press("Tab")  # the answer's text
    await page.keyboard.press("Tab")  # the date (only for « à l'étude »)
    await page.keyboard.press("Tab")  # the button
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    assert "Pour un refus, donnez la raison" in await page.get_by_role("alert").inner_text()
    found += await audit(page)
    await page.get_by_label("Votre réponse en quelques mots").focus()
    await page.keyboard.type("Le budget de cette année est engagé ; nous en reparlerons en juin.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    before = len(relais.tg.bot_messages(chat.id))
    await page.keyboard.press("Enter")
    await page.wait_for_url("**merci=1")
    assert "le groupe en est prévenu" in (await page.get_by_role("status").inner_text()).lower()
    found += await audit(page)
    await relais.settle()
    posted = [m.text for m in relais.tg.bot_messages(chat.id)[before:]]
    assert len(posted) == 1 and "est refusée" in posted[0] and "nous en reparlerons en juin" in posted[0], posted
    # A forged link: a French page, accessible too.
    response = await page.goto(url[:-2] + "xx")
    assert response.status == 404 and "n'est pas valable" in await page.inner_text("main")
    found += await audit(page)
    assert not found, "\n".join(found)
