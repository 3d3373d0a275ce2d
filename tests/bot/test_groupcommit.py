"""Group commit: order kept, bursts batched, one failed batch fails only its own items."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.groupcommit import GroupCommit


async def test_a_burst_is_written_in_a_few_ordered_batches() -> None:
    written: list[list[int]] = []
    gate = asyncio.Event()

    async def write(items: Sequence[int]) -> list[int]:
        written.append(list(items))
        await gate.wait()  # a slow commit: the next batch fills up meanwhile
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(write, batch_max=4, name="test")
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.submit(i)) for i in range(1, 10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(first, *rest) == [i * 10 for i in range(10)]
    assert written == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert (group.batches, group.items) == (4, 10)


async def test_a_failed_batch_fails_its_items_only_and_the_queue_goes_on() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        await asyncio.sleep(0)
        if 3 in items:
            raise RuntimeError("database went away")
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write, batch_max=2, name="test")
    results = await asyncio.gather(*(group.submit(i) for i in range(6)), return_exceptions=True)
    assert [type(r).__name__ if isinstance(r, Exception) else r for r in results] == [
        0, 1, "RuntimeError", "RuntimeError", 4, 5
    ]  # fmt: skip


async def test_each_batch_waits_for_before() -> None:
    ready = asyncio.Event()
    written: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[None]:
        written.append(list(items))
        return [None] * len(items)

    group: GroupCommit[int, None] = GroupCommit(write, batch_max=10, name="test", before=ready.wait)
    tasks = [asyncio.create_task(group.submit(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    assert written == []
    ready.set()
    await asyncio.gather(*tasks)
    assert written == [[0, 1, 2]]


@pytest.mark.parametrize("started", [False, True])
async def test_cancelling_the_writer_cancels_the_waiting_items(started: bool) -> None:
    writing = asyncio.Event()

    async def write(items: Sequence[int]) -> list[int]:
        writing.set()
        await asyncio.Event().wait()
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write, batch_max=1, name="test")
    tasks = [asyncio.create_task(group.submit(i)) for i in range(3)]
    await asyncio.sleep(0)
    if started:
        await writing.wait()
    assert group._task is not None
    group._task.cancel()
    for task in tasks:
        with pytest.raises(asyncio.CancelledError):
            await task
