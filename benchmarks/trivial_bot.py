"""The reference for the interaction and burst benchmarks: a discord.py bot doing the least a
bot can, against the fake Discord named in the environment (as ``tests/e2e/child_bot.py`` runs
Partage). What Partage costs beyond this is the price of its features; what this costs is
discord.py's and the fake's floor.

- ``/aide`` and ``/chantiers``: a fixed ephemeral embed, no database.
- With ``BENCH_CLICKS_DB`` (a database URL): it posts one message with a « Oui » button
  (``rsvp:1:oui``); each click is acknowledged at once (ephemeral "thinking…"), saved as one
  row in its own transaction (same engine factory and driver as Partage), then answered by
  editing the acknowledgement. No rules, no waiting list, no announcement to refresh.

    python -m benchmarks.trivial_bot   (started by benchmarks/interactions.py, rsvp_burst.py)
"""

from __future__ import annotations

import asyncio
import os
import sys

import discord
from discord import app_commands
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import create_engine
from tests.fakediscord import install_from_env

clicks = Table(
    "bench_clicks",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
)


class Oui(discord.ui.View):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(timeout=None)
        self.engine = engine

    @discord.ui.button(label="Oui", custom_id="rsvp:1:oui", style=discord.ButtonStyle.success)
    async def oui(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.engine.begin() as conn:
            await conn.execute(clicks.insert().values(user_id=interaction.user.id))
        await interaction.edit_original_response(content="C'est noté.")


class TrivialBot(discord.Client):
    def __init__(self, guild_id: int, clicks_db: str | None) -> None:
        super().__init__(intents=discord.Intents(guilds=True))
        self.guild = discord.Object(id=guild_id)
        self.tree = app_commands.CommandTree(self)
        self.engine = create_engine(clicks_db) if clicks_db else None
        self.posted = False
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
        if self.engine is not None:
            async with self.engine.begin() as conn:
                await conn.run_sync(clicks.metadata.create_all)

    async def on_ready(self) -> None:
        if self.engine is None or self.posted:
            return
        self.posted = True
        guild = self.get_guild(self.guild.id)
        assert guild is not None and guild.text_channels
        await guild.text_channels[0].send("Banc d'essai", view=Oui(self.engine))


async def main() -> None:
    bot = TrivialBot(
        int(os.environ["PARTAGE_DISCORD__GUILD_ID"]), os.environ.get("BENCH_CLICKS_DB")
    )
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    if not install_from_env():
        sys.exit("trivial_bot: no fake Discord in the environment")
    asyncio.run(main())
