"""Reminders end to end: the real bot, the real clock, offsets of seconds, the fake Discord."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.core import PartageBot
from bot.dates import SeanceSpec
from cogs.ateliers.service import AtelierDraft
from cogs.reminders.plan import ClaimedRappel
from db.models import DeliveryStatus, Livraison, Membre, Rappel, RappelKind, RappelStatus, Reponse
from tests.e2e.harness import Server, partage, settings_for, settle
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import Message
from tests.french import fr

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

ZONE = "America/Toronto"
LIEN = "https://meet.example.org/partage-42"


def seance_at(start: datetime, minutes: int = 90) -> SeanceSpec:
    """A séance at an exact instant (seconds kept, as offsets of seconds need)."""
    start = start.replace(microsecond=0)
    local = start.astimezone(ZoneInfo(ZONE))
    return SeanceSpec(
        local.date(),
        local.time().replace(tzinfo=None),
        ZONE,
        start,
        start + timedelta(minutes=minutes),
    )


def reminder_settings(fake: FakeDiscord, server: Server, db_url: str, *offsets: str) -> Settings:
    return settings_for(
        fake, server, db_url, reminders={"offsets": list(offsets or ("4s", "2s")), "digest": ""}
    )


def rappels(messages: list[Message]) -> list[Message]:
    """Reminder posts (not "ça commence", not anything another cog posted)."""
    return [m for m in messages if "Rappel" in (m.content or "")]


def starts(messages: list[Message]) -> list[Message]:
    return [m for m in messages if "commence" in (m.content or "") and "Rappel" not in m.content]


async def new_atelier(
    bot: PartageBot,
    server: Server,
    start: datetime,
    *,
    slug: str | None = "gouvernance",
    lien: str | None = LIEN,
    capacite: int | None = 12,
) -> int:
    chantier = await bot.services.chantiers.by_slug(server.guild.id, slug) if slug else None
    info = await bot.services.ateliers.create(
        server.guild.id,
        AtelierDraft(
            titre="Gestion des actifs",
            seances=[seance_at(start)],
            chantier_id=chantier.id if chantier else None,
            lien=lien,
            capacite=capacite,
            lieu="visioconférence",
        ),
    )
    return info.id


async def register(
    bot: PartageBot, server: Server, atelier_id: int, user_id: int, dm: bool
) -> None:
    await bot.services.inscriptions.answer(server.guild.id, atelier_id, user_id, Reponse.OUI)
    await bot.services.rappels.set_dm_reminders(server.guild.id, user_id, dm)


def stamp(when: datetime, style: str) -> str:
    return f"<t:{int(when.timestamp())}:{style}>"


async def test_reminders_arrive_on_time_exactly_once_in_channel_and_by_dm(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url)) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id and chantier.role_id
        start = (bot.clock.now() + timedelta(seconds=9)).replace(microsecond=0)
        atelier_id = await new_atelier(bot, server, start)
        await register(bot, server, atelier_id, server.alice.id, dm=True)
        await register(bot, server, atelier_id, server.bob.id, dm=False)
        await settle(fake, bot)
        assert len(bot.scheduler.job_ids("reminder:")) == 3  # 4 s, 2 s, "ça commence"

        channel = lambda: fake.channel_messages(chantier.channel_id)  # noqa: E731
        await fake.wait_until(lambda: len(starts(channel())) >= 1, timeout=12)
        await asyncio.sleep(1.0)  # a duplicate would show by now
        await settle(fake, bot)

        posts = rappels(channel())
        assert len(posts) == 2
        for post, offset in zip(posts, (4, 2), strict=True):
            lateness = (post.created_at - (start - timedelta(seconds=offset))).total_seconds()
            assert -0.05 <= lateness < 2.0, lateness
            assert post.content.startswith(f"<@&{chantier.role_id}> ")
            assert post.mention_role_ids == [chantier.role_id]
            assert post.allowed_mentions is not None
            assert [int(r) for r in post.allowed_mentions["roles"]] == [chantier.role_id]
            assert post.allowed_mentions.get("parse") == []
            assert post.allowed_mentions.get("users", []) == []
            description = post.embeds[0]["description"]
            assert stamp(start, "F") in description and stamp(start, "R") in description
            assert "visioconférence" in description and "10 places restantes" in description
            assert LIEN not in description  # the link is only for registered members
            assert post.custom_ids() == [
                f"rsvp:{atelier_id}:{r}" for r in ("oui", "peut-etre", "non")
            ]
            assert post.nonce and "retard" not in description
        (started,) = starts(channel())
        assert started.custom_ids() == [f"lien:{atelier_id}"]
        assert started.mention_role_ids == [] and LIEN not in str(started.embeds)
        assert abs((started.created_at - start).total_seconds()) < 2.0

        dms = fake.dms(server.alice)
        assert len(dms) == 3  # two reminders and "ça commence", each once
        assert all(LIEN in str(m.embeds) for m in dms) and all(m.nonce for m in dms)
        assert fr("Rappel : « Gestion des actifs »") in dms[0].content
        assert fake.dms(server.bob) == []  # registered, but DM reminders off
        assert bot.scheduler.job_ids("reminder:") == []


async def test_a_closed_dm_turns_the_option_off_and_is_told_once(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url)) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id
        thread = fake.add_thread(chantier.channel_id, "Gestion des actifs")
        start = bot.clock.now() + timedelta(seconds=8)
        atelier_id = await new_atelier(bot, server, start)
        await settle(fake, bot)  # the announcement's own thread first (see below)
        await bot.services.ateliers.set_announcement(
            atelier_id, channel_id=chantier.channel_id, message_id=None, thread_id=thread.id
        )
        await register(bot, server, atelier_id, server.alice.id, dm=True)
        await register(bot, server, atelier_id, server.bob.id, dm=True)
        fake.close_dms(server.alice)
        await fake.wait_until(
            lambda: len(rappels(fake.channel_messages(chantier.channel_id))) == 2, timeout=12
        )
        await asyncio.sleep(0.5)
        await settle(fake, bot)

        notices = fake.channel_messages(thread)
        assert len(notices) == 1  # told once, not at the second reminder
        (notice,) = notices
        assert notice.content.startswith(f"<@{server.alice.id}>") and "/rappels" in notice.content
        assert [int(u) for u in notice.allowed_mentions["users"]] == [server.alice.id]
        assert notice.mention_role_ids == []
        async with bot.sessions() as s:
            on = await s.scalar(
                select(Membre.dm_reminders).where(Membre.user_id == server.alice.id)
            )
        assert on is False
        assert len(fake.dms(server.bob)) == 2  # Bob's DMs are open: both reminders
        dm_posts = [
            c
            for c in fake.calls("POST", "/channels/{channel_id}/messages")
            if c.path.endswith(f"/{fake.users[server.alice.id].dm_channel_id}/messages")
        ]
        assert len(dm_posts) == 1  # the second reminder did not even try Alice's DMs


async def test_transient_failures_are_retried_and_permanent_ones_recorded(
    fake_discord: FakeDiscord, server: Server, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url, "5s", "2s")) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id
        start = (bot.clock.now() + timedelta(seconds=9)).replace(microsecond=0)
        atelier_id = await new_atelier(bot, server, start)
        await settle(fake, bot)  # its announcement is posted in the same channel
        route = f"/channels/{chantier.channel_id}/messages"
        fake.fail_next("POST", route, status=503, times=1)  # not retried by discord.py itself
        channel = lambda: rappels(fake.channel_messages(chantier.channel_id))  # noqa: E731
        await fake.wait_until(lambda: len(channel()) == 1, timeout=10)
        (retried,) = channel()
        assert 0.9 < (retried.created_at - (start - timedelta(seconds=5))).total_seconds() < 2.5
        posts = [c for c in fake.calls("POST", route) if c.json and "Rappel" in c.json["content"]]
        assert [c.status for c in posts] == [503, 200]
        assert posts[0].json["nonce"] == posts[1].json["nonce"] == retried.nonce
        assert posts[1].json["enforce_nonce"] is True

        fake.fail_next("POST", route, status=403, times=1)  # Missing Permissions: for good
        refusals = lambda: [c for c in fake.calls("POST", route) if c.status == 403]  # noqa: E731
        await fake.wait_until(lambda: len(refusals()) == 1, timeout=5)
        await asyncio.sleep(0.5)
        await settle(fake, bot)
        assert len(channel()) == 1
        async with bot.sessions() as s:
            rows = {r.offset_seconds: r for r in await s.scalars(select(Rappel))}
            channel_deliveries = {
                d.rappel_id: d
                for d in await s.scalars(select(Livraison).where(Livraison.target == "channel"))
            }
        assert (rows[5].status, rows[2].status) == (RappelStatus.SENT, RappelStatus.FAILED)
        sent, refused = channel_deliveries[rows[5].id], channel_deliveries[rows[2].id]
        assert (sent.attempts, sent.status) == (2, DeliveryStatus.SENT)
        assert (refused.attempts, refused.status) == (1, DeliveryStatus.FAILED)
        assert refused.error.startswith("403 50013") and rows[2].error == refused.error

        # The same post sent again with its nonce (a retry after a lost answer): not duplicated.
        info = await bot.services.ateliers.get(atelier_id)
        claimed = ClaimedRappel(
            id=rows[5].id,
            kind=RappelKind.RAPPEL,
            offset=timedelta(seconds=5),
            due_at=rows[5].due_at,
            late=False,
            resumed=False,
            atelier=info,
            seance=info.seances[0],
            seance_number=1,
            attending=0,
        )
        (delivery,) = [
            d for d in await bot.services.rappels.deliveries(rows[5].id) if d.target == "channel"
        ]
        cog = bot.get_cog("RemindersCog")
        assert await cog.sender.transport.deliver(claimed, delivery) == retried.id
        assert len(channel()) == 1


async def test_after_the_last_seance_a_follow_up_in_the_atelier_thread(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url, "1h")) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id
        thread = fake.add_thread(chantier.channel_id, "Gestion des actifs")
        atelier_id = await new_atelier(bot, server, bot.clock.now() + timedelta(hours=3))
        # The announcement (an outbox row) is posted first: its delivery records its own thread,
        # which would otherwise replace the test's when it comes late on a loaded machine.
        await settle(fake, bot)
        await bot.services.ateliers.set_announcement(
            atelier_id, channel_id=chantier.channel_id, message_id=None, thread_id=thread.id
        )
        await register(bot, server, atelier_id, server.alice.id, dm=True)
        await settle(fake, bot)
        assert bot.scheduler.job_ids("reminder:") == []  # all beyond the scheduler's horizon
        # The follow-up (due 90 minutes after the start) brought forward in the table, as another
        # process would: the next sweep of the scheduler picks it up.
        async with bot.sessions.begin() as s:
            await s.execute(
                update(Rappel)
                .where(Rappel.kind == RappelKind.SUIVI)
                .values(due_at=bot.clock.now() + timedelta(seconds=1))
            )
        cog = bot.get_cog("RemindersCog")
        await cog.sweep()
        assert len(bot.scheduler.job_ids("reminder:")) == 1
        await fake.wait_until(lambda: fake.channel_messages(thread), timeout=5)
        await settle(fake, bot)
        (follow_up,) = fake.channel_messages(thread)
        assert follow_up.content.startswith(fr("Merci d'avoir participé à « Gestion des actifs »"))
        assert "ressources" in follow_up.content and follow_up.mention_role_ids == []
        (dm,) = fake.dms(server.alice)
        assert "Merci" in dm.content and f"<#{thread.id}>" in str(dm.embeds)
        assert rappels(fake.channel_messages(chantier.channel_id)) == []


async def test_a_british_readers_reminder_is_dated_day_first(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    """The language of a click is stored with its date order: a member who answered from an en-GB
    Discord gets later messages (here a DM reminder) with « Thursday 3 December »."""
    fake = fake_discord
    async with partage(fake, reminder_settings(fake, server, db_url, "4s")) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id
        start = (bot.clock.now() + timedelta(seconds=9)).replace(microsecond=0)
        atelier_id = await new_atelier(bot, server, start)
        await settle(fake, bot)
        (announcement,) = [
            m
            for m in fake.channel_messages(chantier.channel_id)
            if f"rsvp:{atelier_id}:oui" in m.custom_ids()
        ]
        await fake.click(
            announcement, f"rsvp:{atelier_id}:oui", user=server.alice, locale="en-GB"
        ).wait_answer(timeout=10)
        await bot.services.rappels.set_dm_reminders(server.guild.id, server.alice.id, True)
        async with bot.sessions() as session:
            stored = await session.scalar(
                select(Membre.locale).where(Membre.user_id == server.alice.id)
            )
        assert stored == "en-GB"
        await fake.wait_until(lambda: len(fake.dms(server.alice)) >= 1, timeout=12)
        local = start.astimezone(ZoneInfo(ZONE))
        british = f"{local:%A} {local.day} {local:%B} {local.year}"  # Thursday 3 December 2026
        reminder = fake.dms(server.alice)[0].content
        assert reminder.startswith("Reminder: ") and british in reminder, reminder
