"""``python -m bot import FILE``: import a programme file from the command line (history
included: past séances are accepted here, unlike in /programme importer, and nothing is
announced)."""

from __future__ import annotations

import logging

from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import UserError
from bot.i18n import I18n, Translations
from cogs.programme.report import report_lines
from db.session import create_engine, session_factory
from partage.compose import build_services

log = logging.getLogger(__name__)


async def import_programme(
    settings: Settings, filename: str, data: bytes, guild_id: int, tr: Translations | None = None
) -> int:
    """Print the report in the command line's language (French by default); exit code 1 when
    a row or the file was refused."""
    tr = tr or I18n.load().for_locale("fr")
    engine = create_engine(settings.database.url)
    services = build_services(settings, session_factory(engine), SystemClock())
    try:
        await services.chantiers.sync_config(guild_id, settings.chantiers)
        report = await services.imports.import_file(
            guild_id,
            filename,
            data,
            zone=settings.time.timezone,
            allow_past=True,
        )
    except UserError as err:
        print(tr.user_error(err))  # noqa: T201
        return 1
    finally:
        await engine.dispose()
    for line in report_lines(tr, report):
        print(line)  # noqa: T201
    return 1 if report.refused else 0
