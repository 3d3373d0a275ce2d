"""``/attestation atelier``: a member who came to an atelier gets an attestation de
participation as a PDF, in their language, with their name as they type it in a short form
(prefilled with their Discord name). A member who did not come is told so at once."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import atelier_choices, parse_atelier_id
from bot.command_text import p_
from bot.interactions import PartageModal, bot_of, reply, tr_of
from cogs.attestations.service import NOM_MAX
from cogs.chantiers.service import slugify

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)


def file_name(titre: str) -> str:
    """« attestation-territoire-et-immigration.pdf »: ASCII, no spaces."""
    return f"attestation-{slugify(titre) or 'atelier'}.pdf"


class NameModal(PartageModal):
    """One field: the name as it must appear on the attestation."""

    def __init__(self, bot: PartageBot, interaction: discord.Interaction, atelier_id: int) -> None:
        tr = tr_of(interaction)
        super().__init__(title=tr._("Attestation de participation")[:45], timeout=600)
        self.bot = bot
        self.atelier_id = atelier_id
        self.nom = discord.ui.TextInput(
            custom_id="attestation:nom",
            label=tr._("Votre nom sur l'attestation")[:45],
            default=getattr(interaction.user, "display_name", None),
            max_length=NOM_MAX,
            required=True,
        )
        self.add_item(self.nom)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        attestation = await self.bot.services.attestations.issue(
            interaction.guild_id or 0, self.atelier_id, interaction.user.id, self.nom.value
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        # fpdf2 (with fontTools) takes over a third of a second to import: loaded on the first
        # attestation, not at every start of the bot.
        from cogs.attestations.pdf import attestation_pdf

        data = await asyncio.to_thread(attestation_pdf, tr, attestation)
        await reply(
            interaction,
            tr._(
                "Voici votre attestation de participation à « {titre} ».",
                titre=attestation.titre,
            ),
            file=discord.File(io.BytesIO(data), filename=file_name(attestation.titre)),
        )


class AttestationsCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=p_("command-name", "attestation"),
        description=p_(
            "command-description", "Votre attestation de participation (PDF) à un atelier suivi"
        ),
    )
    @app_commands.describe(atelier=p_("option-description", "L'atelier que vous avez suivi"))
    @app_commands.guild_only()
    async def attestation(self, interaction: discord.Interaction, atelier: str) -> None:
        atelier_id = parse_atelier_id(atelier)
        await bot_of(interaction).services.attestations.check(
            interaction.guild_id or 0, atelier_id, interaction.user.id
        )
        await interaction.response.send_modal(NameModal(self.bot, interaction, atelier_id))

    @attestation.autocomplete("atelier")
    async def _atelier_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current, upcoming_only=False)
