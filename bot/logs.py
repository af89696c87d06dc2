"""Logging set-up. Logs carry ids, never names, texts, the token or the webhook secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.failures import redact


class RedactSecrets(logging.Filter):
    """Blank the secrets wherever a library would print them: in a message (a URL holds the
    token) and in a traceback (python-telegram-bot's InvalidToken quotes it)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, self.secrets), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class NoUpdateBodies(logging.Filter):
    """python-telegram-bot logs the whole body of updates it cannot parse ("Received data was
    ..."): names and texts. Only the fact is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "Received data was %r" in record.msg:
            body = record.args[0] if isinstance(record.args, tuple) and record.args else None
            record.msg = "Error while parsing updates (%s received; their contents are not logged)"
            record.args = (len(body) if isinstance(body, list | tuple) else 0,)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line (`[logging] format = "json"`), for a log collector. It carries
    what the text line carries and no more: ids, never names or texts (the same filters apply)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, secrets: Iterable[str] = (), format: str = "text") -> None:
    handler = logging.StreamHandler()
    if format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


_NO_BODIES = NoUpdateBodies()


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
        "fontTools",
        "alembic",  # one line per migration: the start-up says it in one (storage/db.py)
        "asyncpg",
        "sqlalchemy",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # fpdf warns of each character its font lacks, quoting it: a name or a topic, letter by letter.
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    bot_logger = logging.getLogger("telegram.Bot")  # where PTB logs the bodies it cannot parse
    if _NO_BODIES not in bot_logger.filters:
        bot_logger.addFilter(_NO_BODIES)
