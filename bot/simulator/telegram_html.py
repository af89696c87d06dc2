"""Telegram's HTML parse mode, as strictly as Telegram applies it.

Only a few tags are accepted, every tag must be closed in order, and `<`, `>`, `&` in text must be
written as entities. A violation makes Telegram refuse the whole message with
"Bad Request: can't parse entities: ...", which is what `parse()` raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "span",
    "tg-spoiler",
    "tg-emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>")
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")


class HTMLParseError(ValueError):
    """Raised with Telegram's own wording."""


@dataclass
class Parsed:
    text: str  # what the user sees
    links: list[str]  # href of every <a>


def _unescape_entity(token: str, offset: int) -> str:
    body = token[1:-1]
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise HTMLParseError(f"can't parse entities: invalid character code at byte offset {offset}")
        return chr(code)
    if body in NAMED_ENTITIES:
        return NAMED_ENTITIES[body]
    raise HTMLParseError(f"can't parse entities: unsupported entity &{body}; at byte offset {offset}")


def _check_attributes(tag: str, raw: str, offset: int, links: list[str]) -> None:
    attrs = {m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "") for m in _ATTR_RE.finditer(raw)}
    if tag == "a":
        if "href" not in attrs:
            raise HTMLParseError(f'can\'t parse entities: tag "a" must have attribute "href" at byte offset {offset}')
        links.append(attrs["href"])
    elif tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HTMLParseError(
                f'can\'t parse entities: tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
    elif tag == "tg-emoji" and "emoji-id" not in attrs:
        raise HTMLParseError(
            f'can\'t parse entities: tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
        )


def parse(source: str) -> Parsed:
    """Validate Telegram HTML and return the visible text."""
    out: list[str] = []
    stack: list[str] = []
    links: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        offset = len(source[:i].encode("utf-8"))
        if char == "<":
            match = _TAG_RE.match(source, i)
            if not match:
                raise HTMLParseError(f"can't parse entities: unexpected character '<' at byte offset {offset}")
            closing, tag, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if tag not in ALLOWED_TAGS:
                raise HTMLParseError(f'can\'t parse entities: unsupported start tag "{tag}" at byte offset {offset}')
            if closing:
                if not stack or stack[-1] != tag:
                    raise HTMLParseError(f"can't parse entities: unexpected end tag at byte offset {offset}")
                stack.pop()
            else:
                _check_attributes(tag, attributes, offset, links)
                stack.append(tag)
            i = match.end()
        elif char == "&":
            match = _ENTITY_RE.match(source, i)
            if not match:
                raise HTMLParseError(f"can't parse entities: character '&' is reserved at byte offset {offset}")
            out.append(_unescape_entity(match.group(0), offset))
            i = match.end()
        elif char == ">":
            raise HTMLParseError(f"can't parse entities: character '>' is reserved at byte offset {offset}")
        else:
            out.append(char)
            i += 1
    if stack:
        raise HTMLParseError(f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return Parsed(text="".join(out), links=links)


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
