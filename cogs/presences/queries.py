"""Attendance queries shared by the presences service, the participants export, the
statistics and the attestation. No Discord here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import repositories as repo
from db.models import Atelier, Membre, Presence, Seance

#: The « Je suis là » button is accepted from this long before a séance's start …
OPEN_BEFORE = timedelta(minutes=15)
#: … until this long after its end.
CLOSE_AFTER = timedelta(minutes=30)


def seance_end(seance: Seance, atelier: Atelier) -> datetime:
    """When a séance ends: its end, else its start plus the atelier's duration; a séance
    without a time lasts its whole day."""
    if seance.ends_at is not None:
        return seance.ends_at
    if seance.local_time is None:
        return seance.starts_at + timedelta(days=1)
    return seance.starts_at + timedelta(minutes=atelier.duree_minutes)


def window(seance: Seance, atelier: Atelier) -> tuple[datetime, datetime]:
    """When a member may say « Je suis là » for the séance."""
    if seance.local_time is None:
        return seance.starts_at, seance_end(seance, atelier)
    return seance.starts_at - OPEN_BEFORE, seance_end(seance, atelier) + CLOSE_AFTER


async def expected(session: AsyncSession, atelier_id: int, seance_id: int) -> list[Membre]:
    """Those expected at a séance: registered members who did not skip it, plus those who said
    « oui » to it alone (the inscriptions' rule of attendance), ordered by name."""
    members = await repo.expected_members(session, atelier_id, seance_id)
    return sorted(members, key=lambda m: ((m.display_name or "").casefold(), m.id))


async def presences_of(
    session: AsyncSession, seance_ids: Sequence[int], *, membre_id: int | None = None
) -> list[Presence]:
    """The attendance of these séances (of one member, with ``membre_id``)."""
    if not seance_ids:
        return []
    stmt = select(Presence).where(Presence.seance_id.in_(list(seance_ids)))
    if membre_id is not None:
        stmt = stmt.where(Presence.membre_id == membre_id)
    return list((await session.execute(stmt.order_by(Presence.seance_id, Presence.id))).scalars())


async def attended_by_membre(
    session: AsyncSession, seance_ids: Sequence[int]
) -> dict[int, tuple[int, ...]]:
    """For each member who came to any of these séances, the séances they came to."""
    out: dict[int, list[int]] = {}
    for p in await presences_of(session, seance_ids):
        out.setdefault(p.membre_id, []).append(p.seance_id)
    return {k: tuple(v) for k, v in out.items()}
