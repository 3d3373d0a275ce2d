"""/programme importer: many ateliers at once from a CSV or TOML attachment (staff)."""

from __future__ import annotations

import io
import logging
from pathlib import PurePath
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import p_
from bot.errors import InvalidInput
from bot.interactions import STAFF_DEFAULT_PERMISSIONS, reply, staff_only, tr_of
from cogs.programme.report import report_lines
from cogs.programme.service import BAD_EXTENSION, MAX_BYTES, TOO_LARGE

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

REPLY_MAX = 1900


class ProgrammeCog(commands.Cog):
    programme = app_commands.Group(
        name=p_("command-name", "programme"),
        description=p_("command-description", "Gérer le programme (équipe d'animation)"),
        guild_only=True,
        default_permissions=STAFF_DEFAULT_PERMISSIONS,
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.imports = bot.services.imports

    @programme.command(
        name=p_("command-name", "importer"),
        description=p_(
            "command-description", "Importer plusieurs ateliers d'un fichier CSV ou TOML"
        ),
    )
    @app_commands.describe(
        fichier=p_("option-description", "Le fichier du programme (CSV ou TOML)")
    )
    @staff_only()
    async def importer(self, interaction: discord.Interaction, fichier: discord.Attachment) -> None:
        tr = tr_of(interaction)
        name = fichier.filename
        # Refused before downloading anything: the service checks the same on the bytes.
        if PurePath(name).suffix.lower() not in (".csv", ".toml"):
            raise InvalidInput(BAD_EXTENSION, fichier=name)
        if fichier.size > MAX_BYTES:
            raise InvalidInput(
                TOO_LARGE, fichier=name, taille=-(-fichier.size // 1024), max=MAX_BYTES // 1024
            )

        # Acknowledged first: a file takes one transaction per atelier, more than Discord's
        # 3 s for a long one. Each atelier is saved with its announcement, under a key, so a
        # stopped import is finished by importing the same file again (rows already in are
        # skipped); "thinking…" says nothing of the result.
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.imports.import_file(
            interaction.guild_id or 0,
            name,
            await fichier.read(),
            zone=self.bot.zone,
            allow_past=False,
            actor_user_id=interaction.user.id,
        )
        text = "\n".join(report_lines(tr, report))
        if len(text) <= REPLY_MAX:
            await reply(interaction, text)
            return
        summary = report_lines(tr, report)[0]
        report_file = discord.File(
            io.BytesIO(text.encode("utf-8-sig")), filename=f"{PurePath(name).stem}-rapport.txt"
        )
        await reply(interaction, summary, file=report_file)
