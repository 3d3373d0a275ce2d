"""Calendar feed requests per second, beside a bare aiohttp handler in the same run.

    .venv/bin/python -m benchmarks.feeds [--ateliers 200] [--requests 200] [--repeat 3]

Runs on SQLite, and on PostgreSQL when PARTAGE_TEST_POSTGRES_URL is set. A chantier of
``--ateliers`` ateliers of two séances each; the site's handlers (``cogs.calendrier.web.Site``)
on a real aiohttp server on 127.0.0.1, fetched by an aiohttp client in the same process, one
request at a time over one keep-alive connection:

* **full feed**: the chantier's ``.ics`` with every cache empty (as the first request after a
  start): the version query, the read of every atelier and séance, the rendering of each;
* **one changed**: the feed after one atelier changed (the file's cache emptied, the events of
  one atelier dropped from the events' cache): the read, one atelier rendered, the assembly;
* **cached feed**: the same file again (same version: the cache answers after the version query);
* **304**: a calendar client polling with ``If-None-Match`` (the version query only);
* **bare**: an aiohttp handler that returns a fixed 40-byte text, the floor of the server and the
  client on this machine.

The four alternate in blocks so that each sees the same machine; figures are medians (min–max)
of ``--repeat`` series, with each one's ratio to the bare handler.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from aiohttp import ClientSession, web

from benchmarks.common import NOW, backends, database
from bot.clock import ManualClock
from bot.i18n import I18n
from cogs.ateliers.service import AtelierDraft
from cogs.calendrier.service import CalendrierService
from cogs.calendrier.web import Site
from db import repositories as repo
from db.models import Chantier
from db.session import session_factory
from tests.cogs.helpers import GUILD, ateliers_service, seance

BLOCK = 20


async def _populate(sessions, clock: ManualClock, ateliers: int) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        await repo.ensure_guild(session, GUILD, NOW)
        chantier = Chantier(guild_id=GUILD, slug="gouvernance", nom="Gouvernance", created_at=NOW)
        session.add(chantier)
        await session.flush()
        chantier_id = chantier.id
    service = ateliers_service(sessions, clock)
    first = date(2027, 1, 4)
    for i in range(ateliers):
        day = first + timedelta(days=i)
        await service.create(
            GUILD,
            AtelierDraft(
                titre=f"Atelier {i} : l'accueil des personnes immigrantes en région",
                chantier_id=chantier_id,
                seances=(seance(day), seance(day + timedelta(days=7))),
                description="Une description de quelques lignes, comme celles du programme.",
                lieu="visioconférence",
            ),
            announce=False,
        )


async def _serve(site: Site) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_routes(site.routes())

    async def bare(request: web.Request) -> web.Response:
        return web.Response(text="BEGIN:VCALENDAR fixed reference answer")

    app.router.add_get("/bare", bare)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    return runner, port


async def _rate(call: Callable[[], Awaitable[None]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return n / (time.perf_counter() - start)


async def run(backend: str, ateliers: int, requests: int, repeat: int) -> None:
    async with database(backend) as engine:
        sessions = session_factory(engine)
        clock = ManualClock(NOW)
        await _populate(sessions, clock, ateliers)
        service = CalendrierService(sessions, clock, guild_id=GUILD)
        site = Site(
            service, I18n.load(), zone="America/Toronto", base_url="https://partage.example.org"
        )
        runner, port = await _serve(site)
        url = f"http://127.0.0.1:{port}"
        try:
            async with ClientSession() as http:
                async with http.get(url + "/chantiers/gouvernance.ics") as response:
                    body = await response.read()
                    etag = response.headers["ETag"]
                    assert response.status == 200 and body.count(b"BEGIN:VEVENT") == 2 * ateliers

                async def full() -> None:
                    site._cache.clear()
                    site.events.clear()
                    async with http.get(url + "/chantiers/gouvernance.ics") as r:
                        assert r.status == 200
                        await r.read()

                async def changed() -> None:
                    site._cache.clear()
                    site.events._entries.popitem(last=True)  # one atelier's events are stale
                    async with http.get(url + "/chantiers/gouvernance.ics") as r:
                        assert r.status == 200
                        await r.read()

                async def cached() -> None:
                    async with http.get(url + "/chantiers/gouvernance.ics") as r:
                        assert r.status == 200
                        await r.read()

                async def not_modified() -> None:
                    async with http.get(
                        url + "/chantiers/gouvernance.ics", headers={"If-None-Match": etag}
                    ) as r:
                        assert r.status == 304
                        await r.read()

                async def bare() -> None:
                    async with http.get(url + "/bare") as r:
                        assert r.status == 200
                        await r.read()

                kinds = {
                    "full feed": full,
                    "one changed": changed,
                    "cached feed": cached,
                    "304": not_modified,
                    "bare": bare,
                }
                series: dict[str, list[float]] = {k: [] for k in kinds}
                for _ in range(repeat):
                    totals = dict.fromkeys(kinds, 0.0)
                    counts = dict.fromkeys(kinds, 0)
                    for _ in range(max(requests // BLOCK, 1)):
                        for name, call in kinds.items():
                            slow = name in ("full feed", "one changed")
                            n = max(BLOCK // 10, 1) if slow else BLOCK
                            rate = await _rate(call, n)
                            totals[name] += n / rate
                            counts[name] += n
                    for name in kinds:
                        series[name].append(counts[name] / totals[name])
        finally:
            await runner.cleanup()
    size = len(body)
    print(f"\n{backend}: chantier of {ateliers} ateliers ({2 * ateliers} VEVENTs, {size:,} bytes)")
    print(f"{'request':<12} {'req/s':>10} {'÷ bare':>22}")
    for name, values in series.items():
        ratios = [v / b for v, b in zip(values, series["bare"], strict=True)]
        print(
            f"{name:<12} {statistics.median(values):>10.1f} "
            f"{statistics.median(ratios):>8.4f} ({min(ratios):.4f}–{max(ratios):.4f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ateliers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for backend in backends():
        asyncio.run(run(backend, args.ateliers, args.requests, args.repeat))


if __name__ == "__main__":
    main()
