"""Background tasks created through one helper that keeps a reference and logs failures
(STYLE.md rule 14)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


#: How long cancelled tasks get to unwind at shutdown.
CANCEL_GRACE = 2.0


class TaskGroup:
    """Fire-and-forget tasks that are neither garbage-collected early nor silent when they fail."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float = 5.0) -> None:
        """Wait for running tasks (at shutdown), cancelling those that outlive ``grace`` seconds."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            # Let the cancelled ones unwind (roll their transaction back, give their connection
            # back) before the database is closed.
            await asyncio.wait(pending, timeout=CANCEL_GRACE)
