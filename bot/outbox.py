"""The one sender of the outbox (STYLE.md rules 7 and 8).

Use cases write rows with ``db.outbox.enqueue`` in their own transaction; after the commit the
session factory wakes this sender (``kick``), which also polls every ``POLL_SECONDS`` for rows
written by other processes and for retries. Each row is claimed (a conditional UPDATE), handed
to the handler its feature registered for its kind, then recorded as sent, retried (1 s, 2 s,
then every 4 s until it expires) or failed. Posts carry the row's nonce, so a row resent after
a crash is not doubled by Discord; edits are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.clock import Clock
from bot.delivery import TRANSPORT_ERRORS, SendFailed, failure_of
from bot.tasks import TaskGroup
from db.models import OutboxKind
from db.outbox import OUTBOX, OutboxItem, OutboxStore
from db.session import Sessions

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
CONCURRENCY = 8  # rows in flight at once (edits of one atelier are serialized by topic)
SEND_TIMEOUT = 60.0  # seconds for one delivery, discord.py's own retries included
EDIT_SPACING = timedelta(seconds=1)  # at most one announcement edit a second per atelier
STALE_AFTER = timedelta(seconds=90)  # a row claimed this long ago belongs to a stopped sender

#: A handler delivers one row; it returns the message id it posted (if any) or raises.
Handler = Callable[[OutboxItem], Awaitable[int | None]]


class OutboxSender:
    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        tasks: TaskGroup,
        *,
        worker: str,
        accepts: Callable[[int | None], bool] = lambda _guild_id: True,
    ) -> None:
        self.store = OutboxStore(sessions, worker)
        self.clock = clock
        self.tasks = tasks
        self.accepts = accepts
        self._handlers: dict[OutboxKind, Handler] = {}
        self._wake = asyncio.Event()
        self._running: asyncio.Task[None] | None = None
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self._topics: dict[str, asyncio.Lock] = {}
        self._last_edit: dict[str, float] = {}
        self._editing: set[str] = set()
        self._inflight: set[int] = set()
        self._last_takeover = clock.monotonic()
        #: Deliveries made, by kind (for the logs, tests and benchmarks).
        self.delivered: dict[OutboxKind, int] = {}
        sessions.on_commit(OUTBOX, self.kick)

    def register(self, kind: OutboxKind, handler: Handler) -> None:
        self._handlers[kind] = handler

    def kick(self) -> None:
        """Something was committed to the outbox: look now."""
        self._wake.set()

    def start(self) -> None:
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._loop(), name="outbox")

    async def stop(self) -> None:
        if self._running is not None:
            self._running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._running
            self._running = None

    async def take_over(self, *, everything: bool = False) -> None:
        """Rows a stopped process left in flight: all of them at start-up when this process
        holds the lease (``everything``: their sender is gone), else those claimed longer than
        ``STALE_AFTER`` ago."""
        now = self.clock.now()
        self._last_takeover = self.clock.monotonic()
        await self.store.take_over(now, None if everything else STALE_AFTER)

    async def _loop(self) -> None:
        while True:
            try:
                await self.pump()
            except Exception:
                log.exception("outbox: a round failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def idle(self) -> bool:
        """Nothing in flight and nothing due (tests and benchmarks wait for this)."""
        if self._inflight or self._wake.is_set():
            return False
        return not await self.store.due(self.clock.now(), limit=1)

    async def pump(self) -> int:
        """Start delivering every due row (in the background); returns how many were started."""
        if self.clock.monotonic() - self._last_takeover > STALE_AFTER.total_seconds() / 2:
            await self.take_over()
        started = 0
        for row in await self.store.due(self.clock.now()):
            if row.id in self._inflight or not self.accepts(row.guild_id):
                continue
            if row.kind == OutboxKind.REFRESH and row.topic is not None:
                # One edit of an announcement at a time, a second apart: the rows that come in
                # meanwhile wait, and the next edit serves them all.
                if row.topic in self._editing:
                    continue
                wait = self._edit_wait(row.topic)
                if wait > 0:
                    asyncio.get_running_loop().call_later(wait, self.kick)
                    continue
                self._editing.add(row.topic)
            self._inflight.add(row.id)
            editing = row.topic if row.kind == OutboxKind.REFRESH else None
            self.tasks.spawn(self._one(row.id, editing), name=f"outbox:{row.id}")
            started += 1
        return started

    def _edit_wait(self, topic: str) -> float:
        last = self._last_edit.get(topic)
        if last is None:
            return 0.0
        # Pacing against Discord's rate limits: real time (the event loop's), not the domain
        # clock, which tests may hold still.
        return last + EDIT_SPACING.total_seconds() - asyncio.get_running_loop().time()

    async def _one(self, row_id: int, editing: str | None) -> None:
        try:
            async with self._gate:
                item = await self.store.claim(row_id, self.clock.now())
                if item is None:
                    return
                if item.topic is not None and item.kind != OutboxKind.NOTICE:
                    lock = self._topics.setdefault(item.topic, asyncio.Lock())
                    async with lock:
                        await self._deliver(item)
                else:
                    await self._deliver(item)
        finally:
            self._inflight.discard(row_id)
            if editing is not None:
                self._editing.discard(editing)
                self._last_edit[editing] = asyncio.get_running_loop().time()
                self.kick()

    async def _deliver(self, item: OutboxItem) -> None:
        handler = self._handlers.get(item.kind)
        if handler is None:
            await self.store.failed(
                item, self.clock.now(), f"no handler for {item.kind}", permanent=True
            )
            return
        try:
            message_id = await asyncio.wait_for(handler(item), SEND_TIMEOUT)
        except (SendFailed, *TRANSPORT_ERRORS) as exc:
            failure = failure_of(exc)
            retry_at = await self.store.failed(
                item, self.clock.now(), failure.reason, permanent=failure.permanent
            )
            log.warning(
                "outbox %s (%s, %s): failed (%s); %s",
                item.id,
                item.kind.value,
                item.topic,
                failure.reason,
                f"retry at {retry_at}" if retry_at else "given up",
            )
            if retry_at is not None:
                delay = max((retry_at - self.clock.now()).total_seconds(), 0.0)
                asyncio.get_running_loop().call_later(delay, self.kick)
            return
        except Exception as exc:  # a bug in a handler: retrying would not help
            log.exception("outbox %s (%s): handler raised", item.id, item.kind.value)
            await self.store.failed(item, self.clock.now(), repr(exc), permanent=True)
            return
        await self.store.sent(item)
        self.delivered[item.kind] = self.delivered.get(item.kind, 0) + 1
        log.info(
            "outbox %s (%s, %s): delivered%s",
            item.id,
            item.kind.value,
            item.topic,
            f" as message {message_id}" if message_id else "",
        )
