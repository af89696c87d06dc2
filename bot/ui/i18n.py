"""Translations: gettext catalogues (bot/ui/locales/<lang>.po) keyed by message id, read with Babel.

Every message sent to Telegram uses HTML parse mode, so `t()` escapes the values it interpolates;
wrap a value in `Markup` when it is already safe HTML (a link built by the code, for instance).
`plain()` is for texts Telegram shows without parsing (button labels, callback answers).
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Formatter

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


class Markup(str):
    """A string that is already valid Telegram HTML and must not be escaped again."""


@cache
def catalogue(language: str) -> dict[str, str]:
    with open(LOCALES_DIR / f"{language}.po", "rb") as handle:
        po = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in po
        if isinstance(message.id, str) and message.id and isinstance(message.string, str) and message.string
    }


def pick_language(code: str | None, fallback: str = DEFAULT_LANGUAGE) -> str:
    """Telegram gives 'fr', 'fr-FR', 'en-GB'...; use it when we have that language."""
    if code:
        short = code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return fallback


def _lookup(language: str, key: str) -> str:
    text = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key)
    if text is None:
        raise KeyError(f"message {key!r} is in no catalogue")
    return text


def t(language: str, key: str, **values: object) -> str:
    """The message `key` in `language`, as Telegram HTML, with escaped values."""
    safe = {
        name: value if isinstance(value, Markup) or not isinstance(value, str) else html.escape(value, quote=False)
        for name, value in values.items()
    }
    return _lookup(language, key).format(**safe)


def plain(language: str, key: str, **values: object) -> str:
    """The message `key` for places Telegram does not parse as HTML."""
    return _lookup(language, key).format(**values)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}
