"""Reminders: the plan, the start-up policy, and claim-then-send, exactly once. No Discord here.

The ``rappel`` table is the truth; the bot's scheduler is a cache rebuilt from ``pending()``
(STYLE.md rule 6). Several bot processes may share one PostgreSQL: every step that could send
something is a conditional UPDATE, and zero rows means someone else has it (rule 7). Values and
pure rules (due times, DST, deadlines, nonces, back-off) are in ``plan.py``. ``RappelService``
is one class in parts: the plan and the claim here, the fan-out in ``deliveries.py``, the
start-up checks in ``startup.py``, the weekly digest in ``digest.py``; shared queries in
``queries.py``.

Policies:

* **Planning.** A row whose due time has already passed when it is planned is stored as
  ``missed``, never sent: an atelier created two days ahead gets its 1d and 1h reminders and no
  7d one.
* **Start-up** (``startup_overdue``). A ``planned`` row whose due time passed while the bot was
  down is sent now, marked late, while still timely (``plan.deadline``: a reminder until its
  séance begins, a ``debut`` until 15 minutes after the start, a ``suivi`` until a day after it
  was due); otherwise it becomes ``missed``. Of one séance's overdue reminders only the latest
  is sent (a bot down for a week sends "tomorrow", not also "in a week"). ``claim`` applies the
  same deadline.
* **Fan-out.** A claimed rappel owns its deliveries (the channel post, one DM per recipient),
  each claimed individually: only the holder of the rappel may claim them, and each claim
  refreshes the rappel's ``claimed_at`` (a heartbeat). A rappel claimed longer ago than
  ``stale_after`` (5 min) is taken over by the next ``claim``: deliveries already ``sent`` are
  never sent again, and the one in flight when its sender stopped is closed as ``failed``
  (``INTERRUPTED``), not resent: whether Discord got it is unknown, and Discord's nonce check
  only covers a few minutes. The sender's first transaction (``start``) claims the row, creates
  its deliveries and takes the channel post; recording a rappel's only delivery closes the row
  in the same transaction (``delivery_sent(last_of=…)``): a reminder posted in its channel
  alone costs two commits.
* **Retries.** A transient failure goes back to ``pending``; ``delivery_failed`` says when to
  retry (1 s, then every 2 s, so a reminder arrives within seconds of a fault ending), up to
  ``max_attempts`` and never at or after the reminder's deadline, then ``failed``. A permanent
  failure is ``failed`` at once, with its reason. A delivery a sender holds is ``sending``.
* **With the atelier.** ``plan_in`` and ``withdraw_in`` run inside the ateliers' own
  transaction (``AtelierService`` receives this service as its ``ReminderPlan``): the plan is
  committed with the change; the scheduler hears of it after the commit (``REMINDERS``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from cogs.ateliers.info import load_info, seance_info
from cogs.reminders import plan
from cogs.reminders.deliveries import DeliverySteps, add_deliveries, deliveries_of
from cogs.reminders.digest import DigestSteps
from cogs.reminders.plan import (
    CHANNEL,
    DM_CLOSED,
    INTERRUPTED,
    LIVE,
    MAX_ATTEMPTS,
    NOT_RECIPIENT,
    STALE_AFTER,
    TOO_LATE,
    ClaimedRappel,
    Delivery,
    DigestEntry,
    OverdueResult,
    PlannedRappel,
    ReplanResult,
    Round,
    Unfinished,
)
from cogs.reminders.queries import (
    HELD,
    PLANNED_COLUMNS,
    WAITING,
    of_atelier,
    planned_of,
    rows_of,
    seance_times,
    update_ids,
)
from cogs.reminders.startup import StartupSteps
from db import repositories as repo
from db.models import (
    Atelier,
    DeliveryStatus,
    EtatAtelier,
    Livraison,
    Membre,
    Rappel,
    RappelKind,
    RappelStatus,
    Seance,
)
from db.session import notify_after_commit

__all__ = [
    "CHANNEL",
    "DM_CLOSED",
    "HELD",
    "INTERRUPTED",
    "NOT_RECIPIENT",
    "TOO_LATE",
    "WAITING",
    "ClaimedRappel",
    "Delivery",
    "DigestEntry",
    "OverdueResult",
    "PlannedRappel",
    "RappelService",
    "ReplanResult",
    "Round",
    "Unfinished",
]

log = logging.getLogger(__name__)

#: The topic a transaction names when it changed the plan: the scheduler syncs after the commit.
REMINDERS = "reminders"
DUE_SLACK = timedelta(seconds=1)  # a job may fire a hair before its row's due time


@dataclass(frozen=True)
class _Claimed:
    """A claim, with what its transaction read that the deliveries need."""

    claimed: ClaimedRappel
    row: Rappel
    expected: list[Membre]
    thread: bool  # the atelier has a thread (a séance's start posts « Je suis là » there)


class RappelService(DeliverySteps, DigestSteps, StartupSteps):
    """The reminder plan and its exactly-once sending, one transaction per use case."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        offsets: Sequence[timedelta],
        *,
        worker: str,
        stale_after: timedelta = STALE_AFTER,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if any(o <= timedelta(0) for o in offsets):
            raise ValueError("reminder offsets must be positive")
        self.sessions = sessions
        self.clock = clock
        self.offsets = sorted(offsets, reverse=True)
        self.worker = worker[:100]  # stored in claimed_by
        self.stale_after = stale_after
        self.max_attempts = max_attempts

    # --- the plan ------------------------------------------------------------------------------

    async def plan_atelier(self, atelier_id: int) -> list[PlannedRappel]:
        """Create the missing rows of an atelier's plan (idempotent); returns its planned rows."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            atelier = await repo.lock_atelier(s, atelier_id)
            if atelier is None or atelier.etat != EtatAtelier.PLANIFIE:
                return []
            await self._reconcile(s, atelier, now, replan=False)
            rows = await rows_of(s, atelier_id)
        return [planned_of(r, atelier_id) for r in rows if r.status == RappelStatus.PLANNED]

    async def plan_in(self, session: AsyncSession, atelier: Atelier, now: datetime) -> None:
        """Inside the caller's transaction (which holds the atelier's lock): bring its rows to
        its plan; a cancelled atelier's are withdrawn."""
        if atelier.etat != EtatAtelier.PLANIFIE:
            await self._withdraw(session, atelier.id)
        else:
            await self._reconcile(session, atelier, now, replan=True)
        notify_after_commit(session, REMINDERS)

    async def withdraw_in(self, session: AsyncSession, atelier_id: int) -> None:
        """Inside the caller's transaction: a cancelled atelier sends nothing more."""
        await self._withdraw(session, atelier_id)
        notify_after_commit(session, REMINDERS)

    async def set_dm_reminders(self, guild_id: int, user_id: int, enabled: bool) -> bool:
        """Turn a member's direct-message reminders on or off (``/rappels``); returns the new
        value."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            membre = await repo.upsert_membre(s, guild_id, user_id, now)
            membre.dm_reminders = enabled
        return enabled

    async def replan_atelier(self, atelier_id: int) -> ReplanResult:
        """After a modification: moved séances get new due times (and are reminded anew, even if
        sent for the old time); rows no longer in the plan are withdrawn; the others are kept."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            atelier = await repo.lock_atelier(s, atelier_id)
            if atelier is None:
                return ReplanResult((), (), ())
            if atelier.etat != EtatAtelier.PLANIFIE:
                return ReplanResult((), tuple(await self._withdraw(s, atelier_id)), ())
            result = await self._reconcile(s, atelier, now, replan=True)
        log.info(
            "atelier %s re-planned: rescheduled %s, withdrawn %s, missed %s",
            atelier_id,
            [p.id for p in result.rescheduled],
            result.withdrawn,
            result.missed,
        )
        return result

    async def withdraw_atelier(self, atelier_id: int) -> list[int]:
        """A cancelled atelier sends nothing more: every row not yet sent is withdrawn."""
        async with self.sessions.begin() as s:
            ids = await self._withdraw(s, atelier_id)
        log.info("atelier %s: reminders %s withdrawn", atelier_id, ids)
        return ids

    async def pending(self, until: datetime | None = None) -> list[PlannedRappel]:
        """Every planned row (due before ``until``, when given), soonest first: what the
        scheduler holds."""
        async with self.sessions() as s:
            stmt = (
                select(*PLANNED_COLUMNS, Seance.atelier_id)
                .join(Seance, Seance.id == Rappel.seance_id)
                .where(Rappel.status == RappelStatus.PLANNED)
                .order_by(Rappel.due_at, Rappel.id)
            )
            if until is not None:
                stmt = stmt.where(Rappel.due_at < until)
            return [planned_of(r, r.atelier_id) for r in await s.execute(stmt)]

    async def planned(self, rappel_id: int) -> PlannedRappel | None:
        """One row, if it is still planned (to reschedule a job that fired before its time)."""
        async with self.sessions() as s:
            row = await s.execute(
                select(Rappel, Seance.atelier_id)
                .join(Seance, Seance.id == Rappel.seance_id)
                .where(Rappel.id == rappel_id, Rappel.status == RappelStatus.PLANNED)
            )
            found = row.tuples().first()
            return planned_of(*found) if found else None

    # --- claim, then send ----------------------------------------------------------------------

    async def claim(self, rappel_id: int, *, due_only: bool = False) -> ClaimedRappel | None:
        """Take a planned row (or take over a stale claimed one) for sending; None if someone
        else has it, or it was withdrawn, or it is too late (then it becomes missed). With
        ``due_only``, a planned row is taken only once due (a job scheduled for an old due time,
        by a process that missed a re-plan, must not send early: see ``planned``)."""
        async with self.sessions.begin() as s:
            taken = await self._claim_in(s, rappel_id, self.clock.now(), due_only=due_only)
        return taken.claimed if taken else None

    async def start(self, rappel_id: int, *, due_only: bool = False) -> Round | None:
        """What a reminder's sending begins with, in one transaction: ``claim``, then
        ``deliveries``, then ``claim_delivery`` of the channel post (sent first, at once). None
        as for ``claim``."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            taken = await self._claim_in(s, rappel_id, now, due_only=due_only)
            if taken is None:
                return None
            await add_deliveries(s, taken.row, now, taken.expected, thread=taken.thread)
            channel = await self._take(
                s, Livraison.rappel_id == rappel_id, Livraison.target == CHANNEL
            )
            every = await deliveries_of(s, rappel_id)
        return Round(taken.claimed, tuple(every), channel[0] if channel else None)

    async def _claim_in(
        self, s: AsyncSession, rappel_id: int, now: datetime, *, due_only: bool
    ) -> _Claimed | None:
        mine = {"status": RappelStatus.CLAIMED, "claimed_by": self.worker, "claimed_at": now}
        this = Rappel.id == rappel_id
        due = (Rappel.due_at <= now + DUE_SLACK,) if due_only else ()
        resumed = not await update_ids(
            s, Rappel, this, Rappel.status == RappelStatus.PLANNED, *due, **mine
        )
        if resumed:
            stale = (
                Rappel.status == RappelStatus.CLAIMED,
                Rappel.claimed_at < now - self.stale_after,
            )
            if not await update_ids(s, Rappel, this, *stale, **mine):
                return None
            interrupted = await update_ids(
                s,
                Livraison,
                Livraison.rappel_id == rappel_id,
                *HELD,
                status=DeliveryStatus.FAILED,
                error=INTERRUPTED,
            )
            log.warning("rappel %s taken over; deliveries %s interrupted", rappel_id, interrupted)
        found = await s.execute(
            select(Rappel, Seance, Atelier)
            .join(Seance, Seance.id == Rappel.seance_id)
            .join(Atelier, Atelier.id == Seance.atelier_id)
            .where(this)
        )
        row, seance, atelier = found.tuples().one()
        if atelier.etat != EtatAtelier.PLANIFIE:
            row.status, row.claimed_by, row.claimed_at = RappelStatus.WITHDRAWN, None, None
            return None
        if now >= plan.deadline(RappelKind(row.kind), seance.starts_at, row.due_at):
            row.status, row.error = RappelStatus.MISSED, TOO_LATE
            log.info("rappel %s missed: séance %s has begun", rappel_id, seance.id)
            return None
        info = await load_info(s, atelier)
        expected = await repo.expected_members(s, atelier.id, seance.id)
        log.info("rappel %s claimed by %s (resumed: %s)", rappel_id, self.worker, resumed)
        claimed = ClaimedRappel(
            id=rappel_id,
            kind=RappelKind(row.kind),
            offset=timedelta(seconds=row.offset_seconds),
            due_at=row.due_at,
            late=row.late,
            resumed=resumed,
            atelier=info,
            seance=seance_info(seance),
            seance_number=1 + [x.id for x in info.seances].index(seance.id),
            attending=len(expected),
        )
        return _Claimed(claimed, row, expected, thread=atelier.thread_id is not None)

    async def release(self, rappel_id: int) -> bool:
        """Give back a claim that could not even start: the row is planned again."""
        async with self.sessions.begin() as s:
            return bool(
                await update_ids(
                    s,
                    Rappel,
                    *self._held(rappel_id),
                    status=RappelStatus.PLANNED,
                    claimed_by=None,
                    claimed_at=None,
                )
            )

    async def finish(self, rappel_id: int, status: RappelStatus, error: str | None = None) -> bool:
        """Close a claimed row as ``sent``, ``failed`` or ``missed``; False if it is not ours any
        more (withdrawn, moved, or taken over)."""
        async with self.sessions.begin() as s:
            return await self._finish_in(s, rappel_id, status, error, self.clock.now())

    # --- internals -----------------------------------------------------------------------------

    async def _withdraw(self, s: AsyncSession, atelier_id: int) -> list[int]:
        live = Rappel.status.in_(LIVE)
        return sorted(
            await update_ids(s, Rappel, of_atelier(atelier_id), live, status=RappelStatus.WITHDRAWN)
        )

    async def _reconcile(
        self, s: AsyncSession, atelier: Atelier, now: datetime, *, replan: bool
    ) -> ReplanResult:
        """Bring the atelier's rows to its plan. Without ``replan``, only add missing rows."""
        seances = [seance_times(x) for x in await repo.seances_of(s, atelier.id)]
        wanted = plan.plan(seances, self.offsets, atelier.duree_minutes)
        if atelier.publie_le is not None:  # publier-le: nothing is said before the announcement
            wanted = {key: due for key, due in wanted.items() if due >= atelier.publie_le}
        have = {
            (r.seance_id, RappelKind(r.kind), r.offset_seconds): r
            for r in await rows_of(s, atelier.id)
        }
        touched: list[Rappel] = []
        missed: list[int] = []
        for (seance_id, kind, offset), due in wanted.items():
            row = have.get((seance_id, kind, offset))
            if row is None:
                row = Rappel(seance_id=seance_id, kind=kind, offset_seconds=offset, due_at=due)
                row.status = RappelStatus.PLANNED if due > now else RappelStatus.MISSED
                row.late = False
                s.add(row)
                touched.append(row)
            elif replan and (row.due_at != due or row.status == RappelStatus.WITHDRAWN):
                row.due_at = due
                if due > now:  # reminded anew: a clean row without deliveries
                    row.status, row.late, row.error = RappelStatus.PLANNED, False, None
                    row.claimed_by = row.claimed_at = row.sent_at = None
                    await s.execute(delete(Livraison).where(Livraison.rappel_id == row.id))
                    touched.append(row)
                elif row.status in (*LIVE, RappelStatus.WITHDRAWN):
                    row.status, row.error = RappelStatus.MISSED, TOO_LATE
                    missed.append(row.id)
        withdrawn: list[int] = []
        for key, row in have.items() if replan else ():
            if key not in wanted and row.status in LIVE:
                row.status = RappelStatus.WITHDRAWN
                withdrawn.append(row.id)
        await s.flush()
        missed += [r.id for r in touched if r.status == RappelStatus.MISSED]
        rescheduled = [
            planned_of(r, atelier.id) for r in touched if r.status == RappelStatus.PLANNED
        ]
        return ReplanResult(tuple(rescheduled), tuple(sorted(withdrawn)), tuple(sorted(missed)))
