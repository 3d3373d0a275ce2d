"""Reminders as staff and members drive them, with slash commands and buttons only, on a manual
clock (the scheduler runs on the bot's clock): created, answered, moved, cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import announcements, chantier_channel, text_of
from tests.e2e.test_reminders import rappels, reminder_settings
from tests.fakediscord import FakeDiscord
from tests.french import fr

# 3 December 2030, 13 h 30 in Toronto (the default zone) is 18 h 30 UTC.
START = datetime(2030, 12, 3, 18, 30, tzinfo=UTC)
MOVED = START + timedelta(days=1)


async def test_created_answered_moved_and_cancelled_by_commands(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    clock = ManualClock(datetime(2030, 12, 1, 12, tzinfo=UTC))
    settings = reminder_settings(fake, server, db_url, "24h", "1h")
    async with partage(fake, settings, clock=clock) as bot:
        created = fake.slash(
            "atelier creer",
            user=server.staff,
            channel=server.general,
            options={
                "titre": "Gestion des actifs",
                "chantier": "gouvernance",
                "dates": "3 décembre 2030 13 h 30",
                "capacite": 5,
            },
            locale="fr",
        )
        assert fr("créé (n° 1)") in await text_of(created)
        await settle(fake, bot)
        channel = chantier_channel(fake, server)
        [announcement] = announcements(fake, channel)
        dm_on = fake.slash(
            "rappels",
            user=server.alice,
            channel=server.general,
            options={"messages-prives": True},
            locale="fr",
        )
        assert "Rappels par message privé activés" in await text_of(dm_on)
        for member in (server.alice, server.bob):
            await text_of(fake.click(announcement, "rsvp:1:oui", user=member, locale="fr"))
        await settle(fake, bot)
        posts = lambda: rappels(fake.channel_messages(channel))  # noqa: E731
        reminder_dms = lambda: [m for m in fake.dms(server.alice) if "Rappel" in m.content]  # noqa: E731

        # Nothing a second early; the day-before reminder when the clock reaches it.
        clock.set(START - timedelta(hours=24, seconds=1))
        await settle(fake, bot)
        assert posts() == []
        clock.set(START - timedelta(hours=24))
        await fake.wait_until(lambda: len(posts()) == 1 and len(reminder_dms()) == 1, 10)
        assert f"<t:{int(START.timestamp())}:F>" in posts()[0].embeds[0]["description"]
        assert [m for m in fake.dms(server.bob) if "Rappel" in m.content] == []  # DMs off

        # Moved by a day: the hour-before reminder follows the séance.
        moved = fake.slash(
            "atelier modifier",
            user=server.staff,
            channel=server.general,
            options={"atelier": "1", "dates": "4 décembre 2030 13 h 30"},
            locale="fr",
        )
        assert "modifié" in await text_of(moved)
        await settle(fake, bot)
        clock.set(START - timedelta(hours=1))  # the old time
        await settle(fake, bot)
        assert len(posts()) == 1
        clock.set(MOVED - timedelta(hours=24))
        await fake.wait_until(lambda: len(posts()) == 2 and len(reminder_dms()) == 2, 10)
        assert f"<t:{int(MOVED.timestamp())}:F>" in posts()[1].embeds[0]["description"]

        # Cancelled: no more reminders, everyone registered told once.
        cancelled = fake.slash(
            "atelier annuler",
            user=server.staff,
            channel=server.general,
            options={"atelier": "1"},
            locale="fr",
        )
        assert "annulé" in await text_of(cancelled)
        await settle(fake, bot)
        clock.set(MOVED + timedelta(hours=2))
        await settle(fake, bot)
        assert len(posts()) == 2 and len(reminder_dms()) == 2
        for member in (server.alice, server.bob):
            told = [m for m in fake.dms(member) if "est annulé" in m.content]
            assert len(told) == 1
        assert bot.scheduler.job_ids("reminder:") == []
