"""N members clicking « Oui » at once on one announcement: the real bot against the fake Discord.

    .venv/bin/python -m benchmarks.rsvp_burst [--sizes 100 500 2000] [--places 0.75]

For each N, a fresh fake Discord (in this process) and a fresh database; the production bot
built by ``tests.e2e.harness.partage``; a staff member creates an atelier of ``places × N``
places; then N members click « Oui » in the same instant. Measured:

- ack p50/p99: from the injection of a click to the bot's first response to it (Discord drops
  an interaction not acknowledged within 3 s; the fake enforces that deadline here too);
- answer p50/p99: from the injection to the ephemeral message giving the member's status (the
  acknowledgement's "thinking…" edited into the answer);
- settled: until every member has their answer and the announcement's last edit is done;
- edits: how many times the announcement was edited for the N clicks;
- late: clicks Discord dropped because they were not acknowledged within 3 s (the bot then
  records nothing for them: their members saw "interaction failed" and can click again);
- exact: for the A clicks acknowledged in time, the database holds exactly min(places, A)
  registered and the rest waiting with positions 1..k, every member's reply says the same,
  and the announcement shows those final counts.

Runs on SQLite, and on PostgreSQL when PARTAGE_TEST_POSTGRES_URL is set.

The fake listens with aiohttp's default backlog of 128 pending connections. A burst makes
discord.py open one connection per concurrent request; past 128 the kernel drops the SYNs and
the client retries after its 1 s initial retransmission timeout, which adds a second to every
acknowledgement and is an artefact of the test server, not of the bot nor of Discord. So the
fake here listens with a backlog of 4096 (``--backlog 128`` shows the difference).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import POSTGRES_ENV, backends
from tests.dbutil import fresh_postgres_database
from tests.e2e.harness import build_server, partage, settings_for, settle
from tests.fakediscord import FakeDiscord, InteractionHandle

DEADLINE = 3.0
DATES = "3 décembre 2030 13 h 30 ; 10 décembre 2030 13 h 30"
WAITING = re.compile(r"n° (\d+) sur la liste d'attente")


@dataclass
class Result:
    backend: str
    n: int
    settled: float
    ack_p50: float
    ack_p99: float
    answer_p50: float
    answer_p99: float
    late: int
    edits: int
    exact: bool


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@asynccontextmanager
async def database_url(backend: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'burst.db'}"
        return
    async with fresh_postgres_database(os.environ[POSTGRES_ENV]) as url:
        yield url


async def burst(backend: str, n: int, share: float, backlog: int) -> Result:
    places = max(1, int(n * share))
    async with FakeDiscord(backlog=backlog) as fake, database_url(backend) as url:
        server = build_server(fake)
        members = [fake.add_member(server.guild, f"membre{i}") for i in range(n)]
        async with partage(fake, settings_for(fake, server, url)) as bot:
            created = fake.slash(
                "atelier creer",
                user=server.staff,
                channel=server.general,
                options={
                    "titre": "Banc d'essai",
                    "chantier": "gouvernance",
                    "dates": DATES,
                    "capacite": places,
                },
                locale="fr",
            )
            [done] = await created.wait_followups(1, timeout=30)
            atelier_id = int(re.search(r"n° (\d+)", done.content).group(1))  # type: ignore[union-attr]
            await settle(fake, bot)
            message = next(
                m
                for m in fake.messages.values()
                if f"rsvp:{atelier_id}:oui" in m.custom_ids() and not m.deleted
            )
            edits_before = message.edits
            fake.interaction_deadline = DEADLINE
            start = time.monotonic()
            handles = [
                fake.click(message, f"rsvp:{atelier_id}:oui", user=m, locale="fr") for m in members
            ]
            answered_at = await _wait_answers(handles, timeout=60 + n / 10)
            await settle(fake, bot, timeout=60)
            settled = time.monotonic() - start
            counts = await bot.services.inscriptions.counts(atelier_id)
        acks = [h.callbacks[0].at - h.created for h in handles if h.callbacks]
        answers = [answered_at[h.id] - h.created for h in handles if h.id in answered_at]
        accepted = len(acks)  # a click Discord dropped (acked too late) is not recorded
        replies = [h.message.content for h in handles if h.id in answered_at and h.message]
        registered = sum("votre place est réservée" in r for r in replies)
        positions = sorted(int(m.group(1)) for r in replies if (m := WAITING.search(r)))
        expected = (min(accepted, places), max(0, accepted - places))
        places_field = next(
            f["value"] for f in message.embeds[0]["fields"] if f["name"] == "Places"
        )
        shown = f"{expected[0]} personnes inscrites" in places_field and (
            expected[1] == 0 or f"{expected[1]} personnes en liste d'attente" in places_field
        )
        exact = (
            len(replies) == accepted
            and (counts.inscrits, counts.attente) == expected
            and registered == expected[0]
            and positions == list(range(1, expected[1] + 1))
            and shown
        )
        return Result(
            backend=backend,
            n=n,
            settled=settled,
            ack_p50=percentile(acks, 0.5) if acks else float("nan"),
            ack_p99=percentile(acks, 0.99) if acks else float("nan"),
            answer_p50=percentile(answers, 0.5) if answers else float("nan"),
            answer_p99=percentile(answers, 0.99) if answers else float("nan"),
            late=n - accepted,
            edits=message.edits - edits_before,
            exact=exact,
        )


async def _wait_answers(handles: list[InteractionHandle], timeout: float) -> dict[int, float]:  # noqa: ASYNC109
    """When each click got its answer (the acknowledgement's "thinking…" replaced), waiting on
    each handle's own event rather than polling them all."""
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--places", type=float, default=0.75, help="places as a share of N")
    parser.add_argument("--backlog", type=int, default=4096, help="the fake's listen backlog")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"N members click « Oui » at once; places = {args.places:.0%} of N")
    header = (
        f"{'database':<11}{'N':>6}{'settled s':>11}{'ack p50':>9}{'ack p99':>9}"
        f"{'answer p50':>12}{'answer p99':>12}{'late':>6}{'edits':>7}  exact"
    )
    print(header)
    for backend in backends():
        for n in args.sizes:
            r = await burst(backend, n, args.places, args.backlog)
            print(
                f"{r.backend:<11}{r.n:>6}{r.settled:>11.1f}{r.ack_p50:>9.3f}{r.ack_p99:>9.3f}"
                f"{r.answer_p50:>12.2f}{r.answer_p99:>12.2f}{r.late:>6}{r.edits:>7}  {r.exact}"
            )


if __name__ == "__main__":
    asyncio.run(main())
