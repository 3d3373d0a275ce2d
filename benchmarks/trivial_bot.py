"""The reference for the interaction benchmarks: a discord.py bot that answers ``/aide`` and
``/chantiers`` with a fixed ephemeral embed, no database, against the fake Discord named in the
environment (as ``tests/e2e/child_bot.py`` runs Partage). What Partage costs beyond this is
the price of its features; what this costs is discord.py's and the fake's floor.

    python -m benchmarks.trivial_bot   (started by benchmarks/interactions.py)
"""

from __future__ import annotations

import asyncio
import os
import sys

import discord
from discord import app_commands

from tests.fakediscord import install_from_env


class TrivialBot(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.none())
        self.guild = discord.Object(id=guild_id)
        self.tree = app_commands.CommandTree(self)
        embed = discord.Embed(title="Partage", description="Une réponse fixe.")

        @self.tree.command(name="aide", description="Aide")
        async def aide(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=embed, ephemeral=True)

        @self.tree.command(name="chantiers", description="Chantiers")
        async def chantiers(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=embed, ephemeral=True)

    async def setup_hook(self) -> None:
        self.tree.copy_global_to(guild=self.guild)
        await self.tree.sync(guild=self.guild)


async def main() -> None:
    bot = TrivialBot(int(os.environ["PARTAGE_DISCORD__GUILD_ID"]))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    if not install_from_env():
        sys.exit("trivial_bot: no fake Discord in the environment")
    asyncio.run(main())
