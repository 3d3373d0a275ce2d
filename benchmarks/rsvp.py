"""Answers per second through the service layer, beside bare single-row inserts.

    .venv/bin/python -m benchmarks.rsvp [--answers 2000] [--members 200]

Runs on SQLite, and on PostgreSQL when PARTAGE_TEST_POSTGRES_URL is set. Sequential: each
answer is its own transaction (lock the atelier, upsert the member, read the inscriptions and
counts, write the inscription). At once: the members' answers go through the same queues as
the bot's clicks (``AnswerQueues``: a batch per transaction, each member still getting their
own place or rank). A bare insert is one single-row INSERT in its own transaction, with the
same concurrency. The ratio says what the rules cost over the database's own floor.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import date

from sqlalchemy import Column, Integer, MetaData, String, Table

from benchmarks.common import NOW, backends, database
from bot.clock import ManualClock
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.batch import Answer
from cogs.inscriptions.service import AnswerQueues, InscriptionService
from db.models import EtatInscription, Reponse
from db.session import session_factory
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

bare = Table(
    "bench_bare",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("value", String(40)),
)


async def bare_inserts(engine, n: int, concurrency: int) -> float:
    async with engine.begin() as conn:
        await conn.run_sync(bare.create, checkfirst=True)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem, engine.begin() as conn:
            await conn.execute(bare.insert().values(value=f"row {i}"))

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - start)


async def answers(engine, n: int, concurrency: int, capacity: int) -> tuple[float, bool]:
    clock = ManualClock(NOW)
    sessions = session_factory(engine)
    atelier = await ateliers_service(sessions, clock).create(
        GUILD,
        AtelierDraft(titre="Benchmark", seances=[seance(date(2026, 12, 3))], capacite=capacity),
    )
    rsvp = InscriptionService(sessions, clock)
    queues = AnswerQueues(rsvp)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int):
        async with sem:
            if concurrency == 1:
                return await rsvp.answer(GUILD, atelier.id, user(i), Reponse.OUI, locale="fr")
            result = await queues.submit(
                atelier.id, Answer(GUILD, user(i), Reponse.OUI, locale="fr")
            )
            assert not isinstance(result, Exception), result
            return result

    start = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(n)))
    rate = n / (time.perf_counter() - start)
    registered = sum(r.etat == EtatInscription.INSCRIT for r in results)
    positions = sorted(r.position for r in results if r.etat == EtatInscription.ATTENTE)
    exact = registered == min(capacity, n) and positions == list(range(1, n - registered + 1))
    return rate, exact


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200, help="concurrent members")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.answers} answers per run, {args.repeat} runs; capacity 30")
    print("ratio = answers/s ÷ bare inserts/s of the same run: median (min–max)")
    print(f"{'database':<11}{'mode':<16}{'answers/s':>11}{'bare inserts/s':>16}  ratio  exact")
    for backend in backends():
        for label, concurrency in (("sequential", 1), (f"{args.members} at once", args.members)):
            rates, bares, ratios, exact = [], [], [], True
            for _ in range(args.repeat):
                async with database(backend) as engine:
                    rate, ok = await answers(engine, args.answers, concurrency, capacity=30)
                    bare_rate = await bare_inserts(engine, args.answers, concurrency)
                rates.append(rate)
                bares.append(bare_rate)
                ratios.append(rate / bare_rate)
                exact &= ok
            r, b = statistics.median(rates), statistics.median(bares)
            spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
            print(f"{backend:<11}{label:<16}{r:>11.0f}{b:>16.0f}  {spread}  {exact}")


if __name__ == "__main__":
    asyncio.run(main())
