"""Command line: ``python -m bot run|check|import|db upgrade`` (also ``partage-bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logsetup import setup_logging

log = logging.getLogger("bot")

EXIT_OK, EXIT_PROBLEM, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Partage, le bot de l'Opération Partage."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    config_help = "configuration file (default: ./config.toml if present, else built-in defaults)"
    run = sub.add_parser("run", help="run the bot (applies migrations first)")
    run.add_argument("--config", type=Path, help=config_help)
    check = sub.add_parser("check", help="validate the configuration and the database")
    check.add_argument("--config", type=Path, help=config_help)
    imp = sub.add_parser("import", help="import a programme file (CSV or TOML)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--config", type=Path, help=config_help)
    imp.add_argument(
        "--guild", type=int, help="server id to import into (default: discord.guild_id)"
    )
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the migrations")
    upgrade.add_argument("--config", type=Path, help=config_help)
    return parser


def _load(path: Path | None) -> Settings:
    settings = load_settings(path)
    setup_logging(settings.logging.level)
    return settings


def cmd_run(settings: Settings) -> int:
    from bot.app import build_bot, run_bot
    from db.migrate import upgrade

    token = settings.require_token()
    upgrade(settings.database.url)
    bot = build_bot(settings)
    asyncio.run(run_bot(bot, token))
    return EXIT_OK


def cmd_upgrade(settings: Settings) -> int:
    from db.migrate import upgrade

    upgrade(settings.database.url)
    print(f"database at the newest schema: {settings.database.safe_url}")  # noqa: T201
    return EXIT_OK


def cmd_check(settings: Settings) -> int:
    from bot.check import run_checks

    return asyncio.run(run_checks(settings))


def cmd_import(settings: Settings, file: Path, guild: int | None) -> int:
    from bot.importer import import_programme
    from db.migrate import upgrade

    guild_id = guild or settings.discord.guild_id
    if guild_id is None:
        print(  # noqa: T201
            "import: name the server with --guild ID or set discord.guild_id", file=sys.stderr
        )
        return EXIT_CONFIG
    if not file.is_file():
        print(f"import: {file}: no such file", file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG
    upgrade(settings.database.url)
    return asyncio.run(import_programme(settings, file.name, file.read_bytes(), guild_id))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _load(args.config)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "check":
            return cmd_check(settings)
        if args.command == "import":
            return cmd_import(settings, args.file, args.guild)
        return cmd_upgrade(settings)
    except ConfigError as err:
        print(str(err), file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
