"""``python -m bot check``: what the configuration and the database look like."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, format_duration
from db.migrate import current_revision, head_revision
from db.session import create_engine

log = logging.getLogger(__name__)


def _say(line: str) -> None:
    print(line)  # noqa: T201 - this command reports on the console


async def run_checks(settings: Settings) -> int:
    """Print what was found; return 1 if anything would stop the bot."""
    problems: list[str] = []
    source = settings.source_path or "built-in defaults"
    _say(f"configuration: {source}")
    _say(f"  token: {'set' if settings.has_token else 'MISSING'}")
    if not settings.has_token:
        problems.append("no bot token (discord.token or DISCORD_TOKEN)")
    _say(f"  server: {settings.discord.guild_id or 'all servers (global commands)'}")
    _say(f"  staff role: {settings.discord.staff_role}")
    _say(f"  time zone: {settings.time.timezone}")
    offsets = ", ".join(format_duration(o) for o in settings.reminders.offsets)
    _say(f"  reminders: {offsets}; digest: {settings.reminders.digest or 'off'}")
    _say(f"  chantiers: {', '.join(c.slug for c in settings.chantiers) or 'none'}")
    _say(f"database: {settings.database.safe_url}")
    engine = create_engine(settings.database.url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(current_revision)
    except (SQLAlchemyError, OSError) as err:
        problems.append(f"database unreachable: {type(err).__name__}")
        current = None
    else:
        head = head_revision()
        _say(f"  schema: {current or 'empty'} (newest: {head})")
        if current != head:
            problems.append("migrations pending: run `python -m bot db upgrade`")
    finally:
        await engine.dispose()
    for problem in problems:
        _say(f"problem: {problem}")
    _say("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0
