"""Group commit: items that arrive while a batch is being written wait for the next one, so a
burst of hundreds costs a handful of transactions while a lone item is written at once.

Items keep their order (a batch is a prefix of the queue); each submitter gets its own
result, or the exception of the write that carried it. No Discord here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """``write(batch)`` returns one result per item, in order."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        batch_max: int,
        name: str,
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._write = write
        self._batch_max = batch_max
        self._name = name
        #: Awaited before each batch (e.g. "acknowledgements first").
        self._before = before
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._carrying: list[tuple[T, asyncio.Future[R]]] = []
        #: Batches written and items carried (for tests, logs and benchmarks).
        self.batches = 0
        self.items = 0

    def __len__(self) -> int:
        return len(self._queue)

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain(), name=self._name)
            self._task.add_done_callback(self._stopped)
        return await future

    def _stopped(self, task: asyncio.Task[None]) -> None:
        """The writer ended: normally with an empty queue; when cancelled (at shutdown, even
        before it started), whoever still waits is cancelled too."""
        if self._task is task:
            self._task = None
        for _, future in self._carrying + self._queue:
            future.cancel()
        self._carrying = []
        self._queue.clear()

    async def _drain(self) -> None:
        while self._queue:
            if self._before is not None:
                await self._before()
            batch = self._carrying = self._queue[: self._batch_max]
            del self._queue[: len(batch)]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:
                self._carrying = []
                log.warning("%s: a batch of %d was not written: %r", self._name, len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self._carrying = []
            self.batches += 1
            self.items += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
