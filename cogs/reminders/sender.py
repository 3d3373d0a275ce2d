"""Claim, then send: the scheduler's jobs for reminders, the fan-out and its retries.

The database is the truth and the scheduler a cache (STYLE.md rules 6 and 7). The scheduler holds
a job ``reminder:<id>`` for each planned row due within ``HORIZON``; ``sync`` (at start-up, then
every ``SWEEP_EVERY``) brings it in step with the table, so rows planned or moved by another
process, and rows a stopped process left claimed, are picked up. Every job goes through
``RappelService.start`` (the claim, the deliveries and the channel post's own claim, in one
transaction): of several processes firing the same row, one sends it.

No Discord here: the cog gives a :class:`Transport` that posts and DMs, and turns Discord's errors
into :class:`SendFailed` (transient: retried with back-off; permanent: recorded).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.delivery import SendFailed
from bot.scheduler import Scheduler
from bot.tasks import TaskGroup
from cogs.reminders.plan import (
    CHANNEL,
    ClaimedRappel,
    Delivery,
    PlannedRappel,
    ReplanResult,
    deadline,
)
from cogs.reminders.service import RappelService
from db.models import DeliveryStatus, RappelStatus

log = logging.getLogger(__name__)

JOB_PREFIX = "reminder:"
HORIZON = timedelta(hours=1)  # rows due within this are in the scheduler
SWEEP_EVERY = timedelta(minutes=1)  # how often ``sync`` runs (must stay below HORIZON)
ROUND_CONCURRENCY = 4  # reminders sent at once (the database is the bottleneck of a burst)
DM_CONCURRENCY = 5  # DMs of one reminder in flight at once (discord.py waits out the 429s)
SEND_TIMEOUT = 60.0  # seconds for one post or DM, discord.py's own retries included


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to."""

    sent: bool = False
    retry_at: datetime | None = None  # transient failure: when to try again
    error: str | None = None


class Transport(Protocol):
    """What the sender needs of Discord."""

    async def deliver(self, claimed: ClaimedRappel, delivery: Delivery) -> int | None:
        """Post or DM ``delivery`` (with its nonce); the message id. Raises SendFailed."""
        ...

    async def tell_dm_closed(self, claimed: ClaimedRappel, delivery: Delivery) -> None:
        """Tell the member, once, in the atelier's thread, that their DM reminders are off."""
        ...


def job_id(rappel_id: int) -> str:
    return f"{JOB_PREFIX}{rappel_id}"


