"""Small repositories that speak the domain. They take a session and never commit: the service
that calls them owns the transaction (STYLE.md rule 3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Atelier,
    AuditLog,
    BotState,
    Chantier,
    EtatAtelier,
    EtatInscription,
    Guild,
    Inscription,
    Membre,
    Reponse,
    Seance,
    SeanceReponse,
)


def insert_for(session: AsyncSession, model: Any) -> Any:
    """A dialect-specific INSERT (of a mapped class or a table) that supports
    ``on_conflict_do_nothing`` / ``on_conflict_do_update`` and ``excluded``."""
    return insert_for_dialect(session.bind.dialect.name if session.bind else "sqlite", model)


def insert_for_dialect(dialect: str, model: Any) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def ensure_guild(session: AsyncSession, guild_id: int, now: datetime, name: str = "") -> None:
    """Create the server's row if it is not there yet (safe under concurrency)."""
    stmt = (
        insert_for(session, Guild)
        .values(id=guild_id, name=name[:100], created_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    await session.execute(stmt)


async def upsert_membre(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    now: datetime,
    *,
    display_name: str | None = None,
    locale: str | None = None,
) -> Membre:
    """The member row for a Discord user, created on first sight. Name and locale are refreshed
    when given, so later messages (reminders, promotions) use the member's language."""
    found = await upsert_membres(session, guild_id, {user_id: display_name}, now, locale=locale)
    return found[user_id]


async def upsert_membres(
    session: AsyncSession,
    guild_id: int,
    names: Mapping[int, str | None],
    now: datetime,
    *,
    locale: str | None = None,
) -> dict[int, Membre]:
    """``upsert_membre`` for several Discord users at once (``names``: user id → display name
    or None), by user id: one insert and one read, however many."""
    if not names:
        return {}
    await ensure_guild(session, guild_id, now)
    stmt = (
        insert_for(session, Membre)
        .values(
            [
                dict(
                    guild_id=guild_id,
                    user_id=user_id,
                    display_name=name[:100] if name else None,
                    locale=locale or "fr",
                    dm_reminders=False,
                    created_at=now,
                )
                for user_id, name in names.items()
            ]
        )
        .on_conflict_do_nothing(index_elements=["guild_id", "user_id"])
    )
    await session.execute(stmt)
    rows = await session.scalars(
        select(Membre).where(Membre.guild_id == guild_id, Membre.user_id.in_(list(names)))
    )
    found: dict[int, Membre] = {}
    for membre in rows:
        assert membre.user_id is not None  # selected by it
        found[membre.user_id] = membre
        name = names[membre.user_id]
        if name and membre.display_name != name[:100]:
            membre.display_name = name[:100]
        if locale and membre.locale != locale:
            membre.locale = locale
    return found


async def find_membre(session: AsyncSession, guild_id: int, user_id: int) -> Membre | None:
    return (
        await session.execute(
            select(Membre).where(Membre.guild_id == guild_id, Membre.user_id == user_id)
        )
    ).scalar_one_or_none()


async def audit(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_user_id: int | None,
    action: str,
    at: datetime,
    atelier_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            guild_id=guild_id,
            actor_user_id=actor_user_id,
            action=action,
            atelier_id=atelier_id,
            details=details or {},
            at=at,
        )
    )


# --- chantiers ---------------------------------------------------------------------------------


async def chantiers_of(session: AsyncSession, guild_id: int) -> Sequence[Chantier]:
    return (
        (
            await session.execute(
                select(Chantier).where(Chantier.guild_id == guild_id).order_by(Chantier.id)
            )
        )
        .scalars()
        .all()
    )


async def chantier_by_slug(session: AsyncSession, guild_id: int, slug: str) -> Chantier | None:
    return (
        await session.execute(
            select(Chantier).where(Chantier.guild_id == guild_id, Chantier.slug == slug)
        )
    ).scalar_one_or_none()


# --- ateliers ----------------------------------------------------------------------------------


async def lock_atelier(session: AsyncSession, atelier_id: int) -> Atelier | None:
    """Load an atelier and lock its row until the transaction ends (PostgreSQL ``FOR UPDATE``;
    on SQLite every write transaction already holds the database lock: ``BEGIN IMMEDIATE``)."""
    return (
        await session.execute(select(Atelier).where(Atelier.id == atelier_id).with_for_update())
    ).scalar_one_or_none()


async def seances_of(session: AsyncSession, atelier_id: int) -> Sequence[Seance]:
    return (
        (
            await session.execute(
                select(Seance).where(Seance.atelier_id == atelier_id).order_by(Seance.starts_at)
            )
        )
        .scalars()
        .all()
    )


async def seances_of_many(
    session: AsyncSession, atelier_ids: Sequence[int]
) -> dict[int, list[Seance]]:
    """The séances of many ateliers in one query, in order, by atelier id."""
    result: dict[int, list[Seance]] = {i: [] for i in atelier_ids}
    if not atelier_ids:
        return result
    rows = await session.execute(
        select(Seance)
        .where(Seance.atelier_id.in_(list(atelier_ids)))
        .order_by(Seance.starts_at, Seance.id)
    )
    for seance in rows.scalars():
        result[seance.atelier_id].append(seance)
    return result


def still_running(now: datetime):  # type: ignore[no-untyped-def]
    """A séance that has not ended: its end, or for a date without time its whole day (its
    ``starts_at`` is that day's midnight). ``is_running`` is the same rule in Python."""
    end = func.coalesce(Seance.ends_at, Seance.starts_at)
    return (end > now) | ((Seance.ends_at.is_(None)) & (Seance.starts_at > now - timedelta(days=1)))


def is_running(starts_at: datetime, ends_at: datetime | None, now: datetime) -> bool:
    """``still_running`` for one séance already read."""
    return (ends_at or starts_at) > now or (ends_at is None and starts_at > now - timedelta(days=1))


async def upcoming_ateliers(
    session: AsyncSession,
    guild_id: int,
    now: datetime,
    *,
    chantier_id: int | None = None,
    limit: int | None = None,
    published_only: bool = False,
) -> Sequence[Atelier]:
    """Planned ateliers with at least one séance not over, soonest first; ``published_only``:
    not those whose publication (``publie_le``) is still ahead."""
    next_start = (
        select(Seance.atelier_id, func.min(Seance.starts_at).label("first"))
        .where(still_running(now))
        .group_by(Seance.atelier_id)
        .subquery()
    )
    stmt = (
        select(Atelier)
        .join(next_start, next_start.c.atelier_id == Atelier.id)
        .where(Atelier.guild_id == guild_id, Atelier.etat == EtatAtelier.PLANIFIE)
        .order_by(next_start.c.first, Atelier.id)
    )
    if chantier_id is not None:
        stmt = stmt.where(Atelier.chantier_id == chantier_id)
    if published_only:
        stmt = stmt.where(or_(Atelier.publie_le.is_(None), Atelier.publie_le <= now))
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.execute(stmt)).scalars().all()


