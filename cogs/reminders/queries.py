"""Reminders: small queries in domain terms, shared by the service's parts. They take a session
and never commit: the use case that calls them owns the transaction (STYLE.md rule 3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.reminders import plan
from cogs.reminders.plan import PlannedRappel
from db.models import DeliveryStatus, Livraison, Membre, Rappel, RappelKind, Seance
from db.repositories import insert_for

# A delivery waiting to be sent, and one a sender holds.
WAITING = (Livraison.status == DeliveryStatus.PENDING,)
HELD = (Livraison.status == DeliveryStatus.SENDING,)


async def update_ids(
    s: AsyncSession, model: type[Rappel | Livraison | Membre], *where: Any, **values: Any
) -> list[int]:
    """A conditional UPDATE; the ids it changed (none: someone else got there first)."""
    stmt = (
        update(model)
        .where(*where)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return list((await s.execute(stmt)).scalars())


def insert_into(s: AsyncSession, model: type[Any]) -> Any:
    """An INSERT of the session's dialect, which supports ``on_conflict_do_nothing``."""
    return insert_for(s, model)


def of_atelier(atelier_id: int) -> ColumnElement[bool]:
    return Rappel.seance_id.in_(select(Seance.id).where(Seance.atelier_id == atelier_id))


async def rows_of(s: AsyncSession, atelier_id: int) -> list[Rappel]:
    rows = await s.execute(select(Rappel).where(of_atelier(atelier_id)).order_by(Rappel.due_at))
    return list(rows.scalars())


#: A planned row's columns, for reads of many rows without ORM objects (``planned_of`` takes
#: either).
PLANNED_COLUMNS = (
    Rappel.id,
    Rappel.seance_id,
    Rappel.kind,
    Rappel.offset_seconds,
    Rappel.due_at,
    Rappel.late,
)


def planned_of(row: Rappel | Row[Any], atelier_id: int) -> PlannedRappel:
    return PlannedRappel(
        id=row.id,
        atelier_id=atelier_id,
        seance_id=row.seance_id,
        kind=RappelKind(row.kind),
        offset=timedelta(seconds=row.offset_seconds),
        due_at=row.due_at,
        late=row.late,
    )


def seance_times(s: Seance) -> plan.SeanceTimes:
    return plan.SeanceTimes(s.id, s.local_date, s.local_time, s.timezone, s.starts_at, s.ends_at)