class Sender:
    """Keeps the scheduler in step with the plan and sends what comes due, exactly once."""

    def __init__(
        self,
        service: RappelService,
        transport: Transport,
        scheduler: Scheduler,
        tasks: TaskGroup,
        clock: Clock,
        *,
        dm_concurrency: int = DM_CONCURRENCY,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.service = service
        self.transport = transport
        self.scheduler = scheduler
        self.tasks = tasks
        self.clock = clock
        self.dm_concurrency = dm_concurrency
        self.send_timeout = send_timeout
        self._held: dict[int, ClaimedRappel] = {}  # claimed here, waiting for a retry
        self._rounds = asyncio.Semaphore(ROUND_CONCURRENCY)

    # --- the scheduler as a cache of the table -------------------------------------------------

    def schedule(self, planned: Iterable[PlannedRappel]) -> None:
        """(Re)schedule rows: a job at the due time if within the horizon (past: at once);
        a row further ahead waits for a later ``sync``."""
        horizon = self.clock.now() + HORIZON
        for p in planned:
            self._held.pop(p.id, None)
            if p.due_at < horizon:
                if self.scheduler.next_run(p.job_id) != p.due_at:
                    self.scheduler.at(p.job_id, p.due_at, self.fire, p.id)
            else:
                self.scheduler.cancel(p.job_id)

    def unschedule(self, rappel_ids: Iterable[int]) -> None:
        for rappel_id in rappel_ids:
            self._held.pop(rappel_id, None)
            self.scheduler.cancel(job_id(rappel_id))

    def apply(self, result: ReplanResult) -> None:
        self.schedule(result.rescheduled)
        self.unschedule((*result.withdrawn, *result.missed))

    async def sync(self) -> None:
        """Bring the scheduler in step with the table: planned rows due within the horizon, and
        rows left claimed (by a stopped process) at the time they may be taken over. Jobs of
        rows no longer planned (withdrawn, moved past the horizon, sent elsewhere) go."""
        pending = await self.service.pending(until=self.clock.now() + HORIZON)
        self.schedule(pending)
        wanted = {p.job_id for p in pending} | {job_id(i) for i in self._held}
        for u in await self.service.unfinished():
            wanted.add(job_id(u.rappel_id))
            if self.scheduler.next_run(job_id(u.rappel_id)) is None:
                self.scheduler.at(job_id(u.rappel_id), u.reclaimable_at, self.fire, u.rappel_id)
        for stale in set(self.scheduler.job_ids(JOB_PREFIX)) - wanted:
            self.scheduler.cancel(stale)

    # --- jobs --------------------------------------------------------------------------------

    async def fire(self, rappel_id: int) -> None:
        """The scheduler's job: the sending runs as a tracked background task."""
        self.tasks.spawn(self.run(rappel_id), name=f"reminder:{rappel_id}")

    async def retry(self, rappel_id: int) -> None:
        self.tasks.spawn(self._retry(rappel_id), name=f"reminder-retry:{rappel_id}")

    async def run(self, rappel_id: int) -> None:
        """Claim the row (with its channel post: one transaction), then send its deliveries."""
        async with self._rounds:
            started = await self.service.start(rappel_id, due_only=True)
            if started is None:
                moved = await self.service.planned(rappel_id)
                if moved is not None and moved.due_at > self.clock.now():
                    log.info("rappel %s: moved to %s elsewhere", rappel_id, moved.due_at)
                    self.schedule([moved])
                return
            claimed = started.claimed
            log.info(
                "rappel %s (%s, atelier %s, séance %s) claimed %.3f s after its due time%s",
                rappel_id,
                claimed.kind.value,
                claimed.atelier.id,
                claimed.seance.id,
                (self.clock.now() - claimed.due_at).total_seconds(),
                " (late)" if claimed.late else "",
            )
            await self._round(claimed, started.deliveries, started.taken)

    async def _retry(self, rappel_id: int) -> None:
        claimed = self._held.get(rappel_id)
        if claimed is not None:
            async with self._rounds:
                await self._round(claimed)

    async def _round(
        self,
        claimed: ClaimedRappel,
        every: Sequence[Delivery] | None = None,
        taken: int | None = None,
    ) -> None:
        """Send every delivery waiting (``every``: as ``start`` read them, with ``taken``
        already claimed; None: read them again); schedule a retry for the transient failures,
        or close the row when none is left. When one delivery is all there is to send, its
        record closes the row in the same transaction."""
        self._held[claimed.id] = claimed
        try:
            if every is None:
                every = await self.service.deliveries(claimed.id)
            todo = [d for d in every if d.to_send or d.id == taken]
            last = todo[0].id if len(todo) == 1 else None
            outcomes = [
                await self._send(claimed, d, taken=d.id == taken, last=d.id == last)
                for d in todo
                if d.target == CHANNEL
            ]
            gate = asyncio.Semaphore(self.dm_concurrency)

            async def one(d: Delivery) -> Outcome:
                async with gate:
                    return await self._send(claimed, d, taken=d.id == taken, last=d.id == last)

            outcomes += await asyncio.gather(*(one(d) for d in todo if d.target != CHANNEL))
        except BaseException:
            self._held.pop(claimed.id, None)  # taken over after STALE_AFTER, by any process
            raise
        retry_at = min((o.retry_at for o in outcomes if o.retry_at is not None), default=None)
        if retry_at is not None:
            log.info("rappel %s: retrying failed deliveries at %s", claimed.id, retry_at)
            self.scheduler.at(job_id(claimed.id), retry_at, self.retry, claimed.id)
            return
        self._held.pop(claimed.id, None)
        sent = sum(o.sent for o in outcomes) + sum(d.status == DeliveryStatus.SENT for d in every)
        if last is not None and outcomes[0].sent:
            pass  # the record of its one delivery closed the row
        elif sent or not every:
            await self.service.finish(claimed.id, RappelStatus.SENT)
        else:
            errors = [o.error for o in outcomes if o.error] + [d.error for d in every if d.error]
            await self.service.finish(
                claimed.id, RappelStatus.FAILED, errors[0] if errors else None
            )
        log.info("rappel %s done: %d of %d deliveries sent", claimed.id, sent, len(every))

    async def _send(
        self, claimed: ClaimedRappel, d: Delivery, *, taken: bool = False, last: bool = False
    ) -> Outcome:
        """One delivery: claim it (unless ``taken`` already), send it, record the outcome (with
        ``last``, a success closes the rappel too)."""
        if not taken and not await self.service.claim_delivery(d.id):
            log.info("rappel %s: delivery %s not ours (any more)", claimed.id, d.id)
            return Outcome()
        try:
            message_id = await asyncio.wait_for(
                self.transport.deliver(claimed, d), timeout=self.send_timeout
            )
        except SendFailed as failure:
            return await self._failed(claimed, d, failure)
        except TimeoutError:
            return await self._failed(claimed, d, SendFailed("timeout", permanent=False))
        except Exception as exc:  # a bug: retrying would not help
            log.exception("rappel %s: delivery %s raised", claimed.id, d.id)
            return await self._failed(claimed, d, SendFailed(repr(exc), permanent=True))
        await self.service.delivery_sent(d.id, message_id, last_of=claimed.id if last else None)
        log.info(
            "rappel %s: delivery %s (%s) sent as message %s", claimed.id, d.id, d.target, message_id
        )
        return Outcome(sent=True)

    async def _failed(self, claimed: ClaimedRappel, d: Delivery, failure: SendFailed) -> Outcome:
        until = deadline(claimed.kind, claimed.seance.starts_at, claimed.due_at)
        retry_at = await self.service.delivery_failed(
            d.id, failure.reason, permanent=failure.permanent, until=until
        )
        log.warning(
            "rappel %s: delivery %s (%s) failed (%s, %s)",
            claimed.id,
            d.id,
            d.target,
            failure.reason,
            "permanent" if failure.permanent else f"retry at {retry_at}",
        )
        closed = failure.dm_closed and d.membre_id is not None
        if closed and await self.service.dm_closed(d.membre_id):  # type: ignore[arg-type]
            try:
                await self.transport.tell_dm_closed(claimed, d)
            except Exception:
                log.exception("membre %s: could not tell them their DMs are closed", d.membre_id)
        return Outcome(retry_at=retry_at, error=failure.reason)
