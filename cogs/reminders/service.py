"""Reminders: the plan, the start-up policy, and claim-then-send, exactly once. No Discord here.

The ``rappel`` table is the truth; the bot's scheduler is a cache rebuilt from ``pending()``
(STYLE.md rule 6). Several bot processes may share one PostgreSQL: every step that could send
something is a conditional UPDATE, and zero rows means someone else has it (rule 7). Values and
pure rules (due times, DST, deadlines, nonces, back-off) are in ``plan.py``.

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
  only covers a few minutes.
* **Retries.** A transient failure goes back to ``pending``; ``delivery_failed`` says when to
  retry (15 s, 30 s, 1 min, 2 min: within Discord's nonce window), up to ``max_attempts`` (5),
  then ``failed``. A permanent failure is ``failed`` at once, with its reason.

A claimed delivery is ``pending`` with ``error = IN_FLIGHT``: the schema's delivery statuses are
pending / sent / failed, and this needs no migration.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from cogs.ateliers.service import atelier_info, load_info, seance_info
from cogs.reminders import plan
from cogs.reminders.plan import (
    CHANNEL,
    DM_CLOSED,
    ERROR_MAX,
    IN_FLIGHT,
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
    Unfinished,
)
from db import repositories as repo
from db.models import (
    Atelier,
    DeliveryStatus,
    EtatAtelier,
    EtatInscription,
    Livraison,
    Membre,
    Rappel,
    RappelKind,
    RappelStatus,
    Reponse,
    Seance,
)

log = logging.getLogger(__name__)

# A delivery waiting to be sent, and one a sender holds.
WAITING = (Livraison.status == DeliveryStatus.PENDING, Livraison.error.is_distinct_from(IN_FLIGHT))
HELD = (Livraison.status == DeliveryStatus.PENDING, Livraison.error == IN_FLIGHT)


# --- small queries in domain terms; they never commit (STYLE.md rule 3) -----------------------


async def _update(
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


def _of_atelier(atelier_id: int) -> ColumnElement[bool]:
    return Rappel.seance_id.in_(select(Seance.id).where(Seance.atelier_id == atelier_id))


async def _rows_of(s: AsyncSession, atelier_id: int) -> list[Rappel]:
    rows = await s.execute(select(Rappel).where(_of_atelier(atelier_id)).order_by(Rappel.due_at))
    return list(rows.scalars())


async def _attendees(s: AsyncSession, atelier_id: int, seance_id: int) -> list[Membre]:
    """Registered members who did not skip the séance, plus those who said ``oui`` to it alone
    (the inscriptions' rule of attendance)."""
    registered = {
        m.id: m for _, m in await repo.members_with_etat(s, atelier_id, [EtatInscription.INSCRIT])
    }
    answers = {r.membre_id: r.reponse for r in await repo.seance_reponses(s, [seance_id])}
    out = [m for i, m in registered.items() if answers.get(i, Reponse.OUI) == Reponse.OUI]
    for membre_id, reponse in answers.items():
        if reponse == Reponse.OUI and membre_id not in registered:
            membre = await s.get(Membre, membre_id)
            out += [membre] if membre is not None else []
    return sorted(out, key=lambda m: m.id)


async def _add_deliveries(s: AsyncSession, row: Rappel, now: datetime) -> None:
    """The channel post and a DM per recipient, created once (``on conflict do nothing``); a
    waiting DM to someone no longer expected is closed."""
    seance = await s.get(Seance, row.seance_id)
    assert seance is not None
    targets: dict[str, int | None] = {CHANNEL: None}
    for m in await _attendees(s, seance.atelier_id, seance.id):
        if m.dm_reminders and m.user_id is not None:
            targets[f"dm:{m.id}"] = m.id
    values = [
        dict(
            rappel_id=row.id,
            target=target,
            membre_id=membre_id,
            status=DeliveryStatus.PENDING,
            nonce=plan.nonce(row.id, membre_id, row.due_at),
            attempts=0,
            created_at=now,
        )
        for target, membre_id in targets.items()
    ]
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Livraison).values(values)
    await s.execute(stmt.on_conflict_do_nothing(index_elements=["rappel_id", "target"]))
    gone = (Livraison.rappel_id == row.id, Livraison.target.not_in(list(targets)))
    await _update(s, Livraison, *gone, *WAITING, status=DeliveryStatus.FAILED, error=NOT_RECIPIENT)


