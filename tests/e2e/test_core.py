"""The real bot against the fake Discord: start-up, command sync, /aide in two languages."""

from __future__ import annotations

from tests.e2e.harness import Server, partage
from tests.fakediscord import FakeDiscord

GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


async def test_start_syncs_french_commands_with_english_localizations_once(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings):
        pass
    commands = {c.name: c for c in fake.commands(server.guild)}
    assert {"aide", "chantiers", "rejoindre", "quitter", "chantier"} <= set(commands)
    aide = commands["aide"].payload()
    assert aide["name_localizations"]["en-US"] == "help"
    assert aide["name_localizations"]["en-GB"] == "help"
    assert aide["description_localizations"]["en-US"]
    chantier = commands["chantier"].payload()
    subs = {o["name"]: o for o in chantier["options"]}
    assert subs["creer"]["name_localizations"]["en-US"] == "create"
    assert len(fake.calls("PUT", GUILD_COMMANDS)) == 1
    # A second start with the same commands does not sync again.
    async with partage(fake, settings) as bot:
        assert bot.synced_commands is False
    assert len(fake.calls("PUT", GUILD_COMMANDS)) == 1


async def test_aide_answers_in_the_callers_language(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings):
        fr = await fake.slash(
            "aide", user=server.alice, channel=server.general, locale="fr"
        ).response()
        en = await fake.slash(
            "aide", user=server.bob, channel=server.general, locale="en-US"
        ).response()
    assert fr.ephemeral and en.ephemeral
    fr_embed, en_embed = fr.data["embeds"][0], en.data["embeds"][0]
    assert fr_embed["title"] == "Partage, le bot de l'Opération Partage"
    assert en_embed["title"] == "Partage, the Opération Partage bot"
    fr_fields = {f["name"]: f["value"] for f in fr_embed["fields"]}
    en_fields = {f["name"]: f["value"] for f in en_embed["fields"]}
    assert "`/rejoindre`" in fr_fields["Vos commandes"]
    assert "`/join`" in en_fields["Your commands"]
    assert "Équipe d'animation" not in fr_fields  # alice is not staff


async def test_aide_lists_every_command_of_the_tree(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    """/aide is built from the command tree: every slash command the bot registers is in it,
    staff commands for staff only; nothing is kept in a separate list to drift."""
    from discord import app_commands

    from bot.interactions import is_staff_command

    fake = fake_discord
    async with partage(fake, settings) as bot:
        staff = await fake.slash(
            "aide", user=server.staff, channel=server.general, locale="fr"
        ).response()
        member = await fake.slash(
            "aide", user=server.alice, channel=server.general, locale="fr"
        ).response()
        commands = [c for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)]
    shown_to_staff = "\n".join(f["value"] for f in staff.data["embeds"][0]["fields"])
    shown_to_member = "\n".join(f["value"] for f in member.data["embeds"][0]["fields"])
    assert len(commands) >= 20
    for command in commands:
        mark = f"`/{command.qualified_name}`"
        assert mark in shown_to_staff, mark
        assert (mark in shown_to_member) is not is_staff_command(command), mark
    assert "`/partage salon-resume`" in shown_to_staff
    assert "`/profil supprimer`" in shown_to_member
