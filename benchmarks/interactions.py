"""CPU and latency per interaction of the real bot, beside a trivial bot on the same fake.

    .venv/bin/python -m benchmarks.interactions [--requests 300] [--rate 50] [--repeat 3]

Each bot runs in its own process (``python -m bot run`` for Partage, SQLite in a temporary
directory; ``benchmarks/trivial_bot.py`` for the reference: a fixed ephemeral embed, no
database); this process serves the fake Discord and injects ``INTERACTION_CREATE`` events, so
the fake never shares the bot's CPU. Partage's database holds 5, then 200, upcoming ateliers
(``/chantiers`` lists them). Measured, for ``/aide`` and ``/chantiers``:

- CPU per interaction: the bot process's user + system time over the requests (``/proc``),
  divided by their number; the ratio to the trivial bot's, from the same run;
- closed loop: one member at a time, latency p50 / p99 from the event sent on the gateway to
  the bot's interaction callback reaching the fake;
- open loop: requests sent at a fixed rate (``--rate`` per second) whatever the answers, which
  shows queueing that a closed loop hides.

Each figure is the median of ``--repeat`` runs, with the ratio's min and max.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.clock import SystemClock
from cogs.ateliers.service import AtelierDraft, AtelierService
from db.migrate import upgrade
from db.session import create_engine, session_factory
from tests.cogs.helpers import NoPlan
from tests.e2e.harness import STAFF_ROLE, Server, build_server
from tests.e2e.processes import BotProcess
from tests.e2e.test_reminders import seance_at
from tests.fakediscord import FakeDiscord

COMMANDS = ("aide", "chantiers")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def write_ateliers(url: str, guild_id: int, count: int) -> None:
    """``count`` upcoming ateliers of two séances, without announcements."""
    engine = create_engine(url)
    try:
        clock = SystemClock()
        ateliers = AtelierService(session_factory(engine), clock, NoPlan())
        base = clock.now().replace(microsecond=0) + timedelta(days=8)
        for a in range(count):
            start = base + timedelta(hours=a)
            await ateliers.create(
                guild_id,
                AtelierDraft(
                    titre=f"Atelier {a}",
                    seances=[seance_at(start), seance_at(start + timedelta(days=7))],
                    capacite=30,
                ),
                announce=False,
            )
    finally:
        await engine.dispose()


async def closed_loop(fake: FakeDiscord, server: Server, command: str, n: int) -> list[float]:
    latencies = []
    for _ in range(n):
        handle = fake.slash(command, user=server.alice, channel=server.general, locale="fr")
        record = await handle.response(timeout=30)
        latencies.append(record.at - handle.created)
    return latencies


async def open_loop(
    fake: FakeDiscord, server: Server, command: str, n: int, rate: float
) -> list[float]:
    handles = []
    start = time.monotonic()
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        handles.append(fake.slash(command, user=server.alice, channel=server.general, locale="fr"))
    records = await asyncio.gather(*(h.response(timeout=60) for h in handles))
    return [r.at - h.created for r, h in zip(records, handles, strict=True)]


async def run_bot(kind: str, ateliers: int, args: argparse.Namespace) -> dict[str, dict]:
    """One bot, freshly started: per command, CPU per interaction and latencies."""
    async with FakeDiscord() as fake:
        server = build_server(fake)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            env = {
                "PARTAGE_DATABASE__URL": url,
                "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
                "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
                "PARTAGE_LOGGING__LEVEL": "WARNING",
            }
            if kind == "partage":
                await asyncio.to_thread(upgrade, url)
                await write_ateliers(url, server.guild.id, ateliers)
            module = "tests.e2e.child_bot" if kind == "partage" else "benchmarks.trivial_bot"
            bot = BotProcess(fake, env, Path(tmp) / "bot.log", module=module)
            await bot.start()
            try:
                await fake.wait_for_bot(1, timeout=60)
                if kind == "partage":  # start-up provisioning done: 3 chantiers
                    await fake.wait_until(
                        lambda: len(fake.calls("POST", "/guilds/{guild_id}/channels")) >= 9,
                        timeout=60,
                    )
                await asyncio.sleep(1.0)
                out: dict[str, dict] = {}
                for command in COMMANDS:
                    await closed_loop(fake, server, command, 20)  # warm-up
                    before = bot.cpu_seconds()
                    closed = await closed_loop(fake, server, command, args.requests)
                    cpu = (bot.cpu_seconds() - before) / args.requests
                    opened = await open_loop(fake, server, command, args.requests, args.rate)
                    out[command] = {"cpu": cpu, "closed": closed, "open": opened}
                return out
            finally:
                await bot.terminate()


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per command and loop")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop requests per second")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{args.requests} interactions per loop; open loop at {args.rate:.0f}/s; "
        f"median of {args.repeat} runs (ratio: median (min–max))"
    )
    print(
        f"{'bot':<24}{'command':<12}{'CPU ms':>8}  {'CPU ÷ trivial':<20}"
        f"{'closed p50':>11}{'p99':>7}{'open p50':>10}{'p99':>7}  ms"
    )
    results: dict[tuple[str, int], list[dict[str, dict]]] = {}
    cases = [("trivial", 0), ("partage", 5), ("partage", 200)]
    for _ in range(args.repeat):
        for kind, ateliers in cases:
            results.setdefault((kind, ateliers), []).append(await run_bot(kind, ateliers, args))
    trivial = results[("trivial", 0)]
    for kind, ateliers in cases:
        runs = results[(kind, ateliers)]
        label = "trivial bot" if kind == "trivial" else f"Partage, {ateliers} ateliers"
        for command in COMMANDS:
            cpu = [r[command]["cpu"] for r in runs]
            ratios = [
                r[command]["cpu"] / t[command]["cpu"] for r, t in zip(runs, trivial, strict=True)
            ]
            closed = [statistics.median(r[command]["closed"]) for r in runs]
            closed99 = [percentile(r[command]["closed"], 99) for r in runs]
            opened = [statistics.median(r[command]["open"]) for r in runs]
            opened99 = [percentile(r[command]["open"], 99) for r in runs]
            print(
                f"{label:<24}/{command:<11}{statistics.median(cpu) * 1000:>8.2f}  "
                f"{spread(ratios):<20}{statistics.median(closed) * 1000:>11.1f}"
                f"{statistics.median(closed99) * 1000:>7.1f}"
                f"{statistics.median(opened) * 1000:>10.1f}"
                f"{statistics.median(opened99) * 1000:>7.1f}"
            )
    by_200 = results[("partage", 200)]
    by_5 = results[("partage", 5)]
    ratio = [
        statistics.median(a["chantiers"]["closed"]) / statistics.median(b["chantiers"]["closed"])
        for a, b in zip(by_200, by_5, strict=True)
    ]
    print(f"/chantiers time, 200 ateliers ÷ 5 ateliers: {spread(ratio)}")


if __name__ == "__main__":
    asyncio.run(main())
