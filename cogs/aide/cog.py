"""/aide: what Partage does, its commands and the chantiers, in the caller's language."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import p_
from bot.i18n import Translations
from bot.interactions import NO_MENTIONS, bot_of, is_staff, is_staff_command, tr_of

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

EMBED_COLOUR = discord.Colour.from_rgb(0, 98, 155)
FIELD_MAX = 1024


def command_lines(
    tr: Translations, tree: app_commands.CommandTree[Any], *, staff: bool
) -> list[str]:
    """``/name — description`` for every slash command of the tree, as Discord registers it
    (the tree is the one vocabulary: a new command appears here without a list to keep),
    member commands or staff ones, in the reader's language."""
    lines = []
    for command in tree.walk_commands():
        if not isinstance(command, app_commands.Command) or is_staff_command(command) != staff:
            continue
        name = " ".join(tr.p_("command-name", part) for part in command.qualified_name.split())
        description = tr.p_("command-description", command.description)
        lines.append(f"`/{name}` — {description}")
    return lines


def _fields(lines: list[str]) -> list[str]:
    """Lines joined into embed field values of at most ``FIELD_MAX`` characters."""
    blocks: list[str] = []
    for line in lines:
        if blocks and len(blocks[-1]) + 1 + len(line) <= FIELD_MAX:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line[:FIELD_MAX])
    return blocks


class AideCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=p_("command-name", "aide"),
        description=p_(
            "command-description", "Ce que fait Partage, ses commandes et les chantiers"
        ),
    )
    @app_commands.guild_only()
    async def aide(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        bot = bot_of(interaction)
        guild_id = interaction.guild_id or 0
        chantiers = await bot.services.chantiers.chantiers(guild_id)
        embed = discord.Embed(
            title=tr._("Partage, le bot de l'Opération Partage"),
            description=tr._(
                "Partage réunit les professionnels municipaux de l'immigration, de l'accueil, "
                "de l'intégration et des relations interculturelles du Québec entre les "
                "ateliers : un salon par chantier, les annonces d'ateliers, l'inscription en un "
                "clic, des rappels à l'heure et des collègues d'autres municipalités à qui parler."
            ),
            colour=EMBED_COLOUR,
        )
        sections = [(tr._("Vos commandes"), False)]
        if is_staff(interaction.user, bot.settings.discord.staff_role):
            sections.append((tr._("Équipe d'animation"), True))
        for title, staff in sections:
            for i, value in enumerate(_fields(command_lines(tr, bot.tree, staff=staff))):
                embed.add_field(name=title if i == 0 else "\u200b", value=value, inline=False)
        if chantiers:
            lines = [
                f"{c.label} — <#{c.channel_id}>" if c.channel_id else c.label for c in chantiers
            ]
            embed.add_field(name=tr._("Les chantiers"), value="\n".join(lines)[:1024], inline=False)
        embed.set_footer(
            text=tr._("Rejoignez un chantier avec /rejoindre ; répondez aux ateliers d'un clic.")
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
