"""Relais: a Telegram bot that keeps participation groups alive between their meetings."""

from importlib import metadata


def version() -> str:
    """The installed version (the CLI's --version, `relais status`, the start-up log)."""
    try:
        return metadata.version("relais")
    except metadata.PackageNotFoundError:  # run from a checkout that was not installed
        return "unknown"
