"""Reminders, the fan-out: a claimed rappel's deliveries (the channel post, one DM per
recipient), each claimed, sent and recorded individually. Mixed into ``RappelService``; the
policies are described in ``service.py``. No Discord here."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from cogs.reminders import plan
from cogs.reminders.plan import CHANNEL, DM_CLOSED, ERROR_MAX, NOT_RECIPIENT, THREAD, Delivery
from cogs.reminders.queries import HELD, WAITING, insert_into, update_ids
from db import repositories as repo
from db.models import (
    Atelier,
    DeliveryStatus,
    Livraison,
    Membre,
    Rappel,
    RappelKind,
    RappelStatus,
    Seance,
)
from db.outbox import backoff

log = logging.getLogger(__name__)


async def add_deliveries(
    s: AsyncSession, row: Rappel, now: datetime, expected: list[Membre], *, thread: bool
) -> None:
    """The channel post (and, for a séance's start in an atelier with a thread, the « Je suis
    là » post) and a DM to each ``expected`` member with DM reminders on, created once (``on
    conflict do nothing``); a waiting DM to someone no longer expected is closed."""
    targets: dict[str, int | None] = {CHANNEL: None}
    if row.kind == RappelKind.DEBUT and thread:
        targets[THREAD] = None  # « Je suis là » in the atelier's thread (attendance)
    for m in expected:
        if m.dm_reminders and m.user_id is not None:
            targets[f"dm:{m.id}"] = m.id
    values = [
        dict(
            rappel_id=row.id,
            target=target,
            membre_id=membre_id,
            status=DeliveryStatus.PENDING,
            nonce=plan.nonce(row.id, membre_id, row.due_at, thread=target == THREAD),
            attempts=0,
            created_at=now,
        )
        for target, membre_id in targets.items()
    ]
    stmt = insert_into(s, Livraison).values(values)
    await s.execute(stmt.on_conflict_do_nothing(index_elements=["rappel_id", "target"]))
    gone = (Livraison.rappel_id == row.id, Livraison.target.not_in(list(targets)))
    await update_ids(
        s, Livraison, *gone, *WAITING, status=DeliveryStatus.FAILED, error=NOT_RECIPIENT
    )


async def deliveries_of(s: AsyncSession, rappel_id: int) -> list[Delivery]:
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


class DeliverySteps:
    """The delivery half of ``RappelService`` (one transaction per use case)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    worker: str
    max_attempts: int

    def _held(self, rappel_id: int) -> tuple[ColumnElement[bool], ...]:
        """The row is claimed, by this process."""
        return (
            Rappel.id == rappel_id,
            Rappel.status == RappelStatus.CLAIMED,
            Rappel.claimed_by == self.worker,
        )

    async def deliveries(self, rappel_id: int) -> list[Delivery]:
        """The row's deliveries, created on the first call while it is claimed (idempotent): the
        channel post, and a DM to each expected member who turned DM reminders on. Send those
        whose ``to_send`` is true, each after ``claim_delivery``."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            found = await s.execute(
                select(Rappel, Seance, Atelier.thread_id)
                .join(Seance, Seance.id == Rappel.seance_id)
                .join(Atelier, Atelier.id == Seance.atelier_id)
                .where(Rappel.id == rappel_id)
            )
            row = found.tuples().first()
            if row is None:
                return []
            rappel, seance, thread_id = row
            if rappel.status == RappelStatus.CLAIMED:
                expected = await repo.expected_members(s, seance.atelier_id, seance.id)
                await add_deliveries(s, rappel, now, expected, thread=thread_id is not None)
            return await deliveries_of(s, rappel_id)

    async def claim_delivery(self, delivery_id: int) -> bool:
        """Take one delivery for sending: only the holder of its rappel may, once at a time, up
        to ``max_attempts``. Refreshes the rappel's claim (heartbeat)."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            rappel_id = await s.scalar(
                select(Livraison.rappel_id).where(Livraison.id == delivery_id)
            )
            if rappel_id is None or not await update_ids(
                s, Rappel, *self._held(rappel_id), claimed_at=now
            ):
                return False
            return bool(await self._take(s, Livraison.id == delivery_id))

    async def _take(self, s: AsyncSession, *which: ColumnElement[bool]) -> list[int]:
        """Mark waiting deliveries as held by this sender, one attempt more (their rappel's
        claim is checked by the caller)."""
        return await update_ids(
            s,
            Livraison,
            *which,
            *WAITING,
            Livraison.attempts < self.max_attempts,
            attempts=Livraison.attempts + 1,
            status=DeliveryStatus.SENDING,
            error=None,
        )

    async def delivery_sent(
        self, delivery_id: int, message_id: int | None, *, last_of: int | None = None
    ) -> bool:
        """Record a sent delivery (always: it was sent, even if since taken over). With
        ``last_of`` (its rappel's id), the rappel's last delivery to send: the rappel is closed
        as sent in the same transaction (``finish``)."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            recorded = await update_ids(
                s,
                Livraison,
                Livraison.id == delivery_id,
                Livraison.status != DeliveryStatus.SENT,
                status=DeliveryStatus.SENT,
                message_id=message_id,
                sent_at=now,
                error=None,
            )
            if last_of is not None:
                await self._finish_in(s, last_of, RappelStatus.SENT, None, now)
        return bool(recorded)

    async def _finish_in(
        self,
        s: AsyncSession,
        rappel_id: int,
        status: RappelStatus,
        error: str | None,
        now: datetime,
    ) -> bool:
        if status not in (RappelStatus.SENT, RappelStatus.FAILED, RappelStatus.MISSED):
            raise ValueError(f"a claimed rappel cannot finish as {status}")
        done = await update_ids(
            s,
            Rappel,
            *self._held(rappel_id),
            status=status,
            sent_at=now if status == RappelStatus.SENT else None,
            error=error[:ERROR_MAX] if error else None,
        )
        log.info("rappel %s finished as %s (ours: %s)", rappel_id, status.value, bool(done))
        return bool(done)

    async def delivery_failed(
        self, delivery_id: int, error: str, *, permanent: bool, until: datetime | None = None
    ) -> datetime | None:
        """Record a failed attempt. Returns when to retry (claim it again then), or None when the
        delivery is closed as failed (permanent, out of attempts, or the retry would come at or
        after ``until``, the reminder's deadline)."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            attempts = await s.scalar(select(Livraison.attempts).where(Livraison.id == delivery_id))
            held = (Livraison.id == delivery_id, *HELD)
            if attempts is None:
                return None
            too_late = until is not None and now + backoff(attempts) >= until
            if permanent or attempts >= self.max_attempts or too_late:
                if permanent:
                    reason = error
                elif too_late:
                    reason = f"no retry after its deadline ({until:%Y-%m-%d %H:%M:%S} UTC): {error}"
                else:
                    reason = f"gave up after {attempts} attempts: {error}"
                await update_ids(
                    s, Livraison, *held, status=DeliveryStatus.FAILED, error=reason[:ERROR_MAX]
                )
                log.warning("delivery %s failed for good: %s", delivery_id, reason)
                return None
            if not await update_ids(
                s,
                Livraison,
                *held,
                status=DeliveryStatus.PENDING,
                error=error[:ERROR_MAX] or "transient",
            ):
                return None
        retry_at = now + backoff(attempts)
        log.info("delivery %s failed (%s), retry at %s", delivery_id, error, retry_at)
        return retry_at

    async def dm_closed(self, membre_id: int) -> bool:
        """A DM was refused (Discord 50007): turn the member's DM reminders off and close their
        waiting DMs. True only when this call turned the option off (tell them once)."""
        async with self.sessions.begin() as s:
            first = await update_ids(
                s,
                Membre,
                Membre.id == membre_id,
                Membre.dm_reminders.is_(True),
                dm_reminders=False,
            )
            await update_ids(
                s,
                Livraison,
                Livraison.membre_id == membre_id,
                *WAITING,
                status=DeliveryStatus.FAILED,
                error=DM_CLOSED,
            )
        log.info("membre %s: DMs closed, DM reminders off (first time: %s)", membre_id, bool(first))
        return bool(first)
