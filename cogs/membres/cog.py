"""Profiles on Discord: /profil voir|modifier|supprimer, consent first, the profile form.

Consent is asked (plain French, the purpose, withdrawable) before anything is stored; the form
is a modal; the card shows what was saved, normalized. /profil supprimer erases everything
(``PrivacyService.erase``) after a confirmation. The directory is in ``annuaire_cog.py``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import command, p_
from bot.interactions import locale_of, reply, tr_of
from bot.ports import ConsentPrompt
from bot.threads import member_name
from cogs.membres.form import ProfilModal
from cogs.membres.noms import near_official
from cogs.membres.render import consent_embed, erase_done_text, profile_embed
from cogs.membres.service import CONSENT_VERSION, ProfilChanges, ProfilInfo
from cogs.membres.views import DYNAMIC_ITEMS, consent_view, erase_view, profile_view

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)


def guild_id_of(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


class ProfilCog(commands.Cog):
    profil = app_commands.Group(
        name=p_("command-name", "profil"),
        description=p_("command-description", "Votre profil de membre"),
        guild_only=True,
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.profils = bot.services.profils
        self.privacy = bot.services.privacy

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.ports.provide(ConsentPrompt, self)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    # --- commands ----------------------------------------------------------------------------

    @profil.command(
        name=p_("command-name", "voir"), description=p_("command-description", "Voir votre profil")
    )
    async def voir(self, interaction: discord.Interaction) -> None:
        info = await self.profils.get(guild_id_of(interaction), interaction.user.id)
        if info is None:
            tr = tr_of(interaction)
            await self.ask_consent(interaction, tr._("Vous n'avez pas encore de profil."))
            return
        await reply(interaction, **await self._card(interaction, info))

    @profil.command(
        name=p_("command-name", "modifier"),
        description=p_("command-description", "Remplir ou modifier votre profil"),
    )
    async def modifier(self, interaction: discord.Interaction) -> None:
        await self.open_form(interaction)

    @profil.command(
        name=p_("command-name", "supprimer"),
        description=p_("command-description", "Supprimer votre profil"),
    )
    async def supprimer(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        await reply(
            interaction,
            tr._(
                "Tout effacer ? Partage supprimera votre profil, votre participation au "
                "jumelage, vos propositions de conversation et vos inscriptions aux ateliers à "
                "venir. Vos inscriptions aux ateliers passés resteront comptées, sans votre nom "
                "ni votre identifiant Discord. C'est définitif."
            ),
            view=erase_view(tr),
        )

    # --- consent and the form ----------------------------------------------------------------

    async def ask_consent(self, interaction: discord.Interaction, lead: str | None = None) -> None:
        tr = tr_of(interaction)
        await reply(interaction, embed=consent_embed(tr, lead), view=consent_view(tr))

    async def open_form(self, interaction: discord.Interaction) -> None:
        """The form, with the profile's current values; consent first if there is none."""
        guild_id = guild_id_of(interaction)
        info = await self.profils.get(guild_id, interaction.user.id)
        if info is None:
            await self.ask_consent(interaction)
            return
        await self._send_form(interaction, info)

    async def _send_form(self, interaction: discord.Interaction, info: ProfilInfo) -> None:
        chantiers = await self.bot.services.chantiers.chantiers(guild_id_of(interaction))
        await interaction.response.send_modal(ProfilModal(tr_of(interaction), info, chantiers))

    async def on_consent(
        self, interaction: discord.Interaction, version: str, accepted: bool
    ) -> None:
        tr = tr_of(interaction)
        guild_id = guild_id_of(interaction)
        user = interaction.user
        if not accepted:
            if await self.profils.get(guild_id, user.id) is not None:
                text = tr._(
                    "Vous avez déjà donné votre consentement. Pour le retirer et tout "
                    "effacer : {commande}.",
                    commande=command(tr, "profil supprimer"),
                )
            else:
                text = tr._(
                    "Entendu : Partage ne conserve aucun renseignement de profil sur vous. "
                    "Vous pourrez changer d'avis en tout temps avec {commande}.",
                    commande=command(tr, "profil modifier"),
                )
            await interaction.response.edit_message(content=text, embed=None, view=None)
            return
        if version != CONSENT_VERSION:
            lead = tr._("Le texte du consentement a changé depuis ; le voici.")
            await interaction.response.edit_message(
                embed=consent_embed(tr, lead), view=consent_view(tr)
            )
            return
        info = await self.profils.give_consent(
            guild_id,
            user.id,
            version=version,
            display_name=user.display_name,
            locale=locale_of(interaction),
        )
        log.info("guild %s: user %s consented (version %s)", guild_id, user.id, version)
        await self._send_form(interaction, info)

    async def save_form(
        self, interaction: discord.Interaction, changes: ProfilChanges, typed: str
    ) -> None:
        """The form was submitted: save, then show what was saved (normalized)."""
        tr = tr_of(interaction)
        guild_id = guild_id_of(interaction)
        info = await self.profils.update(guild_id, interaction.user.id, changes)
        lines = [tr._("Profil enregistré.")]
        typed = " ".join(typed.split())
        if typed and info.municipalite and typed != info.municipalite:
            lines.append(
                tr._(
                    "Municipalité enregistrée sous « {municipalite} » (vous aviez écrit "
                    "« {saisie} »).",
                    municipalite=info.municipalite,
                    saisie=typed[:100],
                )
            )
        if info.municipalite and (guess := near_official(info.municipalite)):
            lines.append(
                tr._(
                    "Vouliez-vous dire « {nom} » ? Si oui, corrigez-la avec {commande}.",
                    nom=guess,
                    commande=command(tr, "profil modifier"),
                )
            )
        if not info.visible_annuaire:
            lines.append(
                tr._(
                    "Vous ne paraissez pas dans l'annuaire : pour que vos collègues vous "
                    "trouvent, cliquez sur « Paraître dans l'annuaire »."
                )
            )
        await reply(interaction, "\n".join(lines), **await self._card(interaction, info))

    async def set_visibility(self, interaction: discord.Interaction, visible: bool) -> None:
        info = await self.profils.update(
            guild_id_of(interaction), interaction.user.id, ProfilChanges(visible_annuaire=visible)
        )
        log.info(
            "guild %s: user %s %s the directory",
            interaction.guild_id,
            interaction.user.id,
            "joined" if visible else "left",
        )
        tr = tr_of(interaction)
        text = (
            tr._("Vous paraissez maintenant dans l'annuaire.")
            if visible
            else tr._("Vous ne paraissez plus dans l'annuaire.")
        )
        await interaction.response.edit_message(content=text, **await self._card(interaction, info))

    async def _card(
        self, interaction: discord.Interaction, info: ProfilInfo
    ) -> dict[str, discord.Embed | discord.ui.View]:
        tr = tr_of(interaction)
        chantiers = await self.bot.services.chantiers.chantiers(
            guild_id_of(interaction), include_archived=True
        )
        name = member_name(interaction.guild, info.user_id, interaction.user.display_name)
        return {
            "embed": profile_embed(tr, info, {c.id: c.nom for c in chantiers}, name),
            "view": profile_view(tr, info.visible_annuaire),
        }

    # --- erasure -------------------------------------------------------------------------------

    async def on_erase(self, interaction: discord.Interaction, confirmed: bool) -> None:
        tr = tr_of(interaction)
        guild_id = guild_id_of(interaction)
        if not confirmed:
            await interaction.response.edit_message(
                content=tr._("Rien n'a été effacé."), embed=None, view=None
            )
            return
        await interaction.response.defer()
        result = await self.privacy.erase(guild_id, interaction.user.id)
        log.info(
            "guild %s: user %s erased their data (found %s, %d inscriptions kept pseudonymized)",
            guild_id,
            interaction.user.id,
            result.found,
            result.inscriptions_kept,
        )
        await interaction.edit_original_response(
            content=erase_done_text(tr, result.found, result.inscriptions_kept),
            embed=None,
            view=None,
        )
