"""Answers per second through the service layer, beside bare single-row inserts.

    .venv/bin/python -m benchmarks.rsvp [--answers 1000] [--members 200] [--repeat 3]

Runs on SQLite, and on PostgreSQL when PARTAGE_TEST_POSTGRES_URL is set.

* Sequential: one answer at a time, each its own transaction (lock the atelier and read it with
  the member's inscription and the counts; create the member on first sight; write the
  inscription). Two cases: a **newcomer** (the member's first answer ever: their row is
  created too) and a **known member** (they answered another atelier before).
* At once: ``--members`` answers in flight, through the same queues as the bot's clicks
  (``AnswerQueues``: a batch per transaction, each member still getting their own place or
  rank).

The reference is a bare insert: one single-row INSERT in its own transaction, with the same
concurrency, on the same database. The two alternate in blocks of 100 so that both see the
same machine; the ratio (answers/s ÷ bare inserts/s) says what the rules cost over the
database's own floor. Every run checks that places and ranks came out exact.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.common import NOW, backends, database
from bot.clock import ManualClock
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.batch import Answer, AnswerResult
from cogs.inscriptions.service import AnswerQueues, InscriptionService
from db.models import EtatInscription, Reponse
from db.session import session_factory
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

BLOCK = 100
CAPACITY = 30

bare = Table(
    "bench_bare",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("value", String(40)),
)


async def _timed(calls: list[Callable[[], Awaitable[object]]], concurrency: int) -> float:
    """Seconds to run ``calls`` with at most ``concurrency`` in flight."""
    sem = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with sem:
            await call()

    start = time.perf_counter()
    if concurrency == 1:
        for call in calls:
            await call()
    else:
        await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - start


async def run(
    engine: AsyncEngine, n: int, concurrency: int, *, known: bool
) -> tuple[float, float, bool]:
    """Answers/s, bare inserts/s (alternating blocks), and whether the results are exact."""
    async with engine.begin() as conn:
        await conn.run_sync(bare.create, checkfirst=True)
    clock = ManualClock(NOW)
    sessions = session_factory(engine)
    ateliers = ateliers_service(sessions, clock)
    draft = AtelierDraft(titre="Benchmark", seances=[seance(date(2026, 12, 3))])
    rsvp = InscriptionService(sessions, clock)
    if known:  # every member answered another atelier before
        other = await ateliers.create(GUILD, draft)
        for start in range(0, n, 50):
            await rsvp.answer_many(
                other.id,
                [
                    Answer(GUILD, user(i), Reponse.NON, locale="fr")
                    for i in range(start, min(start + 50, n))
                ],
            )
    atelier = await ateliers.create(GUILD, replace(draft, capacite=CAPACITY))
    queues = AnswerQueues(rsvp)
    results: list[AnswerResult] = []

    async def answer(i: int) -> None:
        a = Answer(GUILD, user(i), Reponse.OUI, locale="fr")
        if concurrency == 1:
            (result,) = await rsvp.answer_many(atelier.id, [a])
        else:
            result = await queues.submit(atelier.id, a)
        assert isinstance(result, AnswerResult), result
        results.append(result)

    async def insert(i: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(bare.insert().values(value=f"row {i}"))

    answering = inserting = 0.0
    for start in range(0, n, BLOCK):
        block = range(start, min(start + BLOCK, n))
        answering += await _timed([lambda i=i: answer(i) for i in block], concurrency)
        inserting += await _timed([lambda i=i: insert(i) for i in block], concurrency)
    registered = sum(r.etat == EtatInscription.INSCRIT for r in results)
    positions = sorted(r.position for r in results if r.etat == EtatInscription.ATTENTE)
    exact = registered == min(CAPACITY, n) and positions == list(range(1, n - registered + 1))
    return n / answering, n / inserting, exact


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--members", type=int, default=200, help="concurrent members")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.answers} answers per run, {args.repeat} runs; capacity {CAPACITY}")
    print("ratio = answers/s ÷ bare inserts/s of the same run: median (min–max)")
    print(f"{'database':<11}{'mode':<26}{'answers/s':>10}{'bare inserts/s':>16}  ratio  exact")
    modes = (
        ("sequential, newcomers", 1, False),
        ("sequential, known", 1, True),
        (f"{args.members} at once, newcomers", args.members, False),
    )
    for backend in backends():
        for label, concurrency, known in modes:
            rates, bares, ratios, exact = [], [], [], True
            for _ in range(args.repeat):
                async with database(backend) as engine:
                    rate, bare_rate, ok = await run(engine, args.answers, concurrency, known=known)
                rates.append(rate)
                bares.append(bare_rate)
                ratios.append(rate / bare_rate)
                exact &= ok
            r, b = statistics.median(rates), statistics.median(bares)
            spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
            print(f"{backend:<11}{label:<26}{r:>10.0f}{b:>16.0f}  {spread}  {exact}")


if __name__ == "__main__":
    asyncio.run(main())
