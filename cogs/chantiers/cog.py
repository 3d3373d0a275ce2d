"""Chantiers on Discord: provisioning, /chantiers, /rejoindre, /quitter, /chantier …"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import chantier_choices
from bot.command_text import p_
from bot.errors import N_, Conflict, NotFound
from bot.i18n import discord_timestamp
from bot.interactions import (
    NO_MENTIONS,
    STAFF_DEFAULT_PERMISSIONS,
    commit_then_defer,
    reply,
    staff_only,
    tr_of,
)
from cogs.chantiers.provision import Provisioner
from cogs.chantiers.service import ChantierInfo
from cogs.chantiers.views import ChantierSelect, chantier_select

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)


class ChantiersCog(commands.Cog):
    chantier = app_commands.Group(
        name=p_("command-name", "chantier"),
        description=p_("command-description", "Gérer les chantiers (équipe d'animation)"),
        guild_only=True,
        default_permissions=STAFF_DEFAULT_PERMISSIONS,
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.provisioner = Provisioner(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ChantierSelect)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ChantierSelect)

    # --- provisioning ---------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        for guild in self.bot.guilds:
            self.bot.tasks.spawn(
                self.provisioner.provision_guild(guild), name=f"provision:{guild.id}"
            )

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        log.info("joined guild %s", guild.id)
        self.bot.tasks.spawn(self.provisioner.provision_guild(guild), name=f"provision:{guild.id}")

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self._reprovision_owner(channel.guild, channel.id)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        await self._reprovision_owner(role.guild, role.id)

    async def _reprovision_owner(self, guild: discord.Guild, discord_id: int) -> None:
        for chantier in await self.bot.services.chantiers.chantiers(guild.id):
            if discord_id in (
                chantier.category_id,
                chantier.channel_id,
                chantier.forum_id,
                chantier.role_id,
            ):
                log.info(
                    "guild %s: %s of chantier %s deleted by hand; re-creating",
                    guild.id,
                    discord_id,
                    chantier.slug,
                )
                await self.provisioner.provision(guild, chantier)

    # --- members ---------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "chantiers"),
        description=p_(
            "command-description",
            "Les chantiers, avec leur salon, leurs membres et leur prochain atelier",
        ),
    )
    @app_commands.guild_only()
    async def chantiers(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        guild = interaction.guild
        assert guild is not None
        chantiers = await self.bot.services.chantiers.chantiers(guild.id)
        if not chantiers:
            await reply(interaction, tr._("Aucun chantier n'est encore ouvert sur ce serveur."))
            return
        embed = discord.Embed(title=tr._("Les chantiers de l'Opération Partage"))
        next_atelier = await self.bot.services.ateliers.next_by_chantier(guild.id)
        for c in chantiers[:25]:
            role = guild.get_role(c.role_id or 0)
            members = len(role.members) if role else 0
            lines = [c.description[:600]] if c.description else []
            if c.channel_id:
                lines.append(tr._("Salon : {salon}", salon=f"<#{c.channel_id}>"))
            lines.append(tr.n_("{n} membre", "{n} membres", members))
            nxt = next_atelier.get(c.id)
            if nxt is not None:
                titre, starts = nxt
                lines.append(
                    tr._(
                        "Prochain atelier : {titre}, {quand}",
                        titre=titre,
                        quand=discord_timestamp(starts, "F"),
                    )
                )
            else:
                lines.append(tr._("Aucun atelier à venir."))
            embed.add_field(name=c.label[:256], value="\n".join(lines)[:1024], inline=False)
        embed.set_footer(text=tr._("Choisissez vos chantiers dans le menu ci-dessous."))
        member_roles = {r.id for r in getattr(interaction.user, "roles", [])}
        await interaction.response.send_message(
            embed=embed,
            view=chantier_select(tr, chantiers, member_roles),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def apply_selection(self, interaction: discord.Interaction, slugs: list[str]) -> None:
        """The select menu: be in exactly the chantiers chosen."""
        tr = tr_of(interaction)
        member = interaction.user
        guild = interaction.guild
        if not isinstance(member, discord.Member) or guild is None:
            raise NotFound(N_("Cette commande s'utilise sur le serveur de l'Opération Partage."))
        wanted = set(slugs)
        added, removed = [], []
        for c in await self.bot.services.chantiers.chantiers(guild.id):
            role = guild.get_role(c.role_id or 0)
            if role is None:
                continue
            has = role in member.roles
            if c.slug in wanted and not has:
                await member.add_roles(role, reason="Partage: /chantiers")
                added.append(c.label)
            elif c.slug not in wanted and has:
                await member.remove_roles(role, reason="Partage: /chantiers")
                removed.append(c.label)
        if not added and not removed:
            text = tr._("Rien n'a changé.")
        else:
            parts = []
            if added:
                parts.append(tr._("Rejoints : {noms}", noms=", ".join(added)))
            if removed:
                parts.append(tr._("Quittés : {noms}", noms=", ".join(removed)))
            text = "\n".join(parts)
        await reply(interaction, text)

    @app_commands.command(
        name=p_("command-name", "rejoindre"),
        description=p_(
            "command-description",
            "Rejoindre un chantier (ses annonces et rappels vous mentionneront)",
        ),
    )
    @app_commands.describe(chantier=p_("option-description", "Le chantier à rejoindre"))
    @app_commands.guild_only()
    async def rejoindre(self, interaction: discord.Interaction, chantier: str) -> None:
        tr = tr_of(interaction)
        info, role, member = await self._role_for(interaction, chantier)
        if role in member.roles:
            await reply(
                interaction, tr._("Vous faites déjà partie du chantier « {nom} ».", nom=info.nom)
            )
            return
        await member.add_roles(role, reason="Partage: /rejoindre")
        log.info("guild %s: user %s joined chantier %s", info.guild_id, member.id, info.slug)
        where = f" <#{info.channel_id}>" if info.channel_id else ""
        await reply(
            interaction,
            tr._(
                "Bienvenue dans le chantier « {nom} » ! Ses annonces et rappels vous "
                "mentionneront.{salon}",
                nom=info.nom,
                salon=where,
            ),
        )

    @app_commands.command(
        name=p_("command-name", "quitter"),
        description=p_("command-description", "Quitter un chantier"),
    )
    @app_commands.describe(chantier=p_("option-description", "Le chantier à quitter"))
    @app_commands.guild_only()
    async def quitter(self, interaction: discord.Interaction, chantier: str) -> None:
        tr = tr_of(interaction)
        info, role, member = await self._role_for(interaction, chantier, allow_archived=True)
        if role not in member.roles:
            await reply(
                interaction, tr._("Vous ne faites pas partie du chantier « {nom} ».", nom=info.nom)
            )
            return
        await member.remove_roles(role, reason="Partage: /quitter")
        log.info("guild %s: user %s left chantier %s", info.guild_id, member.id, info.slug)
        await reply(interaction, tr._("Vous avez quitté le chantier « {nom} ».", nom=info.nom))

    @rejoindre.autocomplete("chantier")
    @quitter.autocomplete("chantier")
    async def _chantier_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)

    async def _role_for(
        self, interaction: discord.Interaction, slug: str, *, allow_archived: bool = False
    ) -> tuple[ChantierInfo, discord.Role, discord.Member]:
        guild = interaction.guild
        member = interaction.user
        assert guild is not None and isinstance(member, discord.Member)
        info = await self.bot.services.chantiers.by_slug(guild.id, slug.strip())
        if info is None:
            raise NotFound(N_("Le chantier « {slug} » n'existe pas."), slug=slug[:40])
        if info.archived and not allow_archived:
            raise Conflict(N_("Le chantier « {nom} » est archivé."), nom=info.nom)
        role = guild.get_role(info.role_id or 0)
        if role is None:
            raise Conflict(
                N_(
                    "Le rôle du chantier « {nom} » n'existe pas encore ; réessayez dans un instant."
                ),
                nom=info.nom,
            )
        return info, role, member

    # --- staff -----------------------------------------------------------------------------

    @chantier.command(
        name=p_("command-name", "creer"),
        description=p_("command-description", "Créer un chantier, ses salons et son rôle"),
    )
    @app_commands.describe(
        nom=p_("option-description", "Le nom du chantier"),
        description=p_("option-description", "La description du chantier"),
        emoji=p_("option-description", "L'emoji du chantier"),
    )
    @staff_only()
    async def creer(
        self,
        interaction: discord.Interaction,
        nom: app_commands.Range[str, 1, 90],
        description: app_commands.Range[str, 0, 1000] = "",
        emoji: app_commands.Range[str, 0, 16] = "",
    ) -> None:
        tr = tr_of(interaction)
        guild = interaction.guild
        assert guild is not None
        info = await commit_then_defer(
            interaction,
            self.bot.services.chantiers.create(
                guild.id,
                nom,
                description=description,
                emoji=emoji,
                actor_user_id=interaction.user.id,
            ),
        )
        info = await self.provisioner.provision(guild, info)
        where = f"<#{info.channel_id}>" if info.channel_id else "—"
        await reply(
            interaction, tr._("Chantier « {nom} » créé : {salon}", nom=info.nom, salon=where)
        )

    @chantier.command(
        name=p_("command-name", "archiver"),
        description=p_(
            "command-description",
            "Archiver un chantier (plus de nouvel atelier, salons en lecture seule)",
        ),
    )
    @app_commands.describe(chantier=p_("option-description", "Le chantier à archiver"))
    @staff_only()
    async def archiver(self, interaction: discord.Interaction, chantier: str) -> None:
        tr = tr_of(interaction)
        guild = interaction.guild
        assert guild is not None
        found = await self.bot.services.chantiers.by_slug(guild.id, chantier.strip())
        if found is None:
            raise NotFound(N_("Le chantier « {slug} » n'existe pas."), slug=chantier[:40])
        info = await commit_then_defer(
            interaction,
            self.bot.services.chantiers.archive(
                guild.id, found.id, actor_user_id=interaction.user.id
            ),
        )
        await self.provisioner.archive(guild, info)
        await reply(
            interaction,
            tr._(
                "Chantier « {nom} » archivé : ses salons restent lisibles, en lecture seule.",
                nom=info.nom,
            ),
        )

    @archiver.autocomplete("chantier")
    async def _archiver_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)
