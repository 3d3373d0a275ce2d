"""Reminders at start-up: ateliers whose rows drifted from their plan (a change whose hook was
lost), rows that came due while the bot was down (late or missed), and rows a stopped process
left claimed. Mixed into ``RappelService``; the policies are described in ``service.py``."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import ARRAY, Boolean, DateTime, Integer, String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from cogs.reminders import plan
from cogs.reminders.plan import (
    LIVE,
    TOO_LATE,
    BulkPlanned,
    OverdueResult,
    PlannedRappel,
    Unfinished,
)
from cogs.reminders.queries import insert_into, planned_of, update_ids
from db import repositories as repo
from db.models import Atelier, EtatAtelier, Rappel, RappelKind, RappelStatus, Seance

log = logging.getLogger(__name__)

CHECK_BATCH = 100  # ateliers compared with their plan per query
#: Rows inserted per transaction by the bulk plan (a few statements each: insertmanyvalues).
BULK_ROWS = 5000

#: PostgreSQL: rows of a plan as one statement over arrays (one parse and one plan for
#: thousands of rows; a multi-row VALUES of 1,000 rows is 6,000 parameters to bind and plan).
_UNNEST_PLAN = text(
    "INSERT INTO rappel (seance_id, kind, offset_seconds, due_at, status, late)"
    " SELECT * FROM unnest(CAST(:seance_id AS integer[]), CAST(:kind AS varchar[]),"
    " CAST(:offset_seconds AS integer[]), CAST(:due_at AS timestamptz[]),"
    " CAST(:status AS varchar[]), CAST(:late AS boolean[]))"
    " ON CONFLICT (seance_id, kind, offset_seconds) DO NOTHING"
).bindparams(
    bindparam("seance_id", type_=ARRAY(Integer)),
    bindparam("kind", type_=ARRAY(String)),
    bindparam("offset_seconds", type_=ARRAY(Integer)),
    bindparam("due_at", type_=ARRAY(DateTime(timezone=True))),
    bindparam("status", type_=ARRAY(String)),
    bindparam("late", type_=ARRAY(Boolean)),
)


#: The arrays of ``_UNNEST_PLAN``, in its order.
_COLUMNS = ("seance_id", "kind", "offset_seconds", "due_at", "status", "late")


async def _insert_plan(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert reminder rows, keeping those already there (``ON CONFLICT DO NOTHING``)."""
    if s.bind.dialect.name != "postgresql":
        # On the table, not the mapped class: Core's executemany, without the ORM's bulk
        # bookkeeping per row (a third of the first start's planning).
        stmt = insert_into(s, Rappel.__table__).on_conflict_do_nothing(
            index_elements=["seance_id", "kind", "offset_seconds"]
        )
        await (await s.connection()).execute(stmt, rows)
        return
    columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    for row in rows:
        for name in _COLUMNS:
            value = row[name]
            columns[name].append(value.value if isinstance(value, Enum) else value)
    await s.execute(_UNNEST_PLAN, columns)


