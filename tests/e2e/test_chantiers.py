"""Chantier spaces on the fake Discord: provisioning, joining, staff commands, failures."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import Server, bot_permissions_without, partage, settle
from tests.fakediscord import ChannelType, FakeDiscord
from tests.fakediscord.permissions import Perm
from tests.french import fr

SLUGS = ("gouvernance", "accueil-integration", "strategies-intervention")


def spaces(fake: FakeDiscord, server: Server) -> dict[str, list[str]]:
    guild = server.guild
    return {
        "categories": sorted(c.name for c in fake.channels_in(guild, type=ChannelType.CATEGORY)),
        "text": sorted(c.name for c in fake.channels_in(guild, type=ChannelType.TEXT)),
        "forums": sorted(c.name for c in fake.channels_in(guild, type=ChannelType.FORUM)),
        "roles": sorted(r.name for r in guild.roles.values()),
    }


async def test_provisioning_is_idempotent_and_recreates_deleted_spaces(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings):
        first = spaces(fake, server)
    assert first["text"] == sorted([*SLUGS, "general"])
    assert first["forums"] == sorted(f"{s}-questions" for s in SLUGS)
    assert len(first["categories"]) == 3
    assert "Stratégies d'intervention" in first["roles"]
    creations = len(fake.calls("POST", "/guilds/{guild_id}/channels"))
    assert creations == 9

    # Renamed by hand: kept (tracked by id). Restart: nothing new.
    channel = next(c for c in fake.channels_in(server.guild) if c.name == "gouvernance")
    channel.name = "gouvernance-renomme"
    fake.update_channel(channel)
    async with partage(fake, settings):
        pass
    assert len(fake.calls("POST", "/guilds/{guild_id}/channels")) == creations
    assert len(fake.calls("POST", "/guilds/{guild_id}/roles")) == 3

    # Deleted by hand while the bot runs: re-created at once.
    async with partage(fake, settings) as bot:
        fake.delete_channel(channel)
        await settle(fake, bot)
        await fake.wait_until(
            lambda: len(fake.calls("POST", "/guilds/{guild_id}/channels")) == creations + 1
        )
        await settle(fake, bot)
        assert "gouvernance" in [c.name for c in fake.channels_in(server.guild)]
    assert len(fake.calls("POST", "/guilds/{guild_id}/channels")) == creations + 1
    # Deleted while the bot is down: re-created at the next start.
    role = next(r for r in server.guild.roles.values() if r.name.startswith("Accueil"))
    fake.delete_role(server.guild, role)
    async with partage(fake, settings):
        pass
    assert len(fake.calls("POST", "/guilds/{guild_id}/roles")) == 4
    assert spaces(fake, server)["roles"] == first["roles"]


async def test_join_and_leave_by_command_and_select_menu(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        role_names = lambda: sorted(r.name for r in fake.member_roles(server.guild, server.alice))  # noqa: E731
        done = await fake.slash(
            "rejoindre",
            user=server.alice,
            channel=server.general,
            options={"chantier": "gouvernance"},
            locale="fr",
        ).response()
        assert "Bienvenue" in done.data["content"] and done.ephemeral
        assert role_names() == ["Politiques québécoises et gouvernance de l'immigration"]
        again = await fake.slash(
            "rejoindre",
            user=server.alice,
            channel=server.general,
            options={"chantier": "gouvernance"},
        ).response()
        assert "already" in again.data["content"]
        left = await fake.slash(
            "quitter",
            user=server.alice,
            channel=server.general,
            options={"chantier": "gouvernance"},
        ).response()
        assert "left" in left.data["content"]
        assert role_names() == []
        unknown = await fake.slash(
            "rejoindre", user=server.alice, channel=server.general, options={"chantier": "nope"}
        ).response()
        assert "does not exist" in unknown.data["content"]

        # Autocomplete offers the chantiers.
        choices = await fake.autocomplete(
            "rejoindre", user=server.alice, channel=server.general, focused="chantier", value="acc"
        ).response()
        assert [c["value"] for c in choices.data["choices"]] == ["accueil-integration"]

        # /chantiers lists them with a select menu; selecting joins and leaves.
        listing = fake.slash("chantiers", user=server.alice, channel=server.general, locale="fr")
        reply = await listing.response()
        embed = reply.data["embeds"][0]
        assert next(f["name"] for f in embed["fields"]).endswith("gouvernance de l'immigration")
        assert "0 membre" in embed["fields"][0]["value"]
        message = listing.message
        picked = await fake.select(
            message,
            "chantiers:select",
            ["gouvernance", "accueil-integration"],
            user=server.alice,
            locale="fr",
        ).response()
        assert "Rejoints" in picked.data["content"]
        assert len(role_names()) == 2
        await fake.select(
            message, "chantiers:select", ["accueil-integration"], user=server.alice
        ).response()
        assert role_names() == ["Accueil, intégration et enracinement"]
        await settle(fake, bot)
        counted = await fake.slash(
            "chantiers", user=server.bob, channel=server.general, locale="fr"
        ).response()
        values = [f["value"] for f in counted.data["embeds"][0]["fields"]]
        assert "1 membre" in values[1]


async def test_staff_only_chantier_commands(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings):
        before = len(fake.channels_in(server.guild))
        refused = await fake.slash(
            "chantier creer",
            user=server.alice,
            channel=server.general,
            options={"nom": "Petite enfance"},
            locale="fr",
        ).response()
        assert refused.ephemeral
        assert refused.data["content"] == "Cette commande est réservée à l'équipe d'animation."
        assert len(fake.channels_in(server.guild)) == before

        created = fake.slash(
            "chantier creer",
            user=server.staff,
            channel=server.general,
            options={"nom": "Petite enfance", "description": "0-5 ans", "emoji": "🧸"},
            locale="fr",
        )
        await created.wait_followups(1)
        assert fr("Chantier « Petite enfance » créé") in created.followups[0].content
        names = [c.name for c in fake.channels_in(server.guild)]
        assert "petite-enfance" in names and "petite-enfance-questions" in names

        archived = fake.slash(
            "chantier archiver",
            user=server.staff,
            channel=server.general,
            options={"chantier": "petite-enfance"},
        )
        await archived.wait_followups(1)
        assert "archived" in archived.followups[0].content
        channel = next(c for c in fake.channels_in(server.guild) if c.name == "petite-enfance")
        everyone = channel.overwrites[server.guild.id]
        assert everyone.deny & Perm.SEND_MESSAGES
        joined = await fake.slash(
            "rejoindre",
            user=server.alice,
            channel=server.general,
            options={"chantier": "petite-enfance"},
        ).response()
        assert "archived" in joined.data["content"]


async def test_rate_limits_and_server_errors_are_survived(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    fake.fail_next("POST", "/guilds/{guild_id}/channels", status=429, retry_after=0.2, times=2)
    fake.fail_next("POST", "/guilds/{guild_id}/roles", status=502, times=1)
    async with partage(fake, settings):
        pass
    assert fake.served_429 >= 2 and fake.served_5xx >= 1
    assert sorted(c.name for c in fake.channels_in(server.guild, type=ChannelType.TEXT)) == sorted(
        [*SLUGS, "general"]
    )
    assert len([r for r in server.guild.roles.values() if r.name.startswith("Politiques")]) == 1


async def test_missing_permission_is_reported_not_fatal(
    fake_discord: FakeDiscord, server: Server, settings, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_discord
    fake.set_bot_permissions(server.guild, bot_permissions_without(Perm.MANAGE_CHANNELS))
    with caplog.at_level(logging.ERROR, logger="cogs.chantiers.provision"):
        async with partage(fake, settings):
            aide = await fake.slash("aide", user=server.alice, channel=server.general).response()
    assert aide.data["embeds"]  # the bot still works
    errors = [r for r in caplog.records if "missing permissions" in r.getMessage()]
    assert len(errors) == 1
    notices = [m.content for m in fake.channel_messages(server.general)]
    assert len(notices) == 1 and "Gérer les salons" in notices[0]
    assert fake.channels_in(server.guild, type=ChannelType.FORUM) == []
