"""Saving answers before they are acknowledged, a burst at a time (group commit).

A click is written to the ``intake`` table and committed before Discord is told it was
received: after a crash at any moment, an acknowledged answer is on disk, and is applied and
answered after the restart while its interaction token lives. Clicks that arrive together
share one transaction: while one batch commits, the next fills up, so a burst of hundreds of
clicks costs a handful of commits and every acknowledgement stays within Discord's three
seconds. No Discord here."""

from __future__ import annotations

import asyncio
import logging

from cogs.inscriptions.service import Click, InscriptionService

log = logging.getLogger(__name__)

BATCH_MAX = 200


class IntakeWriter:
    def __init__(self, service: InscriptionService) -> None:
        self.service = service
        self._queue: list[tuple[Click, asyncio.Future[int]]] = []
        self._writing = False

    async def save(self, click: Click) -> int:
        """The intake id of ``click``, once committed."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((click, future))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._drain(), name="intake")
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:BATCH_MAX], self._queue[BATCH_MAX:]
                try:
                    ids = await self.service.receive([c for c, _ in batch])
                except Exception as exc:
                    log.exception("intake: a batch of %d answers was not saved", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for click, future in batch:
                    if not future.done():
                        future.set_result(ids[click.interaction_id])
        finally:
            self._writing = False
