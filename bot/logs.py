"""Logging set-up. Logs carry ids, never names, texts or the token."""

from __future__ import annotations

import logging


class RedactToken(logging.Filter):
    """Belt and braces: blank the bot token wherever a library would print it (e.g. in URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def setup_logging(level: str, token: str = "") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """httpx logs every request URL, which holds the token; PTB's debug logs hold message texts;
    the database drivers' debug logs hold query parameters, names included."""
    for noisy in (
        "httpx",
        "httpcore",
        "telegram",
        "apscheduler",
        "aiohttp.access",
        "aiosqlite",
        "asyncpg",
        "sqlalchemy",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
