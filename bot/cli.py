"""The `relais` command: run, demo, check-config, status, db upgrade | backup | restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from typing import Any

from bot import version
from bot.config import ConfigError, Settings, load_settings, resolve_config_path
from bot.failures import EXIT_CONFIG, EXIT_OK, EXIT_UNCONFIRMED, print_failure
from bot.logs import setup_logging

# Secrets as the environment gives them, blanked from any output even before the configuration
# is read (a failure while reading it prints nothing of theirs either).
SECRET_VARIABLES = ("RELAIS_TELEGRAM__TOKEN", "RELAIS_WEBHOOK__SECRET_TOKEN")
_secrets: list[str] = [os.environ.get(name, "") for name in SECRET_VARIABLES]


def _known_secrets(settings: Settings) -> None:
    """The token and webhook secret of these settings, blanked from every output from now on."""
    _secrets.extend([settings.telegram.token.get_secret_value(), settings.webhook.secret_token.get_secret_value()])


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(resolve_config_path(args.config))
    _known_secrets(settings)
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runtime import run_until_signalled

    settings = _settings(args)
    settings.require_token()
    setup_logging(settings.logging.level, _secrets, settings.logging.format)
    asyncio.run(run_until_signalled(settings))
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    path = resolve_config_path(args.config)
    settings = _settings(args)
    settings.require_token()
    mode = f"webhook at {settings.webhook.url}" if settings.webhook.url else "long polling"
    database = settings.database.url.split("://")[0]
    print(
        f"Configuration OK ({path or 'defaults and environment'}): {mode}, database {database}, "
        f"time zone {settings.bot.default_timezone}, language {settings.bot.default_language}."
    )
    for warning in settings.warnings():
        print(f"warning: {warning}")
    if args.online:
        from bot.operations import check_online

        for line in asyncio.run(check_online(settings)):
            print(line)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.runtime import open_database

    settings = _settings(args)
    setup_logging(settings.logging.level, _secrets, settings.logging.format)

    async def upgrade() -> None:
        engine = await open_database(settings.database.url)
        await engine.dispose()

    asyncio.run(upgrade())
    print("Database is up to date.")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from bot.operations import read_status

    settings = _settings(args)
    status = asyncio.run(read_status(settings.database.url, version()))
    print("\n".join(status.lines()))
    return EXIT_OK


def cmd_db_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.operations import backup

    print(backup(_settings(args).database.url, Path(args.path)))
    return EXIT_OK


def cmd_db_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.clock import SystemClock
    from bot.failures import where
    from bot.operations import restore, safety_copy

    url, path = _settings(args).database.url, Path(args.path)
    keep = safety_copy(url, path, SystemClock().now())
    if not args.yes:
        print(
            f"relais: this replaces the database ({where(url)}) with {path}; run it again with --yes to do it "
            f"(a copy of the database as it is now will be kept as {keep})",
            file=sys.stderr,
        )
        return EXIT_UNCONFIRMED
    print(restore(url, path, keep))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(verbose=args.verbose))


CONFIG_HELP = "the TOML configuration file (otherwise $RELAIS_CONFIG, then ./config.toml, then the defaults)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relais", description="Relais keeps participation groups alive between their meetings, on Telegram."
    )
    parser.add_argument("--version", action="version", version=f"relais {version()}")
    parser.add_argument("--config", help=CONFIG_HELP)
    # --config may also come after the sub-command: each one accepts it, without a default of its
    # own, so that one given before is not erased.
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str, parent: Any = commands) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=summary, description=description, parents=[config])

    command(
        "run",
        "run the bot",
        "Run the bot: long polling, or a webhook when webhook.url is set; the dashboard and /healthz on web.port.",
    ).set_defaults(func=cmd_run)
    demo = command(
        "demo", "play a scripted group session", "Play a scripted group session on the built-in simulated Telegram."
    )
    demo.add_argument("--verbose", action="store_true", help="also print the bot's logs")
    demo.set_defaults(func=cmd_demo)
    check = command(
        "check-config",
        "check the configuration",
        "Read the configuration, say what is wrong in it, what it sets and what will surprise, and exit. "
        "With --online, also ask Telegram whose token it is and open the database (read only).",
    )
    check.add_argument("--online", action="store_true", help="also check the token with Telegram and the database")
    check.set_defaults(func=cmd_check_config)
    command(
        "status",
        "is it keeping up?",
        "The messages waiting to go out, the oldest due one, the last one sent, the database's migration "
        "revision and the version (read from the database: any process, or none, may be running).",
    ).set_defaults(func=cmd_status)
    db = command("db", "database maintenance", "Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    command(
        "upgrade", "apply the migrations", "Create the database or bring it to the current schema.", db_commands
    ).set_defaults(func=cmd_db_upgrade)
    backup = command(
        "backup",
        "a consistent copy of the database",
        "Write a consistent copy of the database to PATH while Relais runs (SQLite: its online backup; "
        "PostgreSQL: pg_dump's custom format, which needs PostgreSQL's client tools).",
        db_commands,
    )
    backup.add_argument("path", metavar="PATH", help="the new file to write (never overwritten)")
    backup.set_defaults(func=cmd_db_backup)
    restore = command(
        "restore",
        "put a backup back",
        "Replace the database with the backup at PATH, after keeping a copy of the database as it is "
        "(beside an SQLite database, beside the backup for PostgreSQL). Stop Relais first (checked for "
        "SQLite). Asks for --yes.",
        db_commands,
    )
    restore.add_argument("path", metavar="PATH", help="a file written by `relais db backup`")
    restore.add_argument("--yes", action="store_true", help="yes, replace the database")
    restore.set_defaults(func=cmd_db_restore)
    return parser


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    """A library's thread that fails (aiosqlite's, when a database could not be opened and the
    loop is closing) gets one log line with the error's class, not a traceback: tracebacks may
    carry what the error's message quotes."""
    if args.exc_type is not SystemExit:
        logging.getLogger("relais").warning("a background thread stopped: %s", args.exc_type.__name__)


# Files Relais creates (the SQLite database and its journal, backups, pg_dump files, the safety
# copy of a restore) hold absence reasons, needs and cost claims: its own user's only.
PRIVATE_FILES = 0o077


def main(argv: list[str] | None = None) -> int:
    threading.excepthook = _thread_failed
    os.umask(PRIVATE_FILES)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"relais: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:  # a start-up failure in plain words; a defect with its traceback, secrets blanked
        return print_failure(exc, _secrets)


if __name__ == "__main__":
    sys.exit(main())
