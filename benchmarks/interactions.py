"""Interactions per second and latency of the real bot against the fake Discord.

    .venv/bin/python -m benchmarks.interactions [--requests 400]

The bot runs as ``python -m bot run`` in its own process (SQLite in a temporary directory);
this process serves the fake Discord and injects ``INTERACTION_CREATE`` events. Latency is from
the moment the event is sent on the gateway to the moment the bot's interaction callback
reaches the fake. With 1 member the requests are sequential; with 50, fifty members each send
their share at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.e2e.harness import STAFF_ROLE, build_server
from tests.e2e.processes import BotProcess
from tests.fakediscord import FakeDiscord


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(fake: FakeDiscord, server, command: str, members: list, total: int):
    latencies: list[float] = []

    async def member_loop(member, count: int) -> None:
        for _ in range(count):
            handle = fake.slash(command, user=member, channel=server.general, locale="fr")
            record = await handle.response(timeout=30)
            latencies.append(record.at - handle.created)

    share = total // len(members)
    start = time.perf_counter()
    await asyncio.gather(*(member_loop(m, share) for m in members))
    elapsed = time.perf_counter() - start
    return share * len(members) / elapsed, latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per command and concurrency")
    args = parser.parse_args()
    async with FakeDiscord() as fake:
        server = build_server(fake)
        members = [fake.add_member(server.guild, f"membre-{i}") for i in range(50)]
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "PARTAGE_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
                "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
                "PARTAGE_LOGGING__LEVEL": "WARNING",
            }
            bot = BotProcess(fake, env, Path(tmp) / "bot.log")
            await bot.start()
            try:
                await fake.wait_until(
                    lambda: len(fake.calls("POST", "/guilds/{guild_id}/channels")) >= 9,
                    timeout=60,
                )
                await asyncio.sleep(0.5)
                # Warm-up: the first interactions load code paths and the SQLite cache.
                await measure(fake, server, "aide", members[:5], 20)
                await measure(fake, server, "chantiers", members[:5], 20)
                print(f"{args.requests} interactions per line; bot in its own process, SQLite")
                print(f"{'command':<12}{'members':>8}{'per second':>12}{'p50 ms':>9}{'p99 ms':>9}")
                for command in ("aide", "chantiers"):
                    for concurrency in (1, 50):
                        rate, lat = await measure(
                            fake, server, command, members[:concurrency], args.requests
                        )
                        print(
                            f"/{command:<11}{concurrency:>8}{rate:>12.0f}"
                            f"{statistics.median(lat) * 1000:>9.1f}"
                            f"{percentile(lat, 99) * 1000:>9.1f}"
                        )
            finally:
                await bot.terminate()


if __name__ == "__main__":
    asyncio.run(main())
