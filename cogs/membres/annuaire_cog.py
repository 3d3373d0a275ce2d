"""The directory on Discord: /annuaire, its pages, proposing a conversation and answering one.

The invited member gets the proposal by DM (or, DMs closed, a mention in the first chantier
channel both share, else the system channel) with « Accepter » / « Décliner »; accepting opens
a private thread with both in that same channel, and the thread is stored with the proposal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import chantier_choices
from bot.command_text import p_
from bot.errors import N_, NotFound
from bot.i18n import Translations
from bot.interactions import locale_of, reply, tr_of
from bot.threads import (
    distinct,
    meeting_channel,
    member_name,
    open_private_thread,
    send_dm,
    send_in_channel,
)
from cogs.membres.annuaire import ProposalInfo
from cogs.membres.cog import guild_id_of
from cogs.membres.noms import fold, normalize_municipalite, parse_region
from cogs.membres.render import annuaire_embed, conversation_intro, proposal_text
from cogs.membres.views import Filters, annuaire_view, answer_view
from db.models import Region

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

PER_PAGE = 4  # one « propose » button per row, the page buttons on the fifth


class AnnuaireCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.profils = bot.services.profils
        self.annuaire = bot.services.annuaire

    # --- the directory -----------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "annuaire"),
        description=p_("command-description", "Trouver des collègues inscrits à l'annuaire"),
    )
    @app_commands.describe(
        region=p_("option-description", "La région administrative"),
        chantier=p_("option-description", "Un chantier qui les intéresse"),
        municipalite=p_("option-description", "La municipalité"),
        mot_cle=p_("option-description", "Un mot de leur rôle ou de leur expertise"),
    )
    @app_commands.rename(mot_cle="mot-cle")
    @app_commands.guild_only()
    async def annuaire_command(
        self,
        interaction: discord.Interaction,
        region: str | None = None,
        chantier: str | None = None,
        municipalite: app_commands.Range[str, 1, 100] | None = None,
        mot_cle: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        chantier_id = None
        if chantier and chantier.strip():
            found = await self.bot.services.chantiers.by_slug(guild_id, chantier.strip())
            if found is None:
                raise NotFound(N_("Le chantier « {slug} » n'existe pas."), slug=chantier[:40])
            chantier_id = found.id
        filters = Filters(
            region=parse_region(region).code if region and region.strip() else "",
            chantier_id=chantier_id,
            municipalite=normalize_municipalite(municipalite) if municipalite else "",
            mot_cle=" ".join((mot_cle or "").split()),
        )
        await self.show_page(interaction, filters, 0, new=True)

    async def show_page(
        self, interaction: discord.Interaction, filters: Filters, page: int, *, new: bool = False
    ) -> None:
        tr = tr_of(interaction)
        guild_id = guild_id_of(interaction)
        found = await self.annuaire.search(
            guild_id,
            region=filters.region or None,
            chantier_id=filters.chantier_id,
            municipalite=filters.municipalite or None,
            mot_cle=filters.mot_cle or None,
            page=page,
            per_page=PER_PAGE,
            exclude_user_id=interaction.user.id,
        )
        chantiers = {
            c.id: c.nom
            for c in await self.bot.services.chantiers.chantiers(guild_id, include_archived=True)
        }
        names = [member_name(interaction.guild, e.user_id, e.display_name) for e in found.entries]
        embed = annuaire_embed(tr, found, names, chantiers, describe(tr, filters, chantiers))
        view = annuaire_view(tr, found, names, filters)
        log.info(
            "guild %s: user %s searched the directory (%d found, page %d)",
            guild_id,
            interaction.user.id,
            found.total,
            found.page,
        )
        if new:
            await reply(interaction, embed=embed, view=view)
        else:
            await interaction.response.edit_message(embed=embed, view=view)

    @annuaire_command.autocomplete("region")
    async def _region_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = fold(current)
        return [
            app_commands.Choice(name=f"{r.code} – {r.nom}", value=r.code)
            for r in Region
            if needle in fold(r.nom) or r.code.startswith(needle)
        ][:25]

    @annuaire_command.autocomplete("chantier")
    async def _chantier_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)

    @annuaire_command.autocomplete("municipalite")
    async def _municipalite_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        known = await self.profils.known_municipalities(interaction.guild_id, current)
        return [app_commands.Choice(name=m[:100], value=m[:100]) for m in known]

    # --- proposals -----------------------------------------------------------------------------

    async def propose(self, interaction: discord.Interaction, to_user_id: int) -> None:
        tr = tr_of(interaction)
        guild = interaction.guild
        if guild is None:
            raise app_commands.NoPrivateMessage()
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = interaction.user
        info = await self.annuaire.propose(
            guild.id,
            user.id,
            to_user_id,
            display_name=user.display_name,
            locale=locale_of(interaction),
        )
        name = member_name(guild, to_user_id)
        where = await self._deliver(guild, info, user.display_name)
        if where is None:
            text = tr._(
                "Votre proposition est enregistrée, mais Partage n'a pas pu joindre {nom} : "
                "ni message privé, ni salon disponible. L'équipe d'animation a été prévenue "
                "dans le journal.",
                nom=name,
            )
        elif isinstance(where, discord.DMChannel):
            text = tr._(
                "Proposition envoyée à {nom} par message privé. Si la personne accepte, un "
                "fil privé s'ouvrira avec vous deux.",
                nom=name,
            )
        else:
            text = tr._(
                "{nom} ne reçoit pas de messages privés : la proposition l'attend dans {salon}. "
                "Si la personne accepte, un fil privé s'ouvrira avec vous deux.",
                nom=name,
                salon=f"<#{where.id}>",
            )
        await reply(interaction, text)

    async def _deliver(
        self, guild: discord.Guild, info: ProposalInfo, sender_name: str
    ) -> discord.abc.Messageable | None:
        """By DM in the invited member's language; DMs closed, a mention in a channel."""
        tr = self.bot.i18n.for_locale(info.to_locale)
        sender_profile = await self.profils.get(guild.id, info.from_user_id)
        text = proposal_text(tr, info, sender_name, sender_profile, guild.name)
        what = f"guild {guild.id}: proposal {info.id}"
        message = await send_dm(
            self.bot, info.to_user_id, text, view=answer_view(tr, info.id), what=what
        )
        if message is not None:
            return message.channel  # type: ignore[return-value]
        channel = await meeting_channel(self.bot, guild, await self._shared_chantiers(info))
        if channel is not None and await send_in_channel(
            channel, [info.to_user_id], text, view=answer_view(tr, info.id), what=what
        ):
            return channel
        log.warning("%s: user %s could not be reached", what, info.to_user_id)
        return None

    async def answer(
        self, interaction: discord.Interaction, proposal_id: int, accepted: bool
    ) -> None:
        tr = tr_of(interaction)
        if not accepted:
            await self.annuaire.decline(proposal_id, interaction.user.id)
            await interaction.response.edit_message(
                content=tr._("Vous avez décliné cette proposition de conversation."), view=None
            )
            return
        info = await self.annuaire.accept(proposal_id, interaction.user.id)
        await interaction.response.defer()
        thread = await self.open_thread(info)
        if thread is None:
            text = tr._(
                "Vous avez accepté, mais Partage n'a pas pu ouvrir le fil privé (permission "
                "manquante ?). L'équipe d'animation a été prévenue dans le journal."
            )
        else:
            text = tr._(
                "Vous avez accepté : votre fil privé est ouvert, {fil}.", fil=thread.mention
            )
        await interaction.edit_original_response(content=text, view=None)

    async def open_thread(self, info: ProposalInfo) -> discord.Thread | None:
        """A private thread with both, in the first chantier channel they share (else the
        system channel); stored with the proposal."""
        what = f"guild {info.guild_id}: proposal {info.id}"
        guild = self.bot.get_guild(info.guild_id)
        channel = (
            await meeting_channel(self.bot, guild, await self._shared_chantiers(info))
            if guild is not None
            else None
        )
        if guild is None or channel is None:
            log.warning("%s: no channel to open the conversation in", what)
            return None
        users = [info.from_user_id, info.to_user_id]
        names = [member_name(guild, u) for u in users]
        trs = [self.bot.i18n.for_locale(loc) for loc in distinct(info.to_locale, info.from_locale)]
        content = "\n\n".join(conversation_intro(t, names) for t in trs)
        title = trs[0]._("Conversation : {noms}", noms=" · ".join(names))
        thread = await open_private_thread(channel, title, users, content, what=what)
        if thread is not None:
            await self.annuaire.set_thread(info.id, thread.id)
        return thread

    async def _shared_chantiers(self, info: ProposalInfo) -> list[int]:
        mine = await self.profils.get(info.guild_id, info.from_user_id)
        theirs = await self.profils.get(info.guild_id, info.to_user_id)
        if mine is None or theirs is None:
            return []
        return sorted(set(mine.chantier_ids) & set(theirs.chantier_ids))


def describe(tr: Translations, filters: Filters, chantiers: dict[int, str]) -> str:
    """The filters of a search, in a line."""
    parts = []
    region = next((r for r in Region if r.code == filters.region), None)
    if region is not None:
        parts.append(tr._("région : {region}", region=region.nom))
    if filters.chantier_id is not None and filters.chantier_id in chantiers:
        parts.append(tr._("chantier : {chantier}", chantier=chantiers[filters.chantier_id]))
    if filters.municipalite:
        parts.append(tr._("municipalité : {municipalite}", municipalite=filters.municipalite))
    if filters.mot_cle:
        parts.append(tr._("mot-clé : « {mot} »", mot=filters.mot_cle))
    return tr._("Filtres : {filtres}", filtres=" · ".join(parts)) if parts else ""