async def _deliveries_of(s: AsyncSession, rappel_id: int) -> list[Delivery]:
    rows = await s.execute(
        select(Livraison, Membre)
        .outerjoin(Membre, Membre.id == Livraison.membre_id)
        .where(Livraison.rappel_id == rappel_id)
        .order_by(Livraison.membre_id.is_not(None), Livraison.id)
    )
    return [
        Delivery(
            id=d.id,
            rappel_id=rappel_id,
            target=d.target,
            membre_id=d.membre_id,
            user_id=m.user_id if m else None,
            locale=m.locale if m else None,
            status=DeliveryStatus(d.status),
            nonce=d.nonce,
            attempts=d.attempts,
            message_id=d.message_id,
            error=d.error,
        )
        for d, m in rows.tuples()
    ]


def _planned(row: Rappel, atelier_id: int) -> PlannedRappel:
    return PlannedRappel(
        id=row.id,
        atelier_id=atelier_id,
        seance_id=row.seance_id,
        kind=RappelKind(row.kind),
        offset=timedelta(seconds=row.offset_seconds),
        due_at=row.due_at,
        late=row.late,
    )


def _times(s: Seance) -> plan.SeanceTimes:
    return plan.SeanceTimes(s.id, s.local_date, s.local_time, s.timezone, s.starts_at, s.ends_at)