class StartupSteps:
    """The start-up half of ``RappelService``."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    offsets: Sequence[timedelta]
    stale_after: timedelta

    async def plan_unplanned(self) -> BulkPlanned:
        """Ateliers planned, with a séance not over and no reminder row at all (a first start
        on an existing database, a restore, ateliers written by another tool) get their whole
        plan in bulk: their séances read in one query, the rows inserted a few thousand per
        transaction. An atelier planned meanwhile by its own change keeps its rows (``ON
        CONFLICT DO NOTHING``). Returns those ateliers (in step with their plan now: see
        ``out_of_step``) and the rows inserted."""
        now = self.clock.now()
        has_rows = (
            select(Rappel.id)
            .join(Seance, Seance.id == Rappel.seance_id)
            .where(Seance.atelier_id == Atelier.id)
            .exists()
        )
        running = select(Seance.atelier_id).where(repo.still_running(now))
        async with self.sessions() as s:
            times, duree = await _seance_times(
                s, Atelier.etat == EtatAtelier.PLANIFIE, Atelier.id.in_(running), ~has_rows
            )
        rows = [
            {
                "seance_id": seance_id,
                "kind": kind,
                "offset_seconds": offset,
                "due_at": due,
                "status": RappelStatus.PLANNED if due > now else RappelStatus.MISSED,
                "late": False,
            }
            for atelier_id, seances in times.items()
            for (seance_id, kind, offset), due in plan.plan(
                seances, list(self.offsets), duree[atelier_id]
            ).items()
        ]
        for i in range(0, len(rows), BULK_ROWS):
            async with self.sessions.begin() as s:
                await _insert_plan(s, rows[i : i + BULK_ROWS])
        if rows:
            log.info("planned %d reminder rows for %d ateliers in bulk", len(rows), len(times))
        return BulkPlanned(frozenset(times), len(rows))

    async def out_of_step(self, known: Collection[int] = ()) -> tuple[list[int], list[int]]:
        """Ateliers whose rows do not match their plan: planned ones with a séance not over
        whose rows are missing, moved or no longer wanted (``replan_atelier`` them), and
        cancelled ones with rows still live (``withdraw_atelier`` them). Bulk reads, by batches
        of ateliers, so that start-up can check every atelier cheaply (a crash between a change
        and its hook loses nothing). ``known``: planned ateliers known to be in step (just
        planned by ``plan_unplanned``), not read again."""
        now = self.clock.now()
        upcoming = select(Seance.atelier_id).where(repo.still_running(now))
        async with self.sessions() as s:
            ids = [
                i
                for i in await s.scalars(
                    select(Atelier.id)
                    .where(Atelier.etat == EtatAtelier.PLANIFIE, Atelier.id.in_(upcoming))
                    .order_by(Atelier.id)
                )
                if i not in known
            ]
            stale: list[int] = []
            for i in range(0, len(ids), CHECK_BATCH):
                stale += await self._stale_among(s, ids[i : i + CHECK_BATCH])
            cancelled = await s.scalars(
                select(Seance.atelier_id)
                .join(Rappel, Rappel.seance_id == Seance.id)
                .join(Atelier, Atelier.id == Seance.atelier_id)
                .where(Atelier.etat != EtatAtelier.PLANIFIE, Rappel.status.in_(LIVE))
                .distinct()
            )
            withdraw = sorted(cancelled)
        if stale or withdraw:
            log.info("out of step: re-plan ateliers %s, withdraw %s", stale, withdraw)
        return stale, withdraw

    async def _stale_among(self, s: AsyncSession, ids: list[int]) -> list[int]:
        """Of these planned ateliers, those whose rows differ from their plan."""
        times, duree = await _seance_times(s, Seance.atelier_id.in_(ids))
        wanted = {a: plan.plan(t, self.offsets, duree[a]) for a, t in times.items()}
        rows = await (await s.connection()).execute(  # columns only: no ORM step per row
            select(
                Seance.atelier_id,
                Rappel.seance_id,
                Rappel.kind,
                Rappel.offset_seconds,
                Rappel.due_at,
                Rappel.status,
            )
            .join(Seance, Seance.id == Rappel.seance_id)
            .where(Seance.atelier_id.in_(ids))
        )
        seen: dict[int, int] = {}
        stale: set[int] = set()
        for atelier_id, seance_id, kind, offset, due_at, status in rows.tuples():
            want = wanted[atelier_id].get((seance_id, RappelKind(kind), offset))
            if want is None:
                stale.update([atelier_id] if status in LIVE else [])
            else:
                seen[atelier_id] = seen.get(atelier_id, 0) + 1
                stale.update([atelier_id] if want != due_at else [])
        stale.update(a for a, p in wanted.items() if seen.get(a, 0) < len(p))
        return sorted(stale)

    async def startup_overdue(self) -> OverdueResult:
        """Planned rows whose time passed while the bot was down: late if still timely (and the
        latest of their séance's reminders), else missed."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            rows = await s.execute(
                select(Rappel, Seance)
                .join(Seance, Seance.id == Rappel.seance_id)
                .where(Rappel.status == RappelStatus.PLANNED, Rappel.due_at <= now)
                .order_by(Rappel.due_at, Rappel.id)
            )
            overdue = [
                (r, se, now < plan.deadline(RappelKind(r.kind), se.starts_at, r.due_at))
                for r, se in rows.tuples()
            ]
            reminders = [(r, ok) for r, _, ok in overdue if r.kind == RappelKind.RAPPEL]
            latest = {r.seance_id: r.id for r, ok in reminders if ok}  # by due time
            late: list[PlannedRappel] = []
            missed: list[int] = []
            for r, se, timely in overdue:
                planned = (Rappel.id == r.id, Rappel.status == RappelStatus.PLANNED)
                superseded = r.kind == RappelKind.RAPPEL and latest.get(r.seance_id) != r.id
                if timely and not superseded:
                    if await update_ids(s, Rappel, *planned, late=True):
                        late.append(replace(planned_of(r, se.atelier_id), late=True))
                elif await update_ids(
                    s, Rappel, *planned, status=RappelStatus.MISSED, error=TOO_LATE
                ):
                    missed.append(r.id)
        if late or missed:
            log.info("start-up: late %s, missed %s", [p.id for p in late], missed)
        return OverdueResult(tuple(late), tuple(missed))

    async def unfinished(self) -> list[Unfinished]:
        """Claimed rows, with the time ``claim`` may take each over (schedule a claim then)."""
        now = self.clock.now()
        async with self.sessions() as s:
            rows = await s.execute(select(Rappel).where(Rappel.status == RappelStatus.CLAIMED))
            return [
                Unfinished(
                    r.id, r.claimed_by, r.claimed_at, (r.claimed_at or now) + self.stale_after
                )
                for r in rows.scalars()
            ]


async def _seance_times(
    s: AsyncSession, *where: Any
) -> tuple[dict[int, list[plan.SeanceTimes]], dict[int, int]]:
    """The séances of the ateliers ``where`` selects, as the plan needs them (by atelier id),
    and each atelier's length in minutes: one query."""
    rows = await (await s.connection()).execute(  # columns only: no ORM step per row
        select(
            Seance.id,
            Seance.atelier_id,
            Seance.local_date,
            Seance.local_time,
            Seance.timezone,
            Seance.starts_at,
            Seance.ends_at,
            Atelier.duree_minutes,
        )
        .join(Atelier, Atelier.id == Seance.atelier_id)
        .where(*where)
    )
    times: dict[int, list[plan.SeanceTimes]] = {}
    duree: dict[int, int] = {}
    for seance_id, atelier_id, day, at, zone, starts, ends, minutes in rows.tuples():
        times.setdefault(atelier_id, []).append(
            plan.SeanceTimes(seance_id, day, at, zone, starts, ends)
        )
        duree[atelier_id] = minutes
    return times, duree
