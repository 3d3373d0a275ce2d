"""Participation statistics for staff: members and inscriptions by region and municipality,
aggregated (counts only, never names or ids). Members without a profile, or whose profile does
not say, are counted as "non précisé" (key ``None``). No Discord here."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

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
    Presence,
    Profil,
    Region,
    Seance,
)

log = logging.getLogger(__name__)

K = TypeVar("K")

__all__ = ["AtelierFigures", "ChartLabels", "Stats", "StatsService", "chart_png"]


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
    #: Attendance at the séances held (``cogs.presences``): every presence, those of members
    #: registered for the atelier, and of those who came without registering.
    presences: int = 0
    presences_inscrits: int = 0
    presences_sans_inscription: int = 0
    #: Σ over the séances held where attendance was taken (one presence at least) of the
    #: members registered for their atelier: the presences if everyone registered had come.
    presences_attendues: int = 0
    presents: int = 0  # different people who came
    presences_par_region: tuple[tuple[Region | None, int], ...] = ()
    #: The ateliers counted (held in the period), first séance first.
    ateliers: tuple[AtelierFigures, ...] = ()

    @property
    def empty(self) -> bool:
        return self.membres == 0 and self.inscriptions == 0

    @property
    def taux_presence(self) -> float | None:
        """Presences of registered members over those expected; None when nobody was."""
        if not self.presences_attendues:
            return None
        return self.presences_inscrits / self.presences_attendues


@dataclass(frozen=True)
class AtelierFigures:
    """One atelier counted: its title, first séance held in the period, séances held there,
    members registered, presences at those séances, and its attendance rate."""

    titre: str
    premiere: date
    seances: int
    inscrits: int
    presences: int
    presences_inscrits: int
    seances_notees: int = 0  # séances where attendance was taken

    @property
    def taux_presence(self) -> float | None:
        expected = self.inscrits * self.seances_notees
        return self.presences_inscrits / expected if expected else None


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
            seances = seances.add_columns(Seance.local_date, Atelier.titre)
            held = (await session.execute(seances)).all()
            atelier_ids = sorted({a for _, a, _, _ in held})
            inscriptions = await session.execute(_inscriptions(atelier_ids)) if atelier_ids else []
            inscriptions = list(inscriptions)
            attendance = await _attendance(session, held)

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
            presences=len(attendance.rows),
            presences_inscrits=sum(1 for _, _, inscrit, _ in attendance.rows if inscrit),
            presences_sans_inscription=sum(
                1 for _, _, inscrit, _ in attendance.rows if not inscrit
            ),
            presences_attendues=sum(f.inscrits * f.seances_notees for f in attendance.ateliers),
            presents=len({m for _, m, _, _ in attendance.rows}),
            presences_par_region=_sorted(
                Counter(region(r) for _, _, _, r in attendance.rows), noms
            ),
            ateliers=attendance.ateliers,
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


@dataclass(frozen=True)
class _Attendance:
    rows: list[tuple[int, int, bool, str | None]]  # séance, membre, registered, region
    ateliers: tuple[AtelierFigures, ...]


async def _attendance(session: AsyncSession, held: Sequence[Any]) -> _Attendance:
    """The presences at the séances held, and each atelier's figures."""
    seance_ids = [s for s, _, _, _ in held]
    atelier_ids = sorted({a for _, a, _, _ in held})
    if not seance_ids:
        return _Attendance([], ())
    rows = [
        (s, m, bool(i), r)
        for s, m, i, r in await session.execute(
            select(Presence.seance_id, Presence.membre_id, Presence.inscrit, Profil.region)
            .outerjoin(Profil, Profil.membre_id == Presence.membre_id)
            .where(Presence.seance_id.in_(seance_ids))
        )
    ]
    counted = await session.execute(
        select(Inscription.atelier_id, func.count())
        .where(
            Inscription.atelier_id.in_(atelier_ids),
            Inscription.etat == EtatInscription.INSCRIT,
        )
        .group_by(Inscription.atelier_id)
    )
    registered: dict[int, int] = {a: n for a, n in counted}
    of_seance = {s: a for s, a, _, _ in held}
    figures = []
    for atelier_id in atelier_ids:
        mine = [h for h in held if h[1] == atelier_id]
        came = [r for r in rows if of_seance[r[0]] == atelier_id]
        figures.append(
            AtelierFigures(
                titre=mine[0][3],
                premiere=min(h[2] for h in mine),
                seances=len(mine),
                inscrits=int(registered.get(atelier_id, 0)),
                presences=len(came),
                presences_inscrits=sum(1 for r in came if r[2]),
                seances_notees=len({r[0] for r in came}),
            )
        )
    figures.sort(key=lambda f: (f.premiere, f.titre))
    return _Attendance(rows, tuple(figures))


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
