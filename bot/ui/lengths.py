"""Telegram's length limits, measured as Telegram measures them: in UTF-16 code units (an emoji
outside the basic plane counts two) of the text people see, after the HTML is parsed.

A message over the limit is refused whole. So a long message (a board of fifty proposals, a
roster) is sent as several, cut between lines, each whole in its markup; an edit, which cannot
become two messages, is shortened."""

from __future__ import annotations

import html
import re

MAX_TEXT = 4096
_TAG = re.compile(r"<[^>]*>")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(html_text: str) -> int:
    """What Telegram counts of a message in HTML parse mode: the text without its tags."""
    return utf16_length(html.unescape(_TAG.sub("", html_text)))


def _open_tags(line: str) -> bool:
    """Whether a line leaves a tag open (then it cannot end a message on its own)."""
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-zA-Z-]+)[^>]*>", line):
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            if stack and stack[-1] == name:
                stack.pop()
        else:
            stack.append(name)
    return bool(stack)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` as messages under `limit`, cut between lines (never inside a tag that spans lines),
    a line longer than the limit cut at a space. A text under the limit comes back whole."""
    if visible_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    for line in _blocks(text.split("\n")):
        for piece in _cut_line(line, limit):
            candidate = "\n".join([*current, piece])
            if current and visible_length(candidate) > limit:
                parts.append("\n".join(current).strip("\n"))
                current = [piece]
            else:
                current.append(piece)
    parts.append("\n".join(current).strip("\n"))
    return [part for part in parts if part.strip()]


def _blocks(lines: list[str]) -> list[str]:
    """Lines joined where a tag spans them (a <blockquote> of several lines stays whole)."""
    blocks: list[str] = []
    pending: list[str] = []
    for line in lines:
        pending.append(line)
        if not _open_tags("\n".join(pending)):
            blocks.append("\n".join(pending))
            pending = []
    if pending:
        blocks.append("\n".join(pending))
    return blocks


def _cut_line(line: str, limit: int) -> list[str]:
    """A line without markup longer than the limit, cut at the last space that fits (or, in one
    long word, at the last character that fits, never inside an entity such as &amp;)."""
    if visible_length(line) <= limit or _TAG.search(line):
        return [line]
    pieces = []
    while visible_length(line) > limit:
        low, high = 1, len(line)  # the longest prefix that fits, found by bisection
        while low < high:
            middle = (low + high + 1) // 2
            if visible_length(line[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        fit = low
        amp = line.rfind("&", 0, fit)
        if amp >= 0 and ";" not in line[amp:fit]:
            fit = max(1, amp)  # the entity starting there goes to the next piece, whole
        space = line.rfind(" ", 0, fit + 1)
        cut = space if space > fit // 2 else fit
        pieces.append(line[:cut])
        line = line[cut:].lstrip(" ")
    return [*pieces, line]


def shortened(text: str, limit: int = MAX_TEXT) -> str:
    """For an edit: the first part of `text` that fits, ended with "…"."""
    parts = split_text(text, limit - 2)
    return text if len(parts) == 1 else parts[0] + "\n…"
