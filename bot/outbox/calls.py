"""A Bot API call's arguments as JSON, so that an answer to an update can wait in the database
(bot/outbox/notices.py) and be made again, the same, by another process after a crash.

python-telegram-bot's objects are written with the arguments they were built with (not with
`to_dict()`, which drops an explicit None: a poll option's `text_parse_mode=None`, which keeps
people's "a < b" from being read as HTML, would become the bot's default parse mode); files are
written as their bytes. Anything else is refused: a call that cannot be written down could not
be sent again."""

from __future__ import annotations

import base64
import inspect
from typing import Any

import telegram
from telegram import InputFile, TelegramObject
from telegram._utils.defaultvalue import DefaultValue

TYPE, ARGS, FILE, NAME = "$type", "args", "$file", "name"
JSON = str | int | float | bool | None | list[Any] | dict[str, Any]


def encode_call(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's keyword arguments, as JSON (DefaultValue: left for the bot's defaults)."""
    return {key: _encode(value) for key, value in kwargs.items() if not isinstance(value, DefaultValue)}


def decode_call(call: dict[str, Any]) -> dict[str, Any]:
    return {key: _decode(value) for key, value in call.items()}


_PARAMETERS: dict[str, tuple[str, ...]] = {}


def _parameters(cls: type[TelegramObject]) -> tuple[str, ...]:
    """The arguments a type is built with (read once per type)."""
    found = _PARAMETERS.get(cls.__name__)
    if found is None:
        names = inspect.signature(cls.__init__).parameters
        found = _PARAMETERS[cls.__name__] = tuple(name for name in names if name not in ("self", "api_kwargs"))
    return found


def _encode(value: Any) -> JSON:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, InputFile):
        content = value.input_file_content
        if not isinstance(content, bytes):
            content = content.read()
        return {FILE: base64.b64encode(content).decode("ascii"), NAME: value.filename}
    if isinstance(value, TelegramObject) and getattr(telegram, type(value).__name__, None) is type(value):
        args = {}
        for name in _parameters(type(value)):
            item = getattr(value, name, None)
            if item is not None and not isinstance(item, DefaultValue):
                args[name] = _encode(item)
            elif item is None and name.endswith("parse_mode"):  # None on purpose: no default applies
                args[name] = None
        return {TYPE: type(value).__name__, ARGS: args}
    raise TypeError(f"cannot write down a {type(value).__name__} for a later send")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict) and FILE in value:
        return InputFile(base64.b64decode(value[FILE]), filename=value.get(NAME))
    if isinstance(value, dict) and TYPE in value:
        cls = getattr(telegram, value[TYPE], None)
        if not (isinstance(cls, type) and issubclass(cls, TelegramObject)):
            raise ValueError(f"not a Telegram type: {value[TYPE]!r}")
        return cls(**{name: _decode(item) for name, item in value[ARGS].items()})
    return value
