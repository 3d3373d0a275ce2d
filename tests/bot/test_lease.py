"""One process per shard (bot/lease.py), on SQLite and on PostgreSQL (the ``db_url`` fixture)."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.lease import (
    FileLease,
    Lease,
    LeaseUnavailable,
    NoLease,
    PostgresLease,
    holder_parts,
    lease_for,
    shard_key,
)
from tests.dbutil import POSTGRES_SKIP_REASON, fresh_postgres_database, postgres_url

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 1.0

Factory = Callable[..., Lease]


@pytest.fixture
async def leases() -> AsyncIterator[Factory]:
    """Build leases; every one is released at the end of the test."""
    made: list[Lease] = []

    def make(url: str, shard_id: int | None = 0, shard_count: int = 1) -> Lease:
        lease = lease_for(
            url, shard_id=shard_id, shard_count=shard_count, lease_seconds=LEASE_SECONDS
        )
        made.append(lease)
        return lease

    yield make
    for lease in made:
        await lease.release()


@pytest.fixture
def make_lease(leases: Factory, db_url: str) -> Factory:
    """Leases on ``db_url``: once on SQLite, once on PostgreSQL."""
    return functools.partial(leases, db_url)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database, or a skip saying why there is none."""
    base = postgres_url()
    if base is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    async with fresh_postgres_database(base) as url:
        yield url


@pytest.fixture
def sqlite_lease(leases: Factory, tmp_path: Path) -> FileLease:
    lease = leases(f"sqlite+aiosqlite:///{tmp_path / 'partage.db'}")
    assert isinstance(lease, FileLease)
    return lease


class Recorder:
    """An ``on_lost`` callback that counts its calls and can be awaited."""

    def __init__(self) -> None:
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        self.called.set()

    async def wait(self, within: float) -> None:
        await asyncio.wait_for(self.called.wait(), timeout=within)


# ---------------------------------------------------------------------------------------------
# The choice of implementation and the key
# ---------------------------------------------------------------------------------------------


def test_lease_for_picks_the_implementation(tmp_path: Path) -> None:
    options = {"shard_id": None, "shard_count": 1, "lease_seconds": 15}
    sqlite = lease_for(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", **options)
    postgres = lease_for("postgresql+asyncpg://partage:secret@db/partage", **options)

    assert isinstance(sqlite, FileLease)
    assert sqlite.paths == (tmp_path / "p.db.lease",)
    assert isinstance(postgres, PostgresLease)
    assert "secret" not in postgres.describe()
    assert postgres.describe() == "shard 0/1 (database postgresql+asyncpg://partage:***@db/partage)"
    assert isinstance(lease_for("sqlite+aiosqlite://", **options), NoLease)
    assert isinstance(lease_for("sqlite+aiosqlite:///:memory:", **options), NoLease)


def test_intervals_follow_lease_seconds() -> None:
    long = lease_for("sqlite+aiosqlite://", shard_id=0, shard_count=1, lease_seconds=15)
    short = lease_for("sqlite+aiosqlite://", shard_id=0, shard_count=1, lease_seconds=2)

    assert (long.retry_seconds, long.check_seconds) == (1.0, 5.0)
    assert short.retry_seconds == pytest.approx(0.4)


def test_bad_shards_are_refused() -> None:
    with pytest.raises(ValueError, match="shard_id"):
        lease_for("sqlite+aiosqlite://", shard_id=2, shard_count=2, lease_seconds=15)


def test_shard_key_is_stable_and_fits_a_bigint() -> None:
    # A new version must conflict with an old one during an upgrade: never change this value.
    assert shard_key(0, 1) == 7165880688891266139
    keys = {shard_key(s, n) for n in (1, 2, 3) for s in range(n)}
    assert len(keys) == 6
    assert all(0 <= key < 2**63 for key in keys)


# ---------------------------------------------------------------------------------------------
# Both databases
# ---------------------------------------------------------------------------------------------


async def test_second_lease_on_the_same_shard_is_refused(make_lease: Factory) -> None:
    first, second = make_lease(), make_lease()
    await first.acquire(wait=False)

    with pytest.raises(LeaseUnavailable) as info:
        await second.acquire(wait=False)

    assert first.held and not second.held
    message = str(info.value)
    assert message.startswith("another Partage process (")
    assert f"{os.getpid()}@" in message  # the holder is named
    assert info.value.holder is not None and holder_parts(info.value.holder) == (
        str(os.getpid()),
        socket.gethostname(),
    )
    assert "holds shard 0/1 (database " in message


async def test_one_process_for_every_shard_conflicts_with_each_shard(make_lease: Factory) -> None:
    everything = make_lease(None, 2)
    await everything.acquire(wait=False)

    for shard in (0, 1):
        with pytest.raises(LeaseUnavailable):
            await make_lease(shard, 2).acquire(wait=False)


async def test_different_shards_do_not_conflict(make_lease: Factory) -> None:
    zero, one = make_lease(0, 2), make_lease(1, 2)

    await zero.acquire(wait=False)
    await one.acquire(wait=False)

    assert zero.held and one.held
    # A partial failure gives back what it took: shard 0 is busy, so shard 1 stays free.
    await one.release()
    with pytest.raises(LeaseUnavailable):
        await make_lease(None, 2).acquire(wait=False)
    await make_lease(1, 2).acquire(wait=False)


async def test_standby_takes_over_once_released(make_lease: Factory) -> None:
    first, standby = make_lease(), make_lease()
    await first.acquire(wait=False)
    lines: list[str] = []
    said = asyncio.Event()

    def on_waiting(line: str) -> None:
        lines.append(line)
        said.set()

    waiting = asyncio.create_task(standby.acquire(wait=True, on_waiting=on_waiting))
    await asyncio.wait_for(said.wait(), timeout=LEASE_SECONDS)
    # Several retries later: still waiting, and the line was said once.
    done, _pending = await asyncio.wait({waiting}, timeout=3 * standby.retry_seconds)
    assert not done

    await first.release()
    await asyncio.wait_for(waiting, timeout=LEASE_SECONDS)

    assert standby.held and not first.held
    assert len(lines) == 1
    assert lines[0].startswith("another Partage process (")
    assert "holds shard 0/1 (database " in lines[0]
    assert lines[0].endswith("; waiting as standby (retrying every 0.2 s)")


async def test_a_released_lease_can_be_taken_again(make_lease: Factory) -> None:
    lease = make_lease()
    await lease.acquire(wait=False)
    await lease.release()
    await lease.release()  # twice is harmless

    await lease.acquire(wait=False)
    await make_lease().release()  # never acquired: harmless too

    assert lease.held


async def test_lease_of_a_killed_process_is_taken_over(make_lease: Factory, db_url: str) -> None:
    seconds = 2.0
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import asyncio, sys\n"
        "from bot.lease import lease_for\n"
        "async def main():\n"
        "    lease = lease_for(sys.argv[1], shard_id=0, shard_count=1, lease_seconds=1)\n"
        "    await lease.acquire(wait=False)\n"
        "    print('held', flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n",
        db_url,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), timeout=10) == b"held\n"
        standby = make_lease()
        with pytest.raises(LeaseUnavailable, match=f"\\({child.pid}@"):
            await standby.acquire(wait=False)

        child.send_signal(signal.SIGKILL)
        await child.wait()
        await asyncio.wait_for(standby.acquire(wait=True), timeout=seconds)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    assert standby.held