# --- inscriptions ------------------------------------------------------------------------------


async def etat_counts(session: AsyncSession, atelier_id: int) -> dict[EtatInscription, int]:
    rows = await session.execute(
        select(Inscription.etat, func.count())
        .where(Inscription.atelier_id == atelier_id)
        .group_by(Inscription.etat)
    )
    counts = dict.fromkeys(EtatInscription, 0)
    for etat, n in rows:
        counts[EtatInscription(etat)] = n
    return counts


async def etat_counts_many(
    session: AsyncSession, atelier_ids: Sequence[int]
) -> dict[int, dict[EtatInscription, int]]:
    result: dict[int, dict[EtatInscription, int]] = {
        i: dict.fromkeys(EtatInscription, 0) for i in atelier_ids
    }
    if not atelier_ids:
        return result
    rows = await session.execute(
        select(Inscription.atelier_id, Inscription.etat, func.count())
        .where(Inscription.atelier_id.in_(atelier_ids))
        .group_by(Inscription.atelier_id, Inscription.etat)
    )
    for atelier_id, etat, n in rows:
        result[atelier_id][EtatInscription(etat)] = n
    return result


async def inscription_of(
    session: AsyncSession, atelier_id: int, membre_id: int
) -> Inscription | None:
    return (
        await session.execute(
            select(Inscription).where(
                Inscription.atelier_id == atelier_id, Inscription.membre_id == membre_id
            )
        )
    ).scalar_one_or_none()


async def members_with_etat(
    session: AsyncSession, atelier_id: int, etats: Sequence[EtatInscription]
) -> Sequence[tuple[Inscription, Membre]]:
    rows = await session.execute(
        select(Inscription, Membre)
        .join(Membre, Membre.id == Inscription.membre_id)
        .where(Inscription.atelier_id == atelier_id, Inscription.etat.in_(list(etats)))
        .order_by(Inscription.etat, Inscription.rang_attente, Inscription.id)
    )
    return [(i, m) for i, m in rows.tuples()]


async def seance_reponses(
    session: AsyncSession, seance_ids: Sequence[int], *, membre_id: int | None = None
) -> Sequence[SeanceReponse]:
    """The per-séance answers to these séances (of one member, with ``membre_id``)."""
    if not seance_ids:
        return []
    stmt = select(SeanceReponse).where(SeanceReponse.seance_id.in_(list(seance_ids)))
    if membre_id is not None:
        stmt = stmt.where(SeanceReponse.membre_id == membre_id)
    return (await session.execute(stmt)).scalars().all()


async def expected_members(session: AsyncSession, atelier_id: int, seance_id: int) -> list[Membre]:
    """Who is expected at a séance (the inscriptions' rule of attendance): registered members
    who did not skip it, plus those who said « oui » to it alone; by member id."""
    registered = {
        m.id: m for _, m in await members_with_etat(session, atelier_id, [EtatInscription.INSCRIT])
    }
    answers = {r.membre_id: r.reponse for r in await seance_reponses(session, [seance_id])}
    out = [m for i, m in registered.items() if answers.get(i, Reponse.OUI) == Reponse.OUI]
    only_this = [i for i, r in answers.items() if r == Reponse.OUI and i not in registered]
    if only_this:
        out += (await session.execute(select(Membre).where(Membre.id.in_(only_this)))).scalars()
    return sorted(out, key=lambda m: m.id)


# --- bot state ---------------------------------------------------------------------------------


async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(BotState, key)
    return row.value if row else None


async def set_state(session: AsyncSession, key: str, value: str, now: datetime) -> None:
    row = await session.get(BotState, key)
    if row is None:
        session.add(BotState(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
