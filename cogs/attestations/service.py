"""Attestations de participation: what a member who came to an atelier's séances may be given
(the séances attended, the total duration), refused to one who did not come. No Discord here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Forbidden, InvalidInput, NotFound
from bot.shown_text import check_shown
from cogs.ateliers.info import SeanceInfo, seance_info
from cogs.presences import queries
from db import repositories as repo
from db.models import Atelier, Chantier, Genre, Seance

log = logging.getLogger(__name__)

NOM_MAX = 120


@dataclass(frozen=True)
class Attended:
    seance: SeanceInfo
    ends_at: datetime  # its end, or its start plus the atelier's duration

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.seance.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class Attestation:
    """What the PDF says: the member's name as they gave it, the atelier, the séances they came
    to (of how many), the total duration and the day it was issued."""

    numero: str
    nom: str
    titre: str
    genre: Genre
    chantier: str | None
    seances: tuple[Attended, ...]
    seances_total: int
    issued_at: datetime
    zone: str

    @property
    def total_minutes(self) -> int:
        return sum(a.minutes for a in self.seances)


class AttestationService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def check(self, guild_id: int, atelier_id: int, user_id: int) -> str:
        """The atelier's title when the member came to at least one of its séances; a clear
        refusal otherwise."""
        async with self.sessions() as session:
            atelier, _, _ = await self._attended(session, guild_id, atelier_id, user_id)
            return atelier.titre

    async def issue(self, guild_id: int, atelier_id: int, user_id: int, nom: str) -> Attestation:
        """The attestation of a member who came, with ``nom`` as they typed it (recorded in the
        audit log: which attestation was given to whom)."""
        nom = " ".join(nom.split())
        check_shown(nom)
        if not nom:
            raise InvalidInput(N_("Indiquez votre nom tel qu'il doit figurer sur l'attestation."))
        if len(nom) > NOM_MAX:
            raise InvalidInput(
                N_("Le nom dépasse {max} caractères ({n})."), max=NOM_MAX, n=len(nom)
            )
        now = self.clock.now()
        async with self.sessions.begin() as session:
            atelier, attended, total = await self._attended(session, guild_id, atelier_id, user_id)
            chantier = (
                await session.get(Chantier, atelier.chantier_id) if atelier.chantier_id else None
            )
            membre = await repo.find_membre(session, guild_id, user_id)
            numero = f"{atelier.id}-{membre.id if membre else 0}"
            await repo.audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="attestation.issue",
                atelier_id=atelier.id,
                details={"numero": numero, "seances": len(attended)},
                at=now,
            )
        log.info(
            "atelier %s: attestation %s issued (%d séances)", atelier_id, numero, len(attended)
        )
        return Attestation(
            numero=numero,
            nom=nom,
            titre=atelier.titre,
            genre=Genre(atelier.genre),
            chantier=chantier.nom if chantier else None,
            seances=tuple(attended),
            seances_total=total,
            issued_at=now,
            zone=attended[0].seance.zone,
        )

    async def _attended(
        self, session: AsyncSession, guild_id: int, atelier_id: int, user_id: int
    ) -> tuple[Atelier, list[Attended], int]:
        atelier = await session.get(Atelier, atelier_id)
        if atelier is None or atelier.guild_id != guild_id:
            raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
        seances: list[Seance] = list(await repo.seances_of(session, atelier_id))
        membre = await repo.find_membre(session, guild_id, user_id)
        came = set()
        if membre is not None:
            came = {
                p.seance_id
                for p in await queries.presences_of(
                    session, [s.id for s in seances], membre_id=membre.id
                )
            }
        attended = [Attended(seance_info(s), _end(s, atelier)) for s in seances if s.id in came]
        if not attended:
            raise Forbidden(
                N_(
                    "Aucune présence n'est notée pour vous à « {titre} » : une attestation de "
                    "participation ne se donne qu'aux personnes venues à au moins une séance. "
                    "Si vous y étiez, demandez à l'équipe d'animation de noter votre présence."
                ),
                titre=atelier.titre,
            )
        return atelier, attended, len(seances)


def _end(seance: Seance, atelier: Atelier) -> datetime:
    if seance.ends_at is not None:
        return seance.ends_at
    return seance.starts_at + timedelta(minutes=atelier.duree_minutes)
