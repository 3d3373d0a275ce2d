"""The jumelage on the fake Discord, time driven by the bot's clock: a round of seven from four
municipalities, the odd one handled and told, threads opened, check-ins a week later, no pair
repeated in the next round, pause and leave, and nobody without consent ever paired."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import combinations

from bot.clock import ManualClock
from tests.e2e.harness import Server, partage, settle
from tests.e2e.membres_world import give_profile, private_threads
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import Channel
from tests.french import fr

START = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
TOWNS = {
    "alice": ("Montréal", ["accueil-integration"]),
    "bob": ("Montréal", ["gouvernance"]),
    "claire": ("Laval", ["accueil-integration"]),
    "denis": ("Laval", ["gouvernance"]),
    "emma": ("Québec", ["accueil-integration", "gouvernance"]),
    "felix": ("Québec", []),
    "gaelle": ("Gatineau", ["gouvernance"]),
}


def _groups(fake: FakeDiscord, threads: list[Channel], people: set[int]) -> list[frozenset[int]]:
    return [frozenset(set(t.member_ids) & people) for t in threads]


def _edges(groups: list[frozenset[int]]) -> set[frozenset[int]]:
    return {frozenset(e) for g in groups for e in combinations(sorted(g), 2)}


async def test_rounds_threads_checkins_and_no_repeat(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    members = {"alice": server.alice, "bob": server.bob}
    for name in ("claire", "denis", "emma", "felix", "gaelle"):
        members[name] = fake.add_member(guild, name)
    dave = fake.add_member(guild, "dave")  # never consents
    clock = ManualClock(START)
    town_of = {members[n].user.id: town for n, (town, _) in TOWNS.items()}
    people = set(town_of)
    async with partage(fake, settings, clock=clock) as bot:
        cog = bot.get_cog("JumelageCog")
        cog.rng = random.Random(7)
        for name, (town, chantiers) in TOWNS.items():
            await give_profile(
                bot, guild, members[name], municipalite=town, chantiers=chantiers, visible=False
            )
        for member in members.values():
            joined = await fake.slash(
                "jumelage",
                user=member,
                channel=server.general,
                options={"participer": True},
                locale="fr",
            ).response()
            assert "C'est noté.\nVous participez au jumelage." in joined.data["content"]
        await bot.services.rappels.set_dm_reminders(guild.id, dave.user.id, True)
        refused = await fake.slash(
            "jumelage", user=dave, channel=server.general, options={"participer": True}, locale="fr"
        ).response()
        assert refused.data["embeds"][0]["title"] == "Votre consentement"

        await cog.tick()  # not due yet: the first round comes a cadence after the first to join
        assert private_threads(fake, guild) == []

        # --- the first round ---
        clock.advance(timedelta(days=14))
        await cog.tick()
        await settle(fake, bot)
        first_threads = private_threads(fake, guild)
        first = _groups(fake, first_threads, people)
        placed = [u for g in first for u in g]
        assert len(placed) == len(set(placed))
        for group in first:
            assert len({town_of[u] for u in group}) == len(group), "paired with their own town"
        left = people - set(placed)
        sizes = sorted(len(g) for g in first)
        assert sizes == [2, 2, 3] or (sizes == [2, 2, 2] and len(left) == 1)
        for thread, group in zip(first_threads, first, strict=True):
            opening = fake.channel_messages(thread)[0]
            assert all(f"<@{u}>" in opening.content for u in group)
            assert fr("Pour briser la glace :") in opening.content
            assert ("Vous êtes trois" in opening.content) == (len(group) == 3)
            assert fake.channels[thread.parent_id].name in (
                "general",
                "gouvernance",
                "accueil-integration",
            )
        for user_id in left:  # the odd one out is told by DM
            (notice,) = fake.dms(user_id)
            assert "le nombre de participants était impair" in notice.content
        assert all(dave.user.id not in t.member_ids for t in first_threads)

        # --- the check-in, a week later, once ---
        clock.advance(timedelta(days=7))
        await cog.tick()
        await cog.tick()
        await settle(fake, bot)
        for thread in first_threads:
            checkins = [
                m for m in fake.channel_messages(thread) if "avez-vous pu échanger" in m.content
            ]
            assert len(checkins) == 1
            assert f"jumelage:pause:{guild.id}" in checkins[0].custom_ids()
        assert len(private_threads(fake, guild)) == len(first_threads)  # no round yet

        # --- the second round: no pair of the first comes back ---
        clock.advance(timedelta(days=7))
        await cog.tick()
        await settle(fake, bot)
        second_threads = [t for t in private_threads(fake, guild) if t not in first_threads]
        second = _groups(fake, second_threads, people)
        assert second, "the second round opened no thread"
        assert not (_edges(first) & _edges(second)), "a pair of the first round came back"
        for group in second:
            assert len({town_of[u] for u in group}) == len(group)
        assert sum(len(g) for g in second) >= 6

        # --- pause and leave ---
        alice, bob = members["alice"], members["bob"]
        status = fake.slash("jumelage", user=alice, channel=server.general, locale="fr")
        assert "Prochain tour" in (await status.response()).data["content"]
        paused = await fake.click(
            status.message, f"jumelage:pause:{guild.id}", user=alice, locale="fr"
        ).response()
        assert paused.type == 7 and "en pause jusqu'au" in paused.data["content"]
        bob_thread = next(t for t in second_threads if bob.user.id in t.member_ids)
        checkin_or_opening = next(m for m in fake.channel_messages(bob_thread) if m.custom_ids())
        left_handle = fake.click(
            checkin_or_opening, f"jumelage:quitter:{guild.id}", user=bob, locale="fr"
        )
        quit_reply = await left_handle.response()
        assert quit_reply.ephemeral and "quitté le jumelage" in quit_reply.data["content"]

        clock.advance(timedelta(days=14))
        await cog.tick()
        await settle(fake, bot)
        known = set(first_threads) | set(second_threads)
        third_threads = [t for t in private_threads(fake, guild) if t not in known]
        third = _groups(fake, third_threads, people)
        assert third
        assert all(alice.user.id not in g and bob.user.id not in g for g in third)
        assert all(dave.user.id not in t.member_ids for t in private_threads(fake, guild))


async def test_the_odd_one_without_a_possible_trio_is_told_by_dm(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    carol = fake.add_member(guild, "carol")
    clock = ManualClock(START)
    async with partage(fake, settings, clock=clock) as bot:
        cog = bot.get_cog("JumelageCog")
        cog.rng = random.Random(1)
        for member, town in ((server.alice, "Montréal"), (server.bob, "Laval"), (carol, "laval")):
            await give_profile(bot, guild, member, municipalite=town, visible=False)
            await fake.slash(
                "jumelage",
                user=member,
                channel=server.general,
                options={"participer": True},
                locale="fr",
            ).response()
        clock.advance(timedelta(days=14))
        await cog.tick()
        await settle(fake, bot)
        (thread,) = private_threads(fake, guild)
        paired = set(thread.member_ids)
        assert server.alice.user.id in paired
        (left,) = {server.bob.user.id, carol.user.id} - paired
        (notice,) = fake.dms(left)
        assert "Vous aurez la priorité au prochain tour" in notice.content
        assert f"jumelage:quitter:{guild.id}" in notice.custom_ids()
        # The pair's thread is in the system channel: they share no chantier.
        assert thread.parent_id == server.general.id
