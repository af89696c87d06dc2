"""Translations: gettext catalogues (bot/ui/locales/<lang>.po) keyed by message id, read with Babel.

Every message sent to Telegram uses HTML parse mode, so `t()` escapes the values it interpolates;
wrap a value in `Markup` when it is already safe HTML (a link built by the code, for instance).
`plain()` is for texts Telegram shows without parsing (button labels, callback answers).
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Callable
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


@cache
def plurals(language: str) -> tuple[dict[str, tuple[str, ...]], Callable[[int], int]]:
    """The plural messages (msgid_plural in the catalogue: one text per plural form) and the
    language's rule (its Plural-Forms header: French says "1 réunion", "0 réunion", "2 réunions")."""
    with open(LOCALES_DIR / f"{language}.po", "rb") as handle:
        po = read_po(handle, locale=language)
    forms = {
        str(message.id[0]): tuple(str(text) for text in message.string)
        for message in po
        if isinstance(message.id, tuple) and isinstance(message.string, tuple) and all(message.string)
    }
    return forms, gettext.c2py(po.plural_expr)


def tn(language: str, key: str, count: int, **values: object) -> str:
    """The plural message `key` for `count`, in the form the language uses for that number, as
    Telegram HTML (values escaped as by `t`); `{count}` is available to the text."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    forms, rule = plurals(language)
    if key not in forms:
        forms, rule = plurals(DEFAULT_LANGUAGE)
    if key not in forms:
        raise KeyError(f"plural message {key!r} is in no catalogue")
    text = forms[key][min(rule(count), len(forms[key]) - 1)]
    return text.format(count=count, **_escaped(values))


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
    return _lookup(language, key).format(**_escaped(values))


def _escaped(values: dict[str, object]) -> dict[str, object]:
    return {
        name: value if isinstance(value, Markup) or not isinstance(value, str) else html.escape(value, quote=False)
        for name, value in values.items()
    }


def plain(language: str, key: str, **values: object) -> str:
    """The message `key` for places Telegram does not parse as HTML."""
    return _lookup(language, key).format(**values)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}
