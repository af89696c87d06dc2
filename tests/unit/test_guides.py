"""The guides stay true: every command a guide shows is one Relais answers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDES = [ROOT / "docs" / "guide-animation.md"]
COMMAND_IN_GUIDE = re.compile(r"`/([^\s`]+)")
REGISTERED = re.compile(r'CommandHandler\(\s*"([a-z_]+)"')


def registered_commands() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        found.update(REGISTERED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_command_a_guide_shows_is_answered():
    commands = registered_commands()
    assert {"reunion", "suivi", "aide"} <= commands, "the handlers' registration changed: read it again"
    for guide in GUIDES:
        # An accented command (`/réunion`) is shown as what Telegram cuts short: not counted.
        shown = {name for name in COMMAND_IN_GUIDE.findall(guide.read_text(encoding="utf-8")) if name.isascii()}
        assert shown, guide
        assert shown <= commands, f"{guide.name}: {sorted(shown - commands)}"