class RappelService:
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
            rows = await _rows_of(s, atelier_id)
        return [_planned(r, atelier_id) for r in rows if r.status == RappelStatus.PLANNED]

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

    async def pending(self) -> list[PlannedRappel]:
        """Every planned row, soonest first: what the scheduler holds."""
        async with self.sessions() as s:
            rows = await s.execute(
                select(Rappel, Seance.atelier_id)
                .join(Seance, Seance.id == Rappel.seance_id)
                .where(Rappel.status == RappelStatus.PLANNED)
                .order_by(Rappel.due_at, Rappel.id)
            )
            return [_planned(r, a) for r, a in rows.tuples()]

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
                    if await _update(s, Rappel, *planned, late=True):
                        late.append(replace(_planned(r, se.atelier_id), late=True))
                elif await _update(s, Rappel, *planned, status=RappelStatus.MISSED, error=TOO_LATE):
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

    # --- claim, then send ----------------------------------------------------------------------

    async def claim(self, rappel_id: int) -> ClaimedRappel | None:
        """Take a planned row (or take over a stale claimed one) for sending; None if someone
        else has it, or it was withdrawn, or it is too late (then it becomes missed)."""
        now = self.clock.now()
        mine = {"status": RappelStatus.CLAIMED, "claimed_by": self.worker, "claimed_at": now}
        this = Rappel.id == rappel_id
        async with self.sessions.begin() as s:
            resumed = not await _update(
                s, Rappel, this, Rappel.status == RappelStatus.PLANNED, **mine
            )
            if resumed:
                stale = (
                    Rappel.status == RappelStatus.CLAIMED,
                    Rappel.claimed_at < now - self.stale_after,
                )
                if not await _update(s, Rappel, this, *stale, **mine):
                    return None
                interrupted = await _update(
                    s,
                    Livraison,
                    Livraison.rappel_id == rappel_id,
                    *HELD,
                    status=DeliveryStatus.FAILED,
                    error=INTERRUPTED,
                )
                log.warning(
                    "rappel %s taken over; deliveries %s interrupted", rappel_id, interrupted
                )
            row = await s.get(Rappel, rappel_id)
            seance = await s.get(Seance, row.seance_id) if row else None
            atelier = await s.get(Atelier, seance.atelier_id) if seance else None
            assert row is not None and seance is not None and atelier is not None
            if atelier.etat != EtatAtelier.PLANIFIE:
                row.status, row.claimed_by, row.claimed_at = RappelStatus.WITHDRAWN, None, None
                return None
            if now >= plan.deadline(RappelKind(row.kind), seance.starts_at, row.due_at):
                row.status, row.error = RappelStatus.MISSED, TOO_LATE
                log.info("rappel %s missed: séance %s has begun", rappel_id, seance.id)
                return None
            info = await load_info(s, atelier)
            attending = len(await _attendees(s, atelier.id, seance.id))
        log.info("rappel %s claimed by %s (resumed: %s)", rappel_id, self.worker, resumed)
        return ClaimedRappel(
            id=rappel_id,
            kind=RappelKind(row.kind),
            offset=timedelta(seconds=row.offset_seconds),
            due_at=row.due_at,
            late=row.late,
            resumed=resumed,
            atelier=info,
            seance=seance_info(seance),
            seance_number=1 + [x.id for x in info.seances].index(seance.id),
            attending=attending,
        )

    async def release(self, rappel_id: int) -> bool:
        """Give back a claim that could not even start: the row is planned again."""
        async with self.sessions.begin() as s:
            return bool(
                await _update(
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
        if status not in (RappelStatus.SENT, RappelStatus.FAILED, RappelStatus.MISSED):
            raise ValueError(f"a claimed rappel cannot finish as {status}")
        now = self.clock.now()
        async with self.sessions.begin() as s:
            done = await _update(
                s,
                Rappel,
                *self._held(rappel_id),
                status=status,
                sent_at=now if status == RappelStatus.SENT else None,
                error=error[:ERROR_MAX] if error else None,
            )
        log.info("rappel %s finished as %s (ours: %s)", rappel_id, status.value, bool(done))
        return bool(done)

    async def deliveries(self, rappel_id: int) -> list[Delivery]:
        """The row's deliveries, created on the first call while it is claimed (idempotent): the
        channel post, and a DM to each expected member who turned DM reminders on. Send those
        whose ``to_send`` is true, each after ``claim_delivery``."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            row = await s.get(Rappel, rappel_id)
            if row is None:
                return []
            if row.status == RappelStatus.CLAIMED:
                await _add_deliveries(s, row, now)
            return await _deliveries_of(s, rappel_id)

    async def claim_delivery(self, delivery_id: int) -> bool:
        """Take one delivery for sending: only the holder of its rappel may, once at a time, up
        to ``max_attempts``. Refreshes the rappel's claim (heartbeat)."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            rappel_id = await s.scalar(
                select(Livraison.rappel_id).where(Livraison.id == delivery_id)
            )
            if rappel_id is None or not await _update(
                s, Rappel, *self._held(rappel_id), claimed_at=now
            ):
                return False
            return bool(
                await _update(
                    s,
                    Livraison,
                    Livraison.id == delivery_id,
                    *WAITING,
                    Livraison.attempts < self.max_attempts,
                    attempts=Livraison.attempts + 1,
                    error=IN_FLIGHT,
                )
            )

    async def delivery_sent(self, delivery_id: int, message_id: int | None) -> bool:
        """Record a sent delivery (always: it was sent, even if since taken over)."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            return bool(
                await _update(
                    s,
                    Livraison,
                    Livraison.id == delivery_id,
                    Livraison.status != DeliveryStatus.SENT,
                    status=DeliveryStatus.SENT,
                    message_id=message_id,
                    sent_at=now,
                    error=None,
                )
            )

    async def delivery_failed(
        self, delivery_id: int, error: str, *, permanent: bool
    ) -> datetime | None:
        """Record a failed attempt. Returns when to retry (claim it again then), or None when the
        delivery is closed as failed (permanent, or out of attempts)."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            attempts = await s.scalar(select(Livraison.attempts).where(Livraison.id == delivery_id))
            held = (Livraison.id == delivery_id, *HELD)
            if attempts is None:
                return None
            if permanent or attempts >= self.max_attempts:
                reason = error if permanent else f"gave up after {attempts} attempts: {error}"
                await _update(
                    s, Livraison, *held, status=DeliveryStatus.FAILED, error=reason[:ERROR_MAX]
                )
                log.warning("delivery %s failed for good: %s", delivery_id, reason)
                return None
            if not await _update(s, Livraison, *held, error=error[:ERROR_MAX] or "transient"):
                return None
        retry_at = now + plan.backoff(attempts)
        log.info("delivery %s failed (%s), retry at %s", delivery_id, error, retry_at)
        return retry_at

    async def dm_closed(self, membre_id: int) -> bool:
        """A DM was refused (Discord 50007): turn the member's DM reminders off and close their
        waiting DMs. True only when this call turned the option off (tell them once)."""
        async with self.sessions.begin() as s:
            first = await _update(
                s,
                Membre,
                Membre.id == membre_id,
                Membre.dm_reminders.is_(True),
                dm_reminders=False,
            )
            await _update(
                s,
                Livraison,
                Livraison.membre_id == membre_id,
                *WAITING,
                status=DeliveryStatus.FAILED,
                error=DM_CLOSED,
            )
        log.info("membre %s: DMs closed, DM reminders off (first time: %s)", membre_id, bool(first))
        return bool(first)

    # --- the weekly digest ---------------------------------------------------------------------

    async def digest(self, guild_id: int, *, days: int = 14) -> list[DigestEntry]:
        """Planned ateliers of every chantier with séances in the coming ``days`` (or under way),
        soonest first, each with its séances in the window."""
        now = self.clock.now()
        async with self.sessions() as s:
            rows = await s.execute(
                select(Seance, Atelier)
                .join(Atelier, Atelier.id == Seance.atelier_id)
                .where(
                    Atelier.guild_id == guild_id,
                    Atelier.etat == EtatAtelier.PLANIFIE,
                    repo.still_running(now),
                    Seance.starts_at < now + timedelta(days=days),
                )
                .order_by(Seance.starts_at, Seance.id)
            )
            window: dict[int, tuple[Atelier, list[Seance]]] = {}
            for seance, atelier in rows.tuples():
                window.setdefault(atelier.id, (atelier, []))[1].append(seance)
            counts = await repo.etat_counts_many(s, list(window))
            return [
                DigestEntry(
                    atelier_info(a, await repo.seances_of(s, a.id), counts[a.id]),
                    tuple(seance_info(x) for x in seances),
                )
                for a, seances in window.values()
            ]

    # --- internals -----------------------------------------------------------------------------

    def _held(self, rappel_id: int) -> tuple[ColumnElement[bool], ...]:
        """The row is claimed, by this process."""
        return (
            Rappel.id == rappel_id,
            Rappel.status == RappelStatus.CLAIMED,
            Rappel.claimed_by == self.worker,
        )

    async def _withdraw(self, s: AsyncSession, atelier_id: int) -> list[int]:
        live = Rappel.status.in_(LIVE)
        return sorted(
            await _update(s, Rappel, _of_atelier(atelier_id), live, status=RappelStatus.WITHDRAWN)
        )

    async def _reconcile(
        self, s: AsyncSession, atelier: Atelier, now: datetime, *, replan: bool
    ) -> ReplanResult:
        """Bring the atelier's rows to its plan. Without ``replan``, only add missing rows."""
        seances = [_times(x) for x in await repo.seances_of(s, atelier.id)]
        wanted = plan.plan(seances, self.offsets, atelier.duree_minutes)
        have = {
            (r.seance_id, RappelKind(r.kind), r.offset_seconds): r
            for r in await _rows_of(s, atelier.id)
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
        rescheduled = [_planned(r, atelier.id) for r in touched if r.status == RappelStatus.PLANNED]
        return ReplanResult(tuple(rescheduled), tuple(sorted(withdrawn)), tuple(sorted(missed)))
