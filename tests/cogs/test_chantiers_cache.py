"""The per-guild copy of the chantiers: read once, never stale after a write in this process,
fresh across processes within ``CACHE_SECONDS``."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from cogs.chantiers.service import CACHE_SECONDS, ChantierService
from tests.cogs.helpers import GUILD


async def test_reads_are_served_from_the_copy_and_every_write_clears_it(
    sessions, clock: ManualClock
) -> None:
    service = ChantierService(sessions, clock)
    first = await service.create(GUILD, "Accueil et intégration")
    for _ in range(5):
        assert [c.slug for c in await service.chantiers(GUILD)] == ["accueil-et-integration"]
        assert (await service.by_slug(GUILD, "accueil-et-integration")) == first
        assert (await service.get(GUILD, first.id)) == first
    assert service.loads == 1

    second = await service.create(GUILD, "Petite enfance")
    assert [c.id for c in await service.chantiers(GUILD)] == [first.id, second.id]
    updated = await service.set_discord_ids(second.id, channel_id=42)
    assert (await service.get(GUILD, second.id)).channel_id == 42 == updated.channel_id
    await service.archive(GUILD, first.id)
    assert [c.id for c in await service.chantiers(GUILD)] == [second.id]
    assert [c.id for c in await service.chantiers(GUILD, include_archived=True)] == [
        first.id,
        second.id,
    ]
    assert service.loads == 4  # once after each of the three writes


async def test_another_process_write_shows_within_the_cache_delay(
    sessions, clock: ManualClock
) -> None:
    here, there = ChantierService(sessions, clock), ChantierService(sessions, clock)
    await here.create(GUILD, "Accueil")
    assert len(await here.chantiers(GUILD)) == 1
    await there.create(GUILD, "Petite enfance")
    assert len(await here.chantiers(GUILD)) == 1  # this process's copy, still young
    clock.advance(timedelta(seconds=CACHE_SECONDS + 1))
    assert len(await here.chantiers(GUILD)) == 2
