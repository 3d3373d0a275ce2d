"""SQLite's one writer: this process's write use cases queue in asyncio, in order, and a
waiting one can be cancelled at once (none waits in SQLite's busy handler)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from db.session import Sessions


@pytest.mark.parametrize("schema_db_url", ["sqlite"], indirect=True)
async def test_writers_queue_in_order_and_a_waiting_one_cancels_at_once(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as s:
        await s.execute(text("CREATE TABLE written (n INTEGER)"))
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with sessions.begin() as s:
            await s.execute(text("INSERT INTO written VALUES (0)"))
            holding.set()
            await release.wait()

    async def writer(n: int) -> None:
        async with sessions.begin() as s:
            await s.execute(text("INSERT INTO written VALUES (:n)"), {"n": n})

    first = asyncio.create_task(holder())
    await holding.wait()
    waiting = [asyncio.create_task(writer(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0.1)
    assert sessions._writer.locked()  # type: ignore[union-attr]
    started = time.monotonic()
    waiting[1].cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting[1]
    assert time.monotonic() - started < 0.5
    release.set()
    await asyncio.gather(first, waiting[0], waiting[2])
    async with sessions() as s:
        assert list((await s.execute(text("SELECT n FROM written ORDER BY rowid"))).scalars()) == [
            0,
            1,
            3,
        ]
