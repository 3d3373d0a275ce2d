"""N members clicking « Oui » at once on one announcement, beside a trivial bot doing the same.

    .venv/bin/python -m benchmarks.rsvp_burst [--sizes 500 2000] [--places 0.75] [--repeat 3]

Each bot runs in its own process against the fake Discord, which runs in this process with the
injection of the clicks (so the fake never shares a bot's CPU): Partage is ``python -m bot run``
(``tests/e2e/child_bot.py``); the reference is ``benchmarks/trivial_bot.py`` with
``BENCH_CLICKS_DB``: it acknowledges each click at once, inserts one row in its own transaction
(same engine factory and driver), then answers. Partage acknowledges a click once it is saved
(``intake``), applies the answers in batches (``AnswerQueues``), answers each member with their
place or rank, and edits the announcement at most once a second. Each N and database get a
fresh fake, a fresh database, a fresh bot; Partage's atelier has ``places × N`` places.

Measured, from the instant each click is injected:

- ack p50 / p99: until the bot's first response (Discord drops an interaction not acknowledged
  within 3 s; the fake enforces that deadline here, and ``late`` counts the dropped ones);
- last answer: until the last member got their answer (the "thinking…" edited), i.e. the last
  answer recorded and told;
- Partage only: settled (the announcement shows the final counts), its edits for the N clicks,
  and exact: for the A clicks acknowledged in time, the database holds min(places, A)
  registered and the rest waiting, each reply says the same (ranks 1..k), and the announcement
  shows those counts. The trivial bot is exact when it saved one row per acknowledged click.

Ratios are Partage ÷ trivial bot of the same repetition; figures are median (min–max) of
``--repeat`` runs. Runs on SQLite, and on PostgreSQL when PARTAGE_TEST_POSTGRES_URL is set.

The fake listens with a backlog of 4096 pending connections: with aiohttp's default of 128, a
burst overflows it, the kernel drops SYNs and the client retries after 1 s, an artefact of the
test server (``--backlog 128`` shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Executable, Row, func, select

from benchmarks.common import POSTGRES_ENV, backends
from benchmarks.trivial_bot import clicks as trivial_clicks
from db.models import EtatInscription, Inscription
from db.session import create_engine
from tests.dbutil import fresh_postgres_database
from tests.e2e.harness import STAFF_ROLE, Server, build_server
from tests.e2e.processes import BotProcess
from tests.e2e.test_ateliers_support import create_atelier
from tests.fakediscord import FakeDiscord, InteractionHandle
from tests.fakediscord.models import Message

DEADLINE = 3.0
WAITING = re.compile(r"n°\s(\d+) sur la liste d'attente")


@dataclass
class Result:
    ack_p50: float
    ack_p99: float
    last_answer: float
    late: int
    exact: bool
    settled: float = float("nan")
    edits: int = 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@asynccontextmanager
async def database_url(backend: str, tmp: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'burst.db'}"
        return
    async with fresh_postgres_database(os.environ[POSTGRES_ENV]) as url:
        yield url


async def _wait_answers(handles: list[InteractionHandle], timeout: float) -> dict[int, float]:  # noqa: ASYNC109
    """When each click got its answer, waiting on each handle's own event (no polling)."""
    seen: dict[int, float] = {}

    async def one(h: InteractionHandle) -> None:
        try:
            await h.response(timeout=DEADLINE + 2)
        except TimeoutError:
            return  # dropped by the fake for missing the 3 s deadline
        with contextlib.suppress(TimeoutError):
            await h.wait_answer(timeout=timeout)
            seen[h.id] = time.monotonic()

    await asyncio.gather(*(one(h) for h in handles))
    return seen


async def _rows(url: str, statement: Executable) -> list[Row[Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).all())
    finally:
        await engine.dispose()


