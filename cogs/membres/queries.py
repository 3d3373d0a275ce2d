"""Queries on profiles shared by the directory, the jumelage and privacy. They take the session
of the caller's transaction and never commit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ConversationProposal,
    JumelagePairMembre,
    JumelageParticipant,
    Membre,
    MembreDepart,
    Profil,
    ProfilChantier,
)


async def lock_membre(session: AsyncSession, membre_id: int) -> None:
    """Serialize use cases on one member (PostgreSQL ``FOR UPDATE``; SQLite's write
    transactions already hold the database lock)."""
    await session.execute(select(Membre.id).where(Membre.id == membre_id).with_for_update())


async def profil_of(session: AsyncSession, membre_id: int) -> Profil | None:
    return (
        await session.execute(select(Profil).where(Profil.membre_id == membre_id))
    ).scalar_one_or_none()


async def chantier_ids_of(session: AsyncSession, profil_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in profil_ids}
    if profil_ids:
        rows = await session.execute(
            select(ProfilChantier.profil_id, ProfilChantier.chantier_id)
            .where(ProfilChantier.profil_id.in_(list(profil_ids)))
            .order_by(ProfilChantier.chantier_id)
        )
        for profil_id, chantier_id in rows:
            out[profil_id].append(chantier_id)
    return out


def listed() -> ColumnElement[bool]:
    """A profile the directory shows: the member chose to be listed, is not erased, and has
    not left the server."""
    return (
        Profil.visible_annuaire.is_(True)
        & Membre.user_id.is_not(None)
        & ~exists().where(MembreDepart.membre_id == Membre.id)
    )


async def delete_profile_data(session: AsyncSession, membre_id: int) -> bool:
    """Erase what exists under the consent: the profile and its chantiers, the jumelage
    participation and history, the conversation proposals. Returns whether a profile existed."""
    deleted = (await session.execute(delete(Profil).where(Profil.membre_id == membre_id))).rowcount
    await session.execute(
        delete(JumelageParticipant).where(JumelageParticipant.membre_id == membre_id)
    )
    await session.execute(
        delete(JumelagePairMembre).where(JumelagePairMembre.membre_id == membre_id)
    )
    await session.execute(
        delete(ConversationProposal).where(
            or_(
                ConversationProposal.from_membre_id == membre_id,
                ConversationProposal.to_membre_id == membre_id,
            )
        )
    )
    return bool(deleted)


async def municipality_spellings(
    session: AsyncSession, guild_id: int, *, listed_only: bool, exclude_membre_id: int | None = None
) -> dict[str, Counter[str]]:
    """Spellings of each municipality key on a server, with how many profiles use each."""
    stmt = (
        select(Profil.municipalite_cle, Profil.municipalite, func.count())
        .join(Membre, Membre.id == Profil.membre_id)
        .where(Profil.guild_id == guild_id, Profil.municipalite_cle.is_not(None))
        .group_by(Profil.municipalite_cle, Profil.municipalite)
    )
    if listed_only:
        stmt = stmt.where(listed())
    if exclude_membre_id is not None:
        stmt = stmt.where(Profil.membre_id != exclude_membre_id)
    out: dict[str, Counter[str]] = {}
    for cle, spelling, n in await session.execute(stmt):
        out.setdefault(cle, Counter())[spelling] += n
    return out
