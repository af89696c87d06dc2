"""The attestation of participation: one page in French, as a PDF (fpdf2), with the name as the
person gave it, the group, the period, the meetings attended with their dates and topics, what
the group carried during that time, and a space for the department's signature.

The font is DejaVu Sans, which matplotlib ships: every French letter (œ, ’, «») prints, with no
system font needed. A name with letters the font lacks (Chinese, say) is asked again in letters
it has (`printable`), rather than printed with blanks."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.reports import AttestationFacts
from bot.ui.i18n import plain, tn
from storage.models import Group

MAX_LISTED = 24  # meetings listed on the page; beyond, their number is given


@cache
def fonts() -> Path:
    """Where matplotlib keeps DejaVu. matplotlib and fpdf2 are imported when a page is first
    made, not when Relais starts (together about two seconds of a start)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@cache
def _letters() -> frozenset[int]:
    """The characters the attestation's fonts can print (the same in regular and bold)."""
    from fontTools.ttLib import TTFont

    found: set[int] | None = None
    for file in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        cmap = set(TTFont(str(fonts() / file), lazy=True).getBestCmap())
        found = cmap if found is None else found & cmap
    return frozenset(found or ())


def printable(text: str) -> bool:
    """Whether every character of `text` prints on the attestation (spaces always do)."""
    letters = _letters()
    return all(ord(character) in letters or character.isspace() for character in text)


def attestation_pdf(language: str, group: Group, name: str, facts: AttestationFacts, issued: str) -> bytes:
    from fpdf import FPDF

    zone = ZoneInfo(group.timezone)

    def day(moment) -> str:
        return format_date(moment.astimezone(zone).date(), "d MMMM y", locale=language)

    pdf = FPDF(format="A4")
    pdf.set_title(plain(language, "attestation.title"))
    pdf.add_font("DejaVu", "", str(fonts() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts() / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_margins(22, 22, 22)
    pdf.set_xy(22, 26)
    width = pdf.w - 44
    pdf.set_font("DejaVu", "B", 20)
    pdf.cell(width, 12, plain(language, "attestation.title"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("DejaVu", "", 12)
    body = plain(
        language,
        "attestation.body",
        name=name,
        group=group.display_name,
        since=day(facts.since),
        until=day(facts.until),
    )
    pdf.multi_cell(width, 7, body, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(width, 7, tn(language, "attestation.meetings", len(facts.meetings)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for meeting in facts.meetings[-MAX_LISTED:]:
        pdf.multi_cell(width, 6, f"• {day(meeting.starts_at)} : {meeting.topic[:90]}", new_x="LMARGIN", new_y="NEXT")
    if len(facts.meetings) > MAX_LISTED:
        pdf.multi_cell(
            width,
            6,
            plain(language, "attestation.more", count=len(facts.meetings) - MAX_LISTED),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(
        width, 7, tn(language, "attestation.proposals", facts.proposals), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_xy(22, pdf.h - 80)
    pdf.multi_cell(width, 7, plain(language, "attestation.issued", date=issued), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(width, 7, plain(language, "attestation.signature"), new_x="LMARGIN", new_y="NEXT")
    pdf.rect(22, pdf.get_y() + 2, 90, 32)
    return bytes(pdf.output())
