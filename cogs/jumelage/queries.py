"""Queries of the jumelage: who can be paired now, who was paired with whom, and a pair as the
cog sees it. They take the session of the caller's transaction and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.jumelage.planner import Candidate
from cogs.jumelage.starters import Starter, starter_for
from db.models import (
    Chantier,
    JumelagePair,
    JumelagePairMembre,
    JumelageParticipant,
    JumelageRound,
    Membre,
    MembreDepart,
    Profil,
    ProfilChantier,
)


@dataclass(frozen=True)
class PairMember:
    membre_id: int
    user_id: int
    municipalite: str | None
    locale: str


@dataclass(frozen=True)
class PairInfo:
    id: int
    guild_id: int
    round_id: int
    members: tuple[PairMember, ...]
    chantier_id: int | None
    starter: Starter
    checkin_due_at: datetime
    checked_in_at: datetime | None
    thread_id: int | None


async def pairable(
    session: AsyncSession, guild_id: int, now: datetime
) -> tuple[list[Candidate], dict[int, PairMember]]:
    """Participants who can be paired now: consented profile with a municipality, not
    snoozed, still on the server, not erased."""
    rows = (
        await session.execute(
            select(Membre, Profil)
            .join(JumelageParticipant, JumelageParticipant.membre_id == Membre.id)
            .join(Profil, Profil.membre_id == Membre.id)
            .where(
                JumelageParticipant.guild_id == guild_id,
                Membre.user_id.is_not(None),
                Profil.municipalite_cle.is_not(None),
                (JumelageParticipant.snoozed_until.is_(None))
                | (JumelageParticipant.snoozed_until <= now),
                ~exists().where(MembreDepart.membre_id == Membre.id),
            )
            .order_by(Membre.id)
        )
    ).all()
    interests: dict[int, set[int]] = {}
    if rows:
        links = await session.execute(
            select(ProfilChantier.profil_id, ProfilChantier.chantier_id)
            .join(Chantier, Chantier.id == ProfilChantier.chantier_id)
            .where(
                ProfilChantier.profil_id.in_([p.id for _, p in rows]),
                Chantier.archived.is_(False),
            )
        )
        for profil_id, chantier_id in links:
            interests.setdefault(profil_id, set()).add(chantier_id)
    candidates, info = [], {}
    for membre, profil in rows:
        assert membre.user_id is not None and profil.municipalite_cle is not None
        candidates.append(
            Candidate(membre.id, profil.municipalite_cle, frozenset(interests.get(profil.id, ())))
        )
        info[membre.id] = PairMember(membre.id, membre.user_id, profil.municipalite, membre.locale)
    return candidates, info


async def past_pairs(session: AsyncSession, guild_id: int) -> tuple[set[frozenset[int]], set[int]]:
    """Every pair of members already grouped on this server, and who was in the last
    round."""
    rows = await session.execute(
        select(JumelagePair.id, JumelagePair.round_id, JumelagePairMembre.membre_id)
        .join(JumelagePairMembre, JumelagePairMembre.pair_id == JumelagePair.id)
        .join(JumelageRound, JumelageRound.id == JumelagePair.round_id)
        .where(JumelageRound.guild_id == guild_id)
    )
    groups: dict[int, list[int]] = {}
    round_of: dict[int, int] = {}
    for pair_id, round_id, membre_id in rows:
        groups.setdefault(pair_id, []).append(membre_id)
        round_of[pair_id] = round_id
    history = {frozenset(p) for g in groups.values() for p in combinations(g, 2)}
    last_round_id = max(round_of.values(), default=None)
    last = {m for pid, g in groups.items() if round_of[pid] == last_round_id for m in g}
    return history, last


async def pair_info(session: AsyncSession, pair: JumelagePair, guild_id: int) -> PairInfo:
    rows = await session.execute(
        select(Membre, Profil.municipalite)
        .join(JumelagePairMembre, JumelagePairMembre.membre_id == Membre.id)
        .outerjoin(Profil, Profil.membre_id == Membre.id)
        .where(JumelagePairMembre.pair_id == pair.id, Membre.user_id.is_not(None))
        .order_by(Membre.id)
    )
    members = tuple(PairMember(m.id, m.user_id, municipalite, m.locale) for m, municipalite in rows)
    chantier = await session.get(Chantier, pair.chantier_id) if pair.chantier_id else None
    return PairInfo(
        id=pair.id,
        guild_id=guild_id,
        round_id=pair.round_id,
        members=members,
        chantier_id=pair.chantier_id,
        starter=starter_for(
            pair.id, chantier.slug if chantier else None, chantier.nom if chantier else None
        ),
        checkin_due_at=pair.checkin_due_at,
        checked_in_at=pair.checked_in_at,
        thread_id=pair.thread_id,
    )


def aware(value: datetime) -> datetime:
    """Aggregates may bypass the column type: SQLite can hand back naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
