"""Reminders: start-up with a large plan, lateness of a burst, a DM fan-out under rate limits.

    .venv/bin/python -m benchmarks.reminders [--seances 10000] [--burst 1000] [--members 500]
        [--parts startup lateness fanout] [--repeat 3] [--spreads 60 0]

1. **Start-up.** ``python -m bot run`` in a child process against the fake Discord (this
   process), on an empty database and on one holding ``--seances`` planned séances (1 atelier
   per 10 séances, offsets 7d, 1d, 1h: 3 reminders per séance, plus each séance's « ça commence »
   and each atelier's follow-up). Three starts: empty; the first start after the séances were
   written without their plan (as ``python -m bot import`` leaves them: the bot plans every
   atelier); a restart with the plan in the table (the usual case). Measured: seconds from
   spawning the process to its reminders being scheduled, and to its gateway session being
   ready; peak resident memory of the process (``VmHWM``).
2. **Lateness.** ``--burst`` reminders due in the same minute, spread over it, then all in the
   same second (ateliers in the three chantier channels), the real bot in this process: from
   each due time to the message's creation on the fake (its snowflake, ms), p50 / p99 / max;
   each reminder must arrive exactly once.
3. **DM fan-out.** One reminder to ``--members`` registered members who turned DM reminders on,
   with Discord's limits simulated: a global limit of 50 requests/s and a bucket of 5 messages
   per second shared by all channels (both answer 429 with ``retry_after``). Measured: DMs that
   failed for good (goal 0), DMs the sender had to retry, 429s served, total time.

SQLite always; PostgreSQL too when PARTAGE_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from benchmarks.common import POSTGRES_ENV, backends
from bot.clock import SystemClock
from cogs.ateliers.service import AtelierDraft, AtelierService
from cogs.reminders.service import RappelService
from db.migrate import upgrade
from db.models import DeliveryStatus, Livraison, Rappel, RappelKind, Reponse
from db.session import create_engine, session_factory
from tests.cogs.helpers import NoPlan
from tests.dbutil import fresh_postgres_database
from tests.e2e.harness import STAFF_ROLE, Server, build_server, partage, settings_for, settle
from tests.e2e.processes import BotProcess
from tests.e2e.test_reminders import rappels, seance_at
from tests.fakediscord import FakeDiscord

OFFSETS = (timedelta(days=7), timedelta(days=1), timedelta(hours=1))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@asynccontextmanager
async def database_url(backend: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    async with fresh_postgres_database(os.environ[POSTGRES_ENV]) as url:
        yield url


# --- 1. start-up -------------------------------------------------------------------------------


async def write_seances(url: str, guild_id: int, seances: int, *, planned: bool) -> int:
    """``seances`` séances in ateliers of 10, from 8 days ahead; with ``planned``, their rows."""
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        clock = SystemClock()
        plan = RappelService(sessions, clock, OFFSETS, worker="benchmark")
        # Rows written as the bot writes them, or (not ``planned``) as an older version left
        # them: the ateliers without their plan, for the start-up to plan.
        ateliers = AtelierService(sessions, clock, plan if planned else NoPlan())
        base = clock.now().replace(microsecond=0) + timedelta(days=8)
        for a in range(seances // 10):
            specs = [seance_at(base + timedelta(minutes=50 * (a * 10 + j))) for j in range(10)]
            info = await ateliers.create(
                guild_id, AtelierDraft(titre=f"Atelier {a}", seances=specs)
            )
            del info
        async with sessions() as s:
            return await s.scalar(select(func.count()).select_from(Rappel)) or 0
    finally:
        await engine.dispose()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start_once(fake: FakeDiscord, server: Server, url: str, log: Path) -> tuple[float, ...]:
    env = {
        "PARTAGE_DATABASE__URL": url,
        "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
        "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
        "PARTAGE_REMINDERS__OFFSETS": "7d,1d,1h",
    }
    bot = BotProcess(fake, env, log)
    began = time.perf_counter()
    await bot.start()
    try:
        await fake.wait_for_bot(1, timeout=300)
        ready = time.perf_counter() - began
        await fake.wait_until(lambda: "jobs scheduled" in bot.log(), timeout=600, interval=0.02)
        scheduled = time.perf_counter() - began
        assert bot.proc is not None
        peak = peak_rss_mb(bot.proc.pid)
    finally:
        await bot.terminate(timeout=30)
    await fake.wait_until(lambda: not fake.sessions, timeout=10)
    return scheduled, ready, peak


def spread(values: list[float], digits: int = 2) -> str:
    """median (min–max)"""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


async def startup(backend: str, seances: int, repeat: int) -> None:
    """Each run: fresh databases, an empty start (the reference, in the same run), a first start
    that plans everything, a restart; then median (min–max) of the runs."""
    print(f"\n1. Start-up of `python -m bot run` ({backend}), {repeat} runs: median (min–max)")
    print(f"{'database':<44}{'rows':>8}{'scheduled s':>20}{'÷ empty':>20}{'ready s':>20}{'MB':>7}")
    labels = [
        "empty",
        f"{seances} séances, first start (plans all)",
        f"{seances} séances, restart (plan in step)",
    ]
    runs: list[list[tuple[float, float, float, float, int]]] = []
    async with FakeDiscord() as fake:
        server = build_server(fake)
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                async with database_url(backend) as empty, database_url(backend) as full:
                    await asyncio.to_thread(upgrade, empty)
                    await asyncio.to_thread(upgrade, full)
                    await write_seances(full, server.guild.id, seances, planned=False)
                    run: list[tuple[float, float, float, float, int]] = []
                    reference = None
                    for n, url in enumerate([empty, full, full]):
                        scheduled, ready, peak = await start_once(
                            fake, server, url, Path(tmp) / f"bot{n}.log"
                        )
                        reference = reference or scheduled  # the empty start, same run
                        rows = await count_rows(url)
                        run.append((scheduled, scheduled / reference, ready, peak, rows))
                    runs.append(run)
    for n, label in enumerate(labels):
        cases = [run[n] for run in runs]
        print(
            f"{label:<44}{cases[0][4]:>8}{spread([c[0] for c in cases]):>20}"
            f"{spread([c[1] for c in cases]):>20}{spread([c[2] for c in cases]):>20}"
            f"{max(c[3] for c in cases):>7.0f}"
        )


async def count_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            return await s.scalar(select(func.count()).select_from(Rappel)) or 0
    finally:
        await engine.dispose()


# --- 2. lateness -------------------------------------------------------------------------------


async def lateness(backend: str, burst: int, spread: int) -> None:
    """``burst`` reminders due within ``spread`` seconds (0: all in the same second)."""
    async with FakeDiscord() as fake, database_url(backend) as url:
        server = build_server(fake)
        settings = settings_for(
            fake,
            server,
            url,
            reminders={"offsets": ["1h"], "digest": ""},
            logging={"level": "WARNING"},
        )
        async with partage(fake, settings) as bot:
            chantiers = await bot.services.chantiers.chantiers(server.guild.id)
            lead = 30 + burst // 12  # seconds to create and announce them all before they are due
            first = bot.clock.now().replace(microsecond=0) + timedelta(seconds=lead)
            due: dict[int, datetime] = {}
            for i in range(burst):
                when = first + timedelta(seconds=spread * i // burst)
                info = await bot.services.ateliers.create(
                    server.guild.id,
                    AtelierDraft(
                        titre=f"Atelier {i}",
                        seances=[seance_at(when + timedelta(hours=1))],
                        chantier_id=chantiers[i % len(chantiers)].id,
                    ),
                )
                await bot.services.rappels.plan_atelier(info.id)
                due[info.id] = when
            assert bot.clock.now() < first, "--burst too large for the lead time"
            await bot.get_cog("RemindersCog").sender.sync()
            channels = [c.channel_id for c in chantiers]
            posted = lambda: [m for c in channels for m in rappels(fake.channel_messages(c))]  # noqa: E731
            # Polled 4 times a second: the scan of every channel must not compete with the bot.
            await fake.wait_until(
                lambda: len(posted()) >= burst, timeout=lead + spread + 300, interval=0.25
            )
            await asyncio.sleep(1.0)
            await settle(fake, bot)
            messages = posted()
            late = [
                (m.created_at - due[int(m.custom_ids()[0].split(":")[1])]).total_seconds()
                for m in messages
            ]
            once = len(messages) == burst and len({m.nonce for m in messages}) == burst
        when_text = "same second" if spread == 0 else f"over {spread} s"
        print(
            f"{backend:<12}{burst:>10}  {when_text:<13}{statistics.median(late):>8.3f}"
            f"{percentile(late, 99):>8.3f}{max(late):>8.3f}  {once}"
        )


# --- 3. DM fan-out -----------------------------------------------------------------------------


async def fan_out(backend: str, members: int) -> None:
    async with FakeDiscord() as fake, database_url(backend) as url:
        server = build_server(fake)
        people = [fake.add_member(server.guild, f"membre-{i}") for i in range(members)]
        settings = settings_for(
            fake,
            server,
            url,
            reminders={"offsets": ["1h"], "digest": ""},
            logging={"level": "ERROR"},
        )
        async with partage(fake, settings) as bot:
            chantier = (await bot.services.chantiers.chantiers(server.guild.id))[0]
            start = bot.clock.now().replace(microsecond=0) + timedelta(hours=2)
            info = await bot.services.ateliers.create(
                server.guild.id,
                AtelierDraft(
                    titre="Grand atelier", seances=[seance_at(start)], chantier_id=chantier.id
                ),
            )
            for m in people:
                await bot.services.inscriptions.answer(server.guild.id, info.id, m.id, Reponse.OUI)
                await bot.services.inscriptions.set_dm_reminders(server.guild.id, m.id, True)
            (row,) = [
                p
                for p in await bot.services.rappels.plan_atelier(info.id)
                if p.kind == RappelKind.RAPPEL
            ]
            async with bot.sessions.begin() as s:  # due now
                await s.execute(
                    update(Rappel).where(Rappel.id == row.id).values(due_at=bot.clock.now())
                )
            fake.global_rate_limit(50, 1.0)
            fake.rate_limit("/channels/{channel_id}/messages", limit=5, per=1.0, scope="shared")
            began = time.perf_counter()
            await bot.get_cog("RemindersCog").sender.run(row.id)
            waiting = (
                select(func.count())
                .select_from(Livraison)
                .where(Livraison.rappel_id == row.id, Livraison.status == DeliveryStatus.PENDING)
            )
            while True:  # until the retries the sender scheduled are done
                async with bot.sessions() as s:
                    if not await s.scalar(waiting) and not len(bot.tasks):
                        break
                await asyncio.sleep(0.1)
            total = time.perf_counter() - began
            async with bot.sessions() as s:
                dms = list(
                    await s.scalars(
                        select(Livraison).where(
                            Livraison.rappel_id == row.id, Livraison.target != "channel"
                        )
                    )
                )
            failed = sum(d.status == DeliveryStatus.FAILED for d in dms)
            retried = sum(d.attempts > 1 for d in dms)
            received = sum(len(fake.dms(m)) == 1 for m in people)
        print(
            f"{backend:<12}{members:>8}{received:>10}{failed:>8}{retried:>9}{fake.served_429:>7}"
            f"{total:>9.1f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seances", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="start-up runs")
    parser.add_argument(
        "--spreads",
        type=int,
        nargs="+",
        default=[60, 0],
        help="lateness: seconds the burst is due over (0: the same second)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["startup", "lateness", "fanout"],
        default=["startup", "lateness", "fanout"],
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if "startup" in args.parts:
        for backend in backends():
            await startup(backend, args.seances, args.repeat)
    if "lateness" in args.parts:
        await lateness_table(args)
    if "fanout" in args.parts:
        await fanout_table(args)


async def lateness_table(args: argparse.Namespace) -> None:
    print("\n2. Lateness of reminders due in the same minute (the real bot, in this process)")
    print(
        f"{'database':<12}{'reminders':>10}  {'due':<13}{'p50 s':>8}{'p99 s':>8}{'max s':>8}"
        "  exactly once"
    )
    for backend in backends():
        for spread in args.spreads:
            await lateness(backend, args.burst, spread)


async def fanout_table(args: argparse.Namespace) -> None:
    print("\n3. DM fan-out under Discord's rate limits (global 50/s, 5 messages/s shared)")
    print(
        f"{'database':<12}{'members':>8}{'received':>10}{'failed':>8}{'retried':>9}{'429s':>7}"
        f"{'total s':>9}"
    )
    for backend in backends():
        await fan_out(backend, args.members)


if __name__ == "__main__":
    asyncio.run(main())
