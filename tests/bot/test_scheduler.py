"""The scheduler on a manual clock: jobs fire when the clock says so, never by the wall clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.scheduler import Scheduler

START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # a Monday, 9 h in Montréal


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_one_shot_job_fires_when_the_clock_reaches_it_and_only_then() -> None:
    clock = ManualClock(START)
    scheduler = Scheduler("America/Montreal", clock=clock)
    fired: list[tuple[str, datetime]] = []

    async def job(name: str) -> None:
        fired.append((name, clock.now()))

    scheduler.start()
    try:
        scheduler.at("reminder:1", START + timedelta(hours=1), job, "one")
        scheduler.at("reminder:2", START + timedelta(minutes=30), job, "two")
        await _settle()
        assert fired == [] and scheduler.job_ids("reminder:") == ["reminder:1", "reminder:2"]
        clock.advance(timedelta(minutes=29, seconds=59))
        await _settle()
        assert fired == []
        clock.advance(timedelta(seconds=1))
        await _settle()
        assert fired == [("two", START + timedelta(minutes=30))]
        clock.advance(timedelta(days=1))  # late: runs once, at once
        await _settle()
        assert [name for name, _ in fired] == ["two", "one"]
        assert scheduler.job_ids() == []
    finally:
        scheduler.shutdown()


async def test_replacing_and_cancelling_jobs() -> None:
    clock = ManualClock(START)
    scheduler = Scheduler(clock=clock)
    fired: list[str] = []

    async def job(name: str) -> None:
        fired.append(name)

    scheduler.start()
    try:
        scheduler.at("reminder:1", START + timedelta(seconds=10), job, "first")
        scheduler.at("reminder:1", START + timedelta(seconds=20), job, "replaced")
        scheduler.at("reminder:2", START + timedelta(seconds=5), job, "cancelled")
        scheduler.at("other:1", START + timedelta(seconds=5), job, "kept")
        assert scheduler.cancel("reminder:2") and not scheduler.cancel("reminder:2")
        assert scheduler.next_run("reminder:1") == START + timedelta(seconds=20)
        clock.advance(timedelta(seconds=15))
        await _settle()
        assert fired == ["kept"]
        assert scheduler.cancel_prefix("reminder:") == 1
        clock.advance(timedelta(minutes=1))
        await _settle()
        assert fired == ["kept"]
    finally:
        scheduler.shutdown()


async def test_weekly_jobs_keep_their_local_time_across_the_dst_change() -> None:
    clock = ManualClock(START)  # DST ended on 2026-11-01: Montréal is UTC-5
    scheduler = Scheduler("America/Montreal", clock=clock)
    fired: list[datetime] = []

    async def digest() -> None:
        fired.append(clock.now())

    scheduler.start()
    try:
        scheduler.weekly("digest", 0, 9, 0, "America/Montreal", digest)  # Mondays, 9 h
        assert scheduler.next_run("digest") == START  # now, 9 h sharp
        await _settle()
        assert fired == [START]
        # Sixteen weeks later (DST began on 2027-03-14): 9 h is 13 h UTC.
        clock.set(datetime(2027, 3, 22, 12, 59, tzinfo=UTC))
        await _settle()
        assert len(fired) == 2  # the missed weeks coalesce into one run
        assert scheduler.next_run("digest") == datetime(2027, 3, 22, 13, 0, tzinfo=UTC)
        clock.set(datetime(2027, 3, 22, 13, 0, tzinfo=UTC))
        await _settle()
        assert fired[-1] == datetime(2027, 3, 22, 13, 0, tzinfo=UTC) and len(fired) == 3
    finally:
        scheduler.shutdown()


async def test_an_interval_job_still_running_skips_a_run_and_errors_are_logged(caplog) -> None:
    clock = ManualClock(START)
    scheduler = Scheduler(clock=clock)
    release = asyncio.Event()
    runs: list[datetime] = []

    async def slow() -> None:
        runs.append(clock.now())
        await release.wait()

    async def broken() -> None:
        raise RuntimeError("boom")

    scheduler.start()
    try:
        scheduler.every("sweep", 60, slow)
        scheduler.at("broken", START + timedelta(seconds=1), broken)
        for _ in range(3):
            clock.advance(timedelta(seconds=60))
            await _settle()
        assert runs == [START + timedelta(seconds=60)]  # still running: two runs skipped
        release.set()
        await _settle()
        clock.advance(timedelta(seconds=60))
        await _settle()
        assert len(runs) == 2
        assert "job broken raised" in caplog.text
    finally:
        scheduler.shutdown()
