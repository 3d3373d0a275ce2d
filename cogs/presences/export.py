"""Attendance in the staff's participants export: who came to which séance, and those who came
without registering (a row of their own). No Discord here."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cogs.ateliers.info import ParticipantRow
from cogs.presences import queries
from db.models import Membre


async def with_attendance(
    session: AsyncSession, seance_ids: Sequence[int], rows: Sequence[ParticipantRow]
) -> list[ParticipantRow]:
    """``rows`` with the séances each member came to, plus a row per walk-in."""
    attended = await queries.attended_by_membre(session, seance_ids)
    out = [dataclasses.replace(r, presences=attended.pop(r.membre_id, ())) for r in rows]
    for membre_id, seances in sorted(attended.items()):
        membre = await session.get(Membre, membre_id)
        out.append(
            ParticipantRow(
                membre_id=membre_id,
                user_id=membre.user_id if membre else None,
                display_name=membre.display_name if membre else None,
                etat=None,
                position=None,
                seance_reponses={},
                created_at=None,
                updated_at=None,
                inscrit_at=None,
                presences=seances,
            )
        )
    return out
