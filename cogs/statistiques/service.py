"""Participation statistics for staff: members and inscriptions by region and municipality,
aggregated (counts only, never names or ids). Members without a profile, or whose profile does
not say, are counted as "non précisé" (key ``None``). No Discord here."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, InvalidInput
from cogs.membres.noms import best_spelling
from cogs.statistiques.chart import ChartLabels, chart_png
from db.models import (
    Atelier,
    EtatAtelier,
    EtatInscription,
    Inscription,
    Membre,
    MembreDepart,
    Profil,
    Region,
    Seance,
)

log = logging.getLogger(__name__)

K = TypeVar("K")

__all__ = ["ChartLabels", "Stats", "StatsService", "chart_png"]


@dataclass(frozen=True)
class Stats:
    """Counts for a server over a period (``None`` bounds: since the start, until today).

    ``*_par_region`` and ``*_par_municipalite`` are sorted by count, largest first, with the
    "non précisé" bucket (key ``None``) last.
    """

    debut: date | None
    fin: date | None
    membres: int
    membres_avec_profil: int
    membres_par_region: tuple[tuple[Region | None, int], ...]
    membres_par_municipalite: tuple[tuple[str | None, int], ...]
    ateliers_tenus: int
    seances_tenues: int
    inscriptions: int
    participants: int
    inscriptions_par_region: tuple[tuple[Region | None, int], ...]
    inscriptions_par_municipalite: tuple[tuple[str | None, int], ...]

    @property
    def empty(self) -> bool:
        return self.membres == 0 and self.inscriptions == 0


def _sorted(counts: Counter[K], label: dict[K, str] | None = None) -> tuple[tuple[K, int], ...]:
    def key(item: tuple[K, int]) -> tuple[bool, int, str]:
        k, n = item
        return (k is None, -n, (label or {}).get(k, str(k)) if k is not None else "")

    return tuple(sorted(((k, n) for k, n in counts.items() if n), key=key))


class StatsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def participation(
        self, guild_id: int, debut: date | None = None, fin: date | None = None
    ) -> Stats:
        """Members known today (not erased, not leaving) by region and municipality; ateliers
        held in the period (not cancelled, a séance dated in the period that has begun) and
        their registered members by region and municipality."""
        if debut is not None and fin is not None and debut > fin:
            raise InvalidInput(
                N_("La date de début ({debut}) est après la date de fin ({fin})."),
                debut=debut.isoformat(),
                fin=fin.isoformat(),
            )
        now = self.clock.now()
        async with self.sessions() as session:
            spellings = await _spellings(session, guild_id)
            membres = (
                await session.execute(
                    select(Profil.region, Profil.municipalite_cle, Profil.id.is_not(None))
                    .select_from(Membre)
                    .outerjoin(Profil, Profil.membre_id == Membre.id)
                    .where(
                        Membre.guild_id == guild_id,
                        Membre.user_id.is_not(None),
                        ~exists().where(MembreDepart.membre_id == Membre.id),
                    )
                )
            ).all()
            seances = (
                select(Seance.id, Seance.atelier_id)
                .join(Atelier, Atelier.id == Seance.atelier_id)
                .where(
                    Atelier.guild_id == guild_id,
                    Atelier.etat == EtatAtelier.PLANIFIE,
                    Seance.starts_at <= now,
                )
            )
            if debut is not None:
                seances = seances.where(Seance.local_date >= debut)
            if fin is not None:
                seances = seances.where(Seance.local_date <= fin)
            held = (await session.execute(seances)).all()
            atelier_ids = sorted({a for _, a in held})
            inscriptions = await session.execute(_inscriptions(atelier_ids)) if atelier_ids else []
            inscriptions = list(inscriptions)

        def region(code: str | None) -> Region | None:
            return Region(code) if code else None

        def municipalite(cle: str | None) -> str | None:
            return best_spelling(spellings[cle]) if cle else None

        noms = {r: r.nom for r in Region}
        stats = Stats(
            debut=debut,
            fin=fin,
            membres=len(membres),
            membres_avec_profil=sum(1 for _, _, has in membres if has),
            membres_par_region=_sorted(Counter(region(r) for r, _, _ in membres), noms),
            membres_par_municipalite=_sorted(Counter(municipalite(c) for _, c, _ in membres)),
            ateliers_tenus=len(atelier_ids),
            seances_tenues=len(held),
            inscriptions=len(inscriptions),
            participants=len({m for m, _, _ in inscriptions}),
            inscriptions_par_region=_sorted(Counter(region(r) for _, r, _ in inscriptions), noms),
            inscriptions_par_municipalite=_sorted(
                Counter(municipalite(c) for _, _, c in inscriptions)
            ),
        )
        log.info(
            "guild %s: statistics %s..%s, %d ateliers, %d inscriptions",
            guild_id,
            debut,
            fin,
            stats.ateliers_tenus,
            stats.inscriptions,
        )
        return stats


def _inscriptions(atelier_ids: Iterable[int]) -> Select[tuple[int, str | None, str | None]]:
    """(membre id, region, municipality key) of each registered inscription."""
    return (
        select(Inscription.membre_id, Profil.region, Profil.municipalite_cle)
        .outerjoin(Profil, Profil.membre_id == Inscription.membre_id)
        .where(
            Inscription.atelier_id.in_(list(atelier_ids)),
            Inscription.etat == EtatInscription.INSCRIT,
        )
    )


async def _spellings(session: AsyncSession, guild_id: int) -> dict[str, Counter[str]]:
    rows = await session.execute(
        select(Profil.municipalite_cle, Profil.municipalite, func.count())
        .where(Profil.guild_id == guild_id, Profil.municipalite_cle.is_not(None))
        .group_by(Profil.municipalite_cle, Profil.municipalite)
    )
    out: dict[str, Counter[str]] = {}
    for cle, spelling, n in rows:
        out.setdefault(cle, Counter())[spelling] += n
    return out
