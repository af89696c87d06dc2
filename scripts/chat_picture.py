"""Draw docs/screenshots/annonce.png, the README's picture of Relais in a group: the real bot
announces a meeting on the built-in fake Telegram, three members answer, and the announcement as
the group sees it (its text and its buttons, with the counts) is drawn the way a Telegram client
shows it, in Debian's Chromium through Playwright.

    .venv/bin/python scripts/chat_picture.py [--out docs/screenshots/annonce.png]

Needs the test tools (make install) and Chromium (apt-get install chromium)."""

from __future__ import annotations

import argparse
import asyncio
import html
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.simulator.harness import Harness  # noqa: E402

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #8fb8a0; font: 15px/1.35 system-ui, "DejaVu Sans", "Noto Color Emoji", sans-serif; }}
.chat {{ width: 430px; padding: 14px 12px 18px; }}
.head {{ background: #517da2; color: #fff; padding: 10px 14px; margin: -14px -12px 14px; font-weight: 600; }}
.head small {{ display: block; font-weight: 400; opacity: .8; }}
.who {{ color: #2f6ea5; font-weight: 600; margin-bottom: 3px; }}
.bubble {{ background: #fff; border-radius: 12px 12px 12px 4px; padding: 8px 11px; white-space: pre-wrap;
          box-shadow: 0 1px 1px rgba(0,0,0,.15); }}
.me {{ background: #effdde; border-radius: 12px 12px 4px 12px; margin: 10px 0 0 auto; width: fit-content; }}
.row {{ display: flex; gap: 4px; margin-top: 4px; }}
.row span {{ flex: 1; text-align: center; color: #fff; background: rgba(60, 90, 80, .55); border-radius: 8px;
            padding: 8px 4px; font-size: 14px; }}
</style></head><body><div class="chat">
<div class="head">{title}<small>{members} membres</small></div>
<div class="bubble me">{command}</div>
<div class="bubble" style="margin-top:10px"><div class="who">Relais</div>{text}</div>
{rows}
</div></body></html>"""


async def announcement(database: Path) -> tuple[str, str, list[list[str]], int]:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    async with Harness(f"sqlite+aiosqlite:///{database}", clock=clock) as h:
        tg = h.tg
        awa = tg.user("Awa", "awa_anim")
        chat = tg.group("Groupe ressources Oyonnax", creator=awa)
        tg.add_bot(chat, awa)
        people = [tg.user(name, f"{name.lower()}_m") for name in ("Karim", "Julie", "Sami", "Lina", "Nadia")]
        for person in people:
            tg.join(chat, person)
        await h.settle()
        command = "/reunion jeudi 12/11 14h | Centre social, salle 2 | Transports et horaires"
        tg.say(chat, awa, command)
        await h.settle()
        message = next(m for m in tg.bot_messages(chat.id) if "Je viens" in " ".join(m.labels()))
        for person, label in zip(
            people, ("Je viens", "Je viens", "Je viens", "Peut-être", "Je ne peux pas"), strict=True
        ):
            tg.press(person, message, label)
        await h.settle()
        rows = [[button["text"] for button in row] for row in (message.reply_markup or {}).get("inline_keyboard", [])]
        return command, message.html, rows, len(people) + 2


async def draw(out: Path) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as folder:
        command, text, rows, members = await announcement(Path(folder) / "relais.db")
    page_html = PAGE.format(
        title="Groupe ressources Oyonnax",
        members=members,
        command=html.escape(command),
        text=text.replace("\n", "<br>"),
        rows="".join(
            '<div class="row">' + "".join(f"<span>{html.escape(label)}</span>" for label in row) + "</div>"
            for row in rows
        ),
    )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 454, "height": 300}, device_scale_factor=2)
        await page.set_content(page_html)
        await page.locator(".chat").screenshot(path=str(out))
        await browser.close()
    print(f"{out} drawn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "annonce.png")
    asyncio.run(draw(parser.parse_args().out))


if __name__ == "__main__":
    main()
