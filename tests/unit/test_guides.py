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


def test_the_guide_prints_as_a_pdf_from_the_same_source(tmp_path):
    """scripts/guide_pdf.py builds the printable guide from the Markdown: every heading is in it."""
    import io
    import sys

    from pypdf import PdfReader

    sys.path.insert(0, str(ROOT / "scripts"))
    from guide_pdf import guide_pdf

    source = ROOT / "docs" / "guide-animation.md"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(guide_pdf(source))).pages)
    headings = [
        line.lstrip("#").strip() for line in source.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    ]
    assert len(headings) > 10
    for heading in headings:
        assert heading in text, heading
    assert "/reunion 12/12 14h | Centre social | Bilan" in text  # the examples as typed
