"""``python -m bot import FILE``: import a programme file from the command line (history
included: past séances are accepted here, unlike in /programme importer)."""

from __future__ import annotations

import logging

from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import UserError
from bot.i18n import I18n
from cogs.ateliers.service import AtelierService
from cogs.chantiers.service import ChantierService
from cogs.programme.report import report_lines
from cogs.programme.service import ImportService
from db.session import create_engine, session_factory

log = logging.getLogger(__name__)


async def import_programme(settings: Settings, filename: str, data: bytes, guild_id: int) -> int:
    """Print the report in French; exit code 1 when a row or the file was refused."""
    tr = I18n.load().for_locale("fr")
    engine = create_engine(settings.database.url)
    clock = SystemClock()
    sessions = session_factory(engine)
    chantiers = ChantierService(sessions, clock)
    service = ImportService(sessions, clock, AtelierService(sessions, clock), chantiers)
    try:
        await chantiers.sync_config(guild_id, settings.chantiers)
        report = await service.import_file(
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
