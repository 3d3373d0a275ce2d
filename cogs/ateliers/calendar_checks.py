"""Before an atelier is saved (creer, modifier, dupliquer, import): a séance on a Québec
statutory holiday (the ``holidays`` package, province QC), or overlapping a séance of another
planned atelier of the same chantier. These are warnings: staff confirm (the commands) or
read them in the report (the import). No Discord here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dates import SeanceSpec
from bot.i18n import Translations
from db.models import Atelier, EtatAtelier, Seance

#: Québec's statutory holidays, as the ``holidays`` package names them.
COUNTRY, SUBDIVISION = "CA", "QC"
#: A séance without a time occupies its whole day.
WHOLE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Ferie:
    """A séance on a statutory holiday."""

    day: date


@dataclass(frozen=True)
class Chevauchement:
    """A séance overlapping another planned atelier of the same chantier."""

    day: date
    starts_at: datetime
    atelier_id: int
    titre: str


PlanningWarning = Ferie | Chevauchement


@cache
def _calendar(year: int, language: str) -> holidays.HolidayBase:
    return holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=year, language=language)


def holiday_name(day: date, language: str = "fr") -> str | None:
    """The holiday's name in French (« Fête nationale du Québec ») or English, or None."""
    return _calendar(day.year, "fr" if language == "fr" else "en_CA").get(day)


def holiday_warnings(specs: Iterable[SeanceSpec]) -> list[Ferie]:
    return [Ferie(s.local_date) for s in specs if holiday_name(s.local_date) is not None]


def _span(start: datetime, end: datetime | None) -> tuple[datetime, datetime]:
    return start, end if end is not None else start + WHOLE_DAY


async def overlap_warnings(
    session: AsyncSession,
    guild_id: int,
    chantier_id: int | None,
    specs: Sequence[SeanceSpec],
    *,
    exclude: Iterable[int] = (),
) -> list[Chevauchement]:
    """Séances of ``specs`` that overlap a séance of another planned atelier of the chantier
    (``exclude``: the ateliers being changed themselves)."""
    if chantier_id is None or not specs:
        return []
    spans = [(s, *_span(s.starts_at, s.ends_at)) for s in specs]
    low = min(a for _, a, _ in spans) - WHOLE_DAY
    high = max(b for _, _, b in spans) + WHOLE_DAY
    excluded = list(exclude)
    stmt = (
        select(Seance, Atelier.id, Atelier.titre)
        .join(Atelier, Atelier.id == Seance.atelier_id)
        .where(
            Atelier.guild_id == guild_id,
            Atelier.chantier_id == chantier_id,
            Atelier.etat == EtatAtelier.PLANIFIE,
            Seance.starts_at < high,
            Seance.starts_at > low - WHOLE_DAY,
        )
        .order_by(Seance.starts_at)
    )
    if excluded:
        stmt = stmt.where(Atelier.id.not_in(excluded))
    others = (await session.execute(stmt)).tuples().all()
    found: list[Chevauchement] = []
    for spec, start, end in spans:
        for seance, atelier_id, titre in others:
            other_start, other_end = _span(seance.starts_at, seance.ends_at)
            if start < other_end and other_start < end:
                found.append(Chevauchement(spec.local_date, spec.starts_at, atelier_id, titre))
    return found


async def planning_warnings(
    session: AsyncSession,
    guild_id: int,
    chantier_id: int | None,
    specs: Sequence[SeanceSpec],
    *,
    exclude: Iterable[int] = (),
) -> list[PlanningWarning]:
    """Holidays first, then overlaps, each in the order of the séances."""
    overlaps = await overlap_warnings(session, guild_id, chantier_id, specs, exclude=exclude)
    return [*holiday_warnings(specs), *overlaps]


def warning_lines(tr: Translations, warnings: Sequence[PlanningWarning]) -> list[str]:
    """Each warning as a line, in the reader's language."""
    lines = []
    for w in warnings:
        if isinstance(w, Ferie):
            lines.append(
                tr._(
                    "Le {date} est un jour férié au Québec : {nom}.",
                    date=tr.format_date(w.day),
                    nom=holiday_name(w.day, tr.locale) or "",
                )
            )
        else:
            lines.append(
                tr._(
                    "Le {date}, la séance chevauche l'atelier « {titre} » (n° {id}) du même "
                    "chantier.",
                    date=tr.format_date(w.day),
                    titre=w.titre,
                    id=w.atelier_id,
                )
            )
    return lines