async def test_watchdog_is_quiet_while_held_and_stops_on_release(make_lease: Factory) -> None:
    lease = make_lease()
    await lease.acquire(wait=False)
    on_lost = Recorder()
    task = lease.watch(on_lost)

    with pytest.raises(TimeoutError):
        await on_lost.wait(within=2 * lease.check_seconds)
    await lease.release()

    assert task.done()
    assert on_lost.calls == 0
    assert not lease.lost


async def test_watch_needs_a_held_lease(make_lease: Factory) -> None:
    with pytest.raises(RuntimeError, match="not held"):
        make_lease().watch(Recorder())


# ---------------------------------------------------------------------------------------------
# Losing the lease
# ---------------------------------------------------------------------------------------------


async def test_watchdog_calls_back_when_the_connection_is_terminated(
    leases: Factory, pg_url: str
) -> None:
    lease = leases(pg_url)
    await lease.acquire(wait=False)
    on_lost = Recorder()
    lease.watch(on_lost)

    admin = await asyncpg.connect(
        make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        terminated = await admin.fetchval(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1"
            # only this test's database: other tests hold the same shard's lock in theirs
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            shard_key(0, 1),
        )
    finally:
        await admin.close()
    assert terminated

    await on_lost.wait(within=LEASE_SECONDS)
    assert on_lost.calls == 1
    assert lease.lost and not lease.held
    # The lock died with the session: another process can take it now.
    await leases(pg_url).acquire(wait=False)


async def test_watchdog_calls_back_when_the_lock_file_is_removed(sqlite_lease: FileLease) -> None:
    lease = sqlite_lease
    await lease.acquire(wait=False)
    on_lost = Recorder()
    lease.watch(on_lost)

    lease.paths[0].unlink()

    await on_lost.wait(within=LEASE_SECONDS)
    assert on_lost.calls == 1
    assert lease.lost and not lease.held


async def test_release_waits_for_on_lost_to_finish(sqlite_lease: FileLease) -> None:
    lease = sqlite_lease
    await lease.acquire(wait=False)
    closing = asyncio.Event()
    closed: list[bool] = []

    async def slow_close() -> None:
        closing.set()
        await asyncio.sleep(0.1)
        closed.append(True)

    lease.watch(slow_close)
    lease.paths[0].unlink()
    await asyncio.wait_for(closing.wait(), timeout=LEASE_SECONDS)

    await lease.release()  # as the bot's shutdown does while on_lost (bot.close) runs

    assert closed == [True]


async def test_in_memory_sqlite_needs_no_lease() -> None:
    one = lease_for("sqlite+aiosqlite://", shard_id=0, shard_count=1, lease_seconds=1)
    two = lease_for("sqlite+aiosqlite://", shard_id=0, shard_count=1, lease_seconds=1)

    await one.acquire(wait=False)
    await two.acquire(wait=False)

    assert one.held and two.held
    await one.release()
    await two.release()


async def test_on_lost_may_release_the_lease_itself(sqlite_lease: FileLease) -> None:
    lease = sqlite_lease
    await lease.acquire(wait=False)
    released = asyncio.Event()

    async def on_lost() -> None:
        await lease.release()
        released.set()

    lease.watch(on_lost)
    lease.paths[0].unlink()

    await asyncio.wait_for(released.wait(), timeout=LEASE_SECONDS)
    assert lease.lost and not lease.held


async def test_an_unreachable_database_fails_at_once_even_for_a_standby() -> None:
    lease = lease_for(
        "postgresql+asyncpg://partage@127.0.0.1:1/partage",
        shard_id=0,
        shard_count=1,
        lease_seconds=LEASE_SECONDS,
    )

    with pytest.raises(OSError):
        await asyncio.wait_for(lease.acquire(wait=True), timeout=5)

    assert not lease.held
