"""The facilitators' guide as a printable PDF, from the same source as the web page
(docs/guide-animation.md): headings, paragraphs, lists, tables and command examples, A4, in the
attestation's font (DejaVu Sans, which every French letter prints in).

    .venv/bin/python scripts/guide_pdf.py [--source docs/guide-animation.md] [--out docs/guide-animation.pdf]

Only the Markdown the guide uses is read: `#` headings, paragraphs, `-` and `1.` lists, tables,
```fenced``` examples, **bold** and `code`. Characters the font lacks (the emoji) are left out."""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpdf import FPDF  # noqa: E402

from bot.ui.attestation import fonts, printable  # noqa: E402

INLINE_CODE = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*(.+?)\*\*")
ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\w)")
LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def _text(text: str) -> str:
    """One line of Markdown as the HTML fpdf writes: escaped, bold, code, links as their words."""
    kept = "".join(character for character in text if printable(character)).strip()
    kept = LINK.sub(r"\1", kept)
    kept = html.escape(kept, quote=False).replace("\\|", "|")
    kept = INLINE_CODE.sub(r'<font face="DejaVuMono">\1</font>', kept)
    kept = BOLD.sub(r"<b>\1</b>", kept)
    return ITALIC.sub(r"<i>\1</i>", kept)


def _cell(text: str) -> str:
    """A table cell: fpdf takes no tag inside one, so the code and bold marks are only dropped."""
    kept = "".join(character for character in text if printable(character)).strip()
    kept = LINK.sub(r"\1", kept).replace("\\|", "|")
    return html.escape(INLINE_CODE.sub(r"\1", BOLD.sub(r"\1", kept)), quote=False)


def to_html(markdown: str) -> str:
    """The guide's Markdown as the small HTML `FPDF.write_html` renders."""
    out: list[str] = []
    paragraph: list[str] = []
    lines = markdown.splitlines()
    index = 0

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_text(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index].rstrip()
        if line.startswith("```"):
            flush()
            block = []
            index += 1
            while index < len(lines) and not lines[index].startswith("```"):
                block.append(html.escape(lines[index]))
                index += 1
            out.append('<p><font face="DejaVuMono" size="9">' + "<br>".join(block) + "</font></p>")
        elif line.startswith("#"):
            flush()
            level = min(len(line) - len(line.lstrip("#")), 3)
            out.append(f"<h{level}>{_text(line.lstrip('#'))}</h{level}>")
        elif line.startswith("| "):
            flush()
            rows = []
            while index < len(lines) and lines[index].startswith("|"):
                cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", lines[index].strip())[1:-1]]
                if not all(set(cell) <= {"-", " "} for cell in cells):
                    rows.append(cells)
                index += 1
            index -= 1
            head, *body = rows
            out.append('<table width="100%"><thead><tr>')
            out += [f"<th>{_cell(cell)}</th>" for cell in head]
            out.append("</tr></thead><tbody>")
            for row in body:
                out.append("<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>")
            out.append("</tbody></table>")
        elif re.match(r"^(- |\d+\. )", line):
            flush()
            ordered = not line.startswith("- ")
            items = []
            while index < len(lines) and re.match(r"^(- |\d+\. |   )", lines[index]) and lines[index].strip():
                if re.match(r"^(- |\d+\. )", lines[index]):
                    items.append(re.sub(r"^(- |\d+\. )", "", lines[index]))
                else:
                    items[-1] += " " + lines[index].strip()
                index += 1
            index -= 1
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{_text(item)}</li>" for item in items) + f"</{tag}>")
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
        index += 1
    flush()
    return "\n".join(out)


def guide_pdf(source: Path) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title("Guide de l'animation — Relais")
    pdf.add_font("DejaVu", "", str(fonts() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts() / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(fonts() / "DejaVuSans-Oblique.ttf"))
    pdf.add_font("DejaVu", "BI", str(fonts() / "DejaVuSans-BoldOblique.ttf"))
    pdf.add_font("DejaVuMono", "", str(fonts() / "DejaVuSansMono.ttf"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font("DejaVu", size=10.5)
    pdf.write_html(to_html(source.read_text(encoding="utf-8")), font_family="DejaVu")
    return bytes(pdf.output())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT / "docs" / "guide-animation.md")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "guide-animation.pdf")
    arguments = parser.parse_args()
    arguments.out.write_bytes(guide_pdf(arguments.source))
    print(f"{arguments.out} written")


if __name__ == "__main__":
    main()
