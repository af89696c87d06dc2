"""The group's flyer (/affiche): one printable page to hand out at a meeting, for the members Relais
cannot see (they were in the group before it and never tapped a button). Scanning its QR code
(segno) opens the private chat with Relais, already linked to the group; the page says how in
three steps, with the next meeting. As a PDF (fpdf2) to print, and as a PNG (matplotlib) to show
on a phone or a screen."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno

from bot.ui.attestation import fonts
from bot.ui.i18n import plain


@dataclass(frozen=True)
class FlyerWords:
    """What the page says, in the group's language."""

    title: str
    lead: str
    steps: tuple[str, ...]
    next_meeting: str | None
    link: str


def flyer_words(language: str, group_name: str, link: str, next_meeting: str | None) -> FlyerWords:
    return FlyerWords(
        title=plain(language, "flyer.title", group=group_name),
        lead=plain(language, "flyer.lead"),
        steps=tuple(plain(language, f"flyer.step{number}") for number in (1, 2, 3)),
        next_meeting=plain(language, "flyer.next", meeting=next_meeting) if next_meeting else None,
        link=link,
    )


def _qr_png(link: str, scale: int) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def flyer_pdf(words: FlyerWords) -> bytes:
    from fpdf import FPDF  # imported when a flyer is first made, not at start-up

    pdf = FPDF(format="A4")
    pdf.set_title(words.title)
    pdf.add_font("DejaVu", "", str(fonts() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts() / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_margins(22, 22, 22)
    width = pdf.w - 44
    pdf.set_xy(22, 24)
    pdf.set_font("DejaVu", "B", 24)
    pdf.multi_cell(width, 12, words.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 15)
    pdf.multi_cell(width, 8, words.lead, align="C", new_x="LMARGIN", new_y="NEXT")
    side = 95
    top = pdf.get_y() + 8
    pdf.image(io.BytesIO(_qr_png(words.link, 10)), x=(pdf.w - side) / 2, y=top, w=side, h=side)
    pdf.set_xy(22, top + side + 8)
    pdf.set_font("DejaVu", "", 14)
    for step in words.steps:
        pdf.multi_cell(width, 8, step, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    if words.next_meeting:
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 14)
        pdf.multi_cell(width, 8, words.next_meeting, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_xy(22, pdf.h - 26)
    pdf.multi_cell(width, 6, words.link, align="C")
    return bytes(pdf.output())


def flyer_png(words: FlyerWords) -> bytes:
    """The same page as a picture, 1000 by 1414 pixels (A4's proportions)."""
    from matplotlib.figure import Figure  # imported when a flyer is first made, not at start-up

    figure = Figure(figsize=(10, 14.14), dpi=100)
    figure.patch.set_facecolor("white")
    text: dict[str, Any] = {"fontfamily": "DejaVu Sans", "ha": "center", "wrap": True}
    figure.text(0.5, 0.95, words.title, fontsize=30, fontweight="bold", va="top", **text)
    figure.text(0.5, 0.87, words.lead, fontsize=19, va="top", **text)
    qr = segno.make(words.link, error="m")
    axes = figure.add_axes((0.22, 0.36, 0.56, 0.40))
    axes.imshow([list(row) for row in qr.matrix], cmap="binary", interpolation="nearest")
    axes.set_axis_off()
    lines = [*words.steps, *([words.next_meeting] if words.next_meeting else [])]
    for index, line in enumerate(lines):
        figure.text(0.08, 0.31 - index * 0.06, line, fontsize=18, va="top", fontfamily="DejaVu Sans", wrap=True)
    figure.text(0.5, 0.03, words.link, fontsize=13, va="bottom", **text)
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor="white")
    return out.getvalue()