async def burst(kind: str, backend: str, n: int, share: float, backlog: int) -> Result:
    places = max(1, int(n * share))
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord(backlog=backlog) as fake, database_url(backend, Path(tmp)) as url:
            server = build_server(fake)
            members = [fake.add_member(server.guild, f"membre{i}") for i in range(n)]
            env = {
                "PARTAGE_DATABASE__URL": url,
                "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
                "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
                "PARTAGE_LOGGING__LEVEL": "WARNING",
            }
            module = "tests.e2e.child_bot"
            if kind == "trivial":
                env["BENCH_CLICKS_DB"] = url
                module = "benchmarks.trivial_bot"
            bot = BotProcess(fake, env, Path(tmp) / "bot.log", module=module)
            await bot.start()
            try:
                await fake.wait_for_bot(1, timeout=60)
                if kind == "trivial":
                    custom_id = "rsvp:1:oui"
                else:
                    custom_id = await _create_atelier(fake, server, places)
                await fake.wait_until(lambda: _button_message(fake, custom_id), timeout=60)
                message = _button_message(fake, custom_id)
                assert message is not None
                await asyncio.sleep(1.5)  # the announcement's own edits done
                edits_before = message.edits
                fake.interaction_deadline = DEADLINE
                start = time.monotonic()
                handles = [fake.click(message, custom_id, user=m, locale="fr") for m in members]
                answered_at = await _wait_answers(handles, timeout=60 + n / 10)
                acks = [h.callbacks[0].at - h.created for h in handles if h.callbacks]
                result = Result(
                    ack_p50=percentile(acks, 0.5),
                    ack_p99=percentile(acks, 0.99),
                    last_answer=max(answered_at.values()) - start,
                    late=n - len(acks),
                    exact=False,
                )
                accepted = len(acks)  # a click Discord dropped is not recorded
                if kind == "trivial":
                    [(saved,)] = await _rows(url, select(func.count()).select_from(trivial_clicks))
                    result.exact = saved == accepted == len(answered_at)
                    return result
                expected = (min(accepted, places), max(0, accepted - places))
                await fake.wait_until(lambda: _shows(message, expected), timeout=60)
                result.settled = time.monotonic() - start
                await asyncio.sleep(1.5)  # no edit after the final counts
                result.edits = message.edits - edits_before
                counts = dict(
                    await _rows(
                        url,
                        select(Inscription.etat, func.count()).group_by(Inscription.etat),
                    )
                )
                replies = [h.message.content for h in handles if h.id in answered_at and h.message]
                registered = sum("votre place est réservée" in r for r in replies)
                positions = sorted(int(m.group(1)) for r in replies if (m := WAITING.search(r)))
                result.exact = (
                    len(replies) == accepted
                    and counts.get(EtatInscription.INSCRIT, 0) == expected[0]
                    and counts.get(EtatInscription.ATTENTE, 0) == expected[1]
                    and registered == expected[0]
                    and positions == list(range(1, expected[1] + 1))
                )
                return result
            finally:
                await bot.terminate()


async def _create_atelier(fake: FakeDiscord, server: Server, places: int) -> str:
    """A staff member creates the atelier once start-up provisioning is done."""
    await fake.wait_until(
        lambda: len(fake.calls("POST", "/guilds/{guild_id}/channels")) >= 9, timeout=60
    )
    _, done = await create_atelier(fake, server, titre="Banc d'essai", capacite=places)
    atelier_id = int(re.search(r"n°\s(\d+)", done).group(1))  # type: ignore[union-attr]
    return f"rsvp:{atelier_id}:oui"


def _button_message(fake: FakeDiscord, custom_id: str) -> Message | None:
    return next(
        (m for m in fake.messages.values() if custom_id in m.custom_ids() and not m.deleted),
        None,
    )


def _shows(message: Message, expected: tuple[int, int]) -> bool:
    if not message.embeds:
        return False
    field = next((f["value"] for f in message.embeds[0]["fields"] if f["name"] == "Places"), "")
    return f"{expected[0]} personnes inscrites" in field and (
        expected[1] == 0 or f"{expected[1]} personnes en liste d'attente" in field
    )


def spread(values: list[float], fmt: str = ".2f") -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--places", type=float, default=0.75, help="places as a share of N")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backlog", type=int, default=4096, help="the fake's listen backlog")
    args = parser.parse_args()
    print(
        f"N members click « Oui » at once; Partage's places = {args.places:.0%} of N; "
        f"median (min–max) of {args.repeat} runs; times in seconds"
    )
    for backend in backends():
        for n in args.sizes:
            runs: dict[str, list[Result]] = {"trivial": [], "partage": []}
            for _ in range(args.repeat):
                for kind in runs:
                    runs[kind].append(await burst(kind, backend, n, args.places, args.backlog))
            t, p = runs["trivial"], runs["partage"]
            print(f"\n{backend}, N = {n}")
            for kind, rs in runs.items():
                print(
                    f"  {kind:<8} ack p50 {spread([r.ack_p50 for r in rs], '.3f')}"
                    f"  ack p99 {spread([r.ack_p99 for r in rs], '.3f')}"
                    f"  last answer {spread([r.last_answer for r in rs])}"
                    f"  late {max(r.late for r in rs)}  exact {all(r.exact for r in rs)}"
                )
            print(
                f"  partage  settled {spread([r.settled for r in p])}"
                f"  announcement edits {spread([float(r.edits) for r in p], '.0f')}"
            )
            ack = [a.ack_p99 / b.ack_p99 for a, b in zip(p, t, strict=True)]
            last = [a.last_answer / b.last_answer for a, b in zip(p, t, strict=True)]
            print(f"  Partage ÷ trivial: ack p99 {spread(ack)}, last answer {spread(last)}")


if __name__ == "__main__":
    asyncio.run(main())
