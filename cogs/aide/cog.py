"""/aide: what Partage does, its commands and the chantiers, in the caller's language."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import DESCRIPTIONS
from bot.interactions import NO_MENTIONS, bot_of, is_staff, tr_of

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

EMBED_COLOUR = discord.Colour.from_rgb(0, 98, 155)
MEMBER_COMMANDS = (
    "chantiers",
    "rejoindre",
    "quitter",
    "ateliers",
    "rsvp",
    "mes-inscriptions",
    "rappels",
    "profil",
    "annuaire",
    "jumelage",
    "mes-donnees",
)
STAFF_COMMANDS = (
    "atelier creer",
    "atelier modifier",
    "atelier annuler",
    "atelier participants",
    "atelier annoncer",
    "chantier creer",
    "chantier archiver",
    "programme importer",
    "statistiques",
)


class AideCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot

    @app_commands.command(name="aide", description=DESCRIPTIONS["aide"])
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
        embed.add_field(
            name=tr._("Vos commandes"),
            value="\n".join(self._line(interaction, name) for name in MEMBER_COMMANDS),
            inline=False,
        )
        if is_staff(interaction.user, bot.settings.discord.staff_role):
            embed.add_field(
                name=tr._("Équipe d'animation"),
                value="\n".join(self._line(interaction, name) for name in STAFF_COMMANDS),
                inline=False,
            )
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

    def _line(self, interaction: discord.Interaction, qualified: str) -> str:
        """``/name — description`` in the caller's language (names come from the translator's
        catalog, so English speakers see /help, /workstreams…)."""
        tr = tr_of(interaction)
        name = " ".join(tr.p_("command-name", part) for part in qualified.split())
        description = tr.p_("command-description", DESCRIPTIONS[qualified])
        return f"`/{name}` — {description}"
