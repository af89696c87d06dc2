"""What `relais` says when it cannot start or run: one line naming the cause and the setting to
check, a distinct exit code for each cause (documented in docs/installation.md), and never a secret.

Libraries put secrets in their messages (python-telegram-bot's InvalidToken quotes the token;
a database driver may quote the URL with its password), so every line and traceback printed here
goes through `redact` first.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Iterable
from urllib.parse import urlsplit

EXIT_OK = 0
EXIT_UNEXPECTED = 1  # a defect: the traceback is printed, secrets blanked
EXIT_CONFIG = 2  # the configuration is invalid (one line per problem)
EXIT_TOKEN = 3  # Telegram rejected the token
EXIT_NETWORK = 4  # Telegram could not be reached
EXIT_DATABASE = 5  # the database cannot be opened, reached or migrated
EXIT_WEB = 6  # the web server (webhook, health) cannot listen on its address
EXIT_ALREADY_RUNNING = 7  # another process holds the SQLite file, or already long-polls (PostgreSQL)
EXIT_FILE = 8  # a file or folder a command names is missing, exists already, or cannot be written
EXIT_UNCONFIRMED = 9  # a command that replaces the database was not confirmed (--yes)


class StartupError(Exception):
    """A start-up failure with its cause in plain words and its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def where(url: str) -> str:
    """A database URL without its password, for messages: 'postgresql at 127.0.0.1:5432/relais'
    or 'sqlite at /var/lib/relais/relais.db'."""
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        return f"sqlite at {url.split(':///', 1)[-1] or 'memory'}"
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{scheme} at {host}{port}{parts.path}"


def _secret_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret, and the parts of it a message may quote alone (a token's part after ':')."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.add(secret)
        if ":" in secret and len(secret.split(":", 1)[1]) >= 8:
            forms.add(secret.split(":", 1)[1])
    return sorted(forms, key=len, reverse=True)


_URL_PASSWORD = re.compile(r"(\w+(?:\+\w+)?://[^:/@\s]+:)[^@\s]+@")


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret blanked, and any password in a URL."""
    for form in _secret_forms(secrets):
        text = text.replace(form, "<hidden>")
    return _URL_PASSWORD.sub(r"\1<hidden>@", text)


def print_failure(error: BaseException, secrets: Iterable[str]) -> int:
    """Print what stopped Relais, on stderr, and return the exit code."""
    secrets = list(secrets)
    if isinstance(error, StartupError):
        print(f"relais: {redact(error.message, secrets)}", file=sys.stderr)
        return error.code
    text = "".join(traceback.format_exception(error))
    print(redact(text, secrets), file=sys.stderr, end="")
    print("relais: stopped by an unexpected error (above); please report it", file=sys.stderr)
    return EXIT_UNEXPECTED
