"""Reminders follow the ateliers' changes (the ``atelier_changed`` hook, and start-up for a change
whose hook was lost); the weekly digest and ``/partage salon-resume``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import ManualClock
from cogs.ateliers.service import AtelierChanges, AtelierDraft
from db.models import Rappel, RappelStatus, Seance
from tests.cogs.helpers import unplanned_ateliers
from tests.e2e.harness import Server, partage, settings_for, settle
from tests.e2e.test_reminders import new_atelier, rappels, reminder_settings, seance_at, stamp
from tests.fakediscord import FakeDiscord


async def test_a_moved_atelier_is_reminded_at_its_new_time_and_a_cancelled_one_never(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url)) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id
        now = bot.clock.now().replace(microsecond=0)
        moved = await new_atelier(bot, server, now + timedelta(seconds=8))
        cancelled = await new_atelier(bot, server, now + timedelta(seconds=8), slug=None)
        await bot.services.ateliers.set_announcement(
            cancelled, channel_id=chantier.channel_id, message_id=None
        )
        await settle(fake, bot)
        assert len(bot.scheduler.job_ids("reminder:")) == 6

        new_start = now + timedelta(seconds=10)
        await bot.services.ateliers.modify(
            server.guild.id, moved, AtelierChanges(seances=[seance_at(new_start)])
        )
        await bot.services.ateliers.cancel(server.guild.id, cancelled)
        await settle(fake, bot)
        assert len(bot.scheduler.job_ids("reminder:")) == 3  # the moved atelier's only

        channel = lambda: rappels(fake.channel_messages(chantier.channel_id))  # noqa: E731
        await fake.wait_until(lambda: len(channel()) == 2, timeout=12)
        await asyncio.sleep(0.5)
        posts = channel()
        assert len(posts) == 2  # none for the cancelled atelier (due at +4 s and +6 s)
        for post, offset in zip(posts, (4, 2), strict=True):
            due = new_start - timedelta(seconds=offset)
            assert 0 <= (post.created_at - due).total_seconds() < 2.0
            assert stamp(new_start, "F") in post.embeds[0]["description"]
        async with bot.sessions() as s:
            statuses = await s.scalars(
                select(Rappel.status)
                .join(Seance, Seance.id == Rappel.seance_id)
                .where(Seance.atelier_id == cancelled)
            )
            assert set(statuses) == {RappelStatus.WITHDRAWN}


async def test_start_up_plans_an_atelier_written_without_its_plan(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    """An atelier whose rows do not match its plan (written by an older version, or the offsets
    changed in the configuration) is planned again at start-up. (A manual clock: the restart may
    take any time on a loaded machine.)"""
    fake = fake_discord
    settings = reminder_settings(fake, server, db_url, "3s")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    start = clock.now() + timedelta(minutes=10)
    async with partage(fake, settings, clock=clock) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None
        info = await unplanned_ateliers(bot.sessions, bot.clock).create(
            server.guild.id,
            AtelierDraft(
                titre="Gestion des actifs", seances=[seance_at(start)], chantier_id=chantier.id
            ),
        )
        atelier_id = info.id
        await settle(fake, bot)
        assert bot.scheduler.job_ids("reminder:") == []
    async with partage(fake, settings, clock=clock) as bot:
        assert len(bot.scheduler.job_ids("reminder:")) == 2  # 3 s and "ça commence"
        assert await bot.services.rappels.out_of_step() == ([], [])  # in step now
        channel = lambda: rappels(fake.channel_messages(chantier.channel_id))  # noqa: E731
        assert channel() == []
        clock.set(start - timedelta(seconds=3))
        await fake.wait_until(lambda: len(channel()) == 1, timeout=8)
        assert f"rsvp:{atelier_id}:oui" in channel()[0].custom_ids()


async def test_weekly_digest_in_the_channel_staff_chose_once_per_week(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    settings = settings_for(fake, server, db_url, reminders={"digest": "lun 8h30"})
    async with partage(fake, settings) as bot:
        now = bot.clock.now().replace(microsecond=0)
        soon = await new_atelier(bot, server, now + timedelta(days=3))
        await new_atelier(bot, server, now + timedelta(days=20))  # beyond the two weeks
        cog = bot.get_cog("RemindersCog")
        assert await cog.post_digest(server.guild.id) is None  # no channel chosen yet

        refused = await fake.slash(
            "partage salon-resume",
            user=server.alice,
            channel=server.general,
            options={"salon": server.general.id},
            locale="fr",
        ).response()
        assert refused.ephemeral and "réservée" in refused.data["content"]
        chosen = await fake.slash(
            "partage salon-resume",
            user=server.staff,
            channel=server.general,
            options={"salon": server.general.id},
            locale="fr",
        ).response()
        assert chosen.ephemeral and f"<#{server.general.id}>" in chosen.data["content"]

        message_id = await cog.post_digest(server.guild.id)
        assert message_id is not None
        assert await cog.post_digest(server.guild.id) is None  # once a week (any process)
        (digest,) = [m for m in fake.channel_messages(server.general) if m.id == message_id]
        description = digest.embeds[0]["description"]
        info = await bot.services.ateliers.get(soon)
        assert "Gestion des actifs" in description and "gouvernance" in description
        assert stamp(info.seances[0].starts_at, "F") in description
        assert description.count("Gestion des actifs") == 1
        assert digest.mention_role_ids == [] and not digest.mention_everyone
        weekly = bot.scheduler.next_run("reminders:digest")
        assert weekly is not None
        local = weekly.astimezone(ZoneInfo("America/Toronto"))
        assert (local.weekday(), local.hour, local.minute) == (0, 8, 30)


async def test_plans_committed_in_a_row_share_one_sweep(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    """Each atelier's commit asks for a sweep of the scheduler; those that come while one is
    waiting are read by it (a burst of 1,000 ateliers is not 1,000 reads of the whole plan)."""
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url, "1h")) as bot:
        await settle(fake, bot)
        cog = bot.get_cog("RemindersCog")
        syncs: list[int] = []
        sync = cog.sender.sync

        async def counted() -> None:
            syncs.append(len(bot.scheduler.job_ids("reminder:")))
            await sync()

        cog.sender.sync = counted
        start = bot.clock.now().replace(microsecond=0) + timedelta(minutes=30)
        async with cog._changes:  # a sweep is under way meanwhile
            for n in range(10):
                await new_atelier(bot, server, start + timedelta(minutes=n))
        await settle(fake, bot)
        assert syncs == [0]  # one sweep for the ten
        # Each has its « ça commence » within the hour; its 1h reminder was past, so missed.
        assert len(bot.scheduler.job_ids("reminder:")) == 10
        await new_atelier(bot, server, start)
        await settle(fake, bot)
        assert syncs == [0, 10]
        assert len(bot.scheduler.job_ids("reminder:")) == 11
