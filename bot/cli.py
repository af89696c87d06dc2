"""The `relais` command: run, demo, check-config, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading

from bot.config import ConfigError, Settings, load_settings, resolve_config_path
from bot.failures import EXIT_CONFIG, EXIT_OK, print_failure
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
    setup_logging(settings.logging.level, _secrets)
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
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.runtime import open_database

    settings = _settings(args)
    setup_logging(settings.logging.level, _secrets)

    async def upgrade() -> None:
        engine = await open_database(settings.database.url)
        await engine.dispose()

    asyncio.run(upgrade())
    print("Database is up to date.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(verbose=args.verbose))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relais", description="Relais: keeps participation groups alive between meetings."
    )
    parser.add_argument("--config", help="path to the TOML configuration (default: $RELAIS_CONFIG, then ./config.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling, or webhook when webhook.url is set)").set_defaults(
        func=cmd_run
    )
    demo = commands.add_parser("demo", help="play a scripted group session on the simulated Telegram")
    demo.add_argument("--verbose", action="store_true", help="also print the bot's logs")
    demo.set_defaults(func=cmd_demo)
    commands.add_parser("check-config", help="validate the configuration and exit").set_defaults(func=cmd_check_config)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations").set_defaults(func=cmd_db_upgrade)
    return parser


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    """A library's thread that fails (aiosqlite's, when a database could not be opened and the
    loop is closing) gets one log line with the error's class, not a traceback: tracebacks may
    carry what the error's message quotes."""
    if args.exc_type is not SystemExit:
        logging.getLogger("relais").warning("a background thread stopped: %s", args.exc_type.__name__)


def main(argv: list[str] | None = None) -> int:
    threading.excepthook = _thread_failed
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
