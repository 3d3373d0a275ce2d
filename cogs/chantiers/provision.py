"""Each chantier's place on the server: a category, a text channel, a forum and a role.

Idempotent: what exists is tracked by id (renaming by hand is kept); what is missing is created
again. Missing permissions give one log line and one message to staff per server and run, never
a crash or a retry loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.interactions import NO_MENTIONS
from cogs.chantiers.service import ChantierInfo

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

REASON = "Partage: chantier"


class Provisioner:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}
        self._warned: set[int] = set()

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def provision_guild(self, guild: discord.Guild) -> list[ChantierInfo]:
        """The configured chantiers, then every active chantier of the server."""
        service = self.bot.services.chantiers
        chantiers = await service.sync_config(
            guild.id, self.bot.settings.chantiers, guild_name=guild.name
        )
        done = []
        for chantier in chantiers:
            done.append(await self.provision(guild, chantier))
        return done

    async def provision(self, guild: discord.Guild, chantier: ChantierInfo) -> ChantierInfo:
        """Create whatever of this chantier's category, channel, forum and role is missing."""
        async with self._lock(guild.id):
            # Re-read: another task may have provisioned it while we waited.
            chantier = await self.bot.services.chantiers.get(guild.id, chantier.id)
            if chantier.archived:
                return chantier
            ids: dict[str, int | None] = {}
            try:
                role = guild.get_role(chantier.role_id) if chantier.role_id else None
                if role is None:
                    role = await guild.create_role(
                        name=chantier.nom[:100], mentionable=True, reason=REASON
                    )
                    ids["role_id"] = role.id
                category = guild.get_channel(chantier.category_id or 0)
                if not isinstance(category, discord.CategoryChannel):
                    category = await guild.create_category(chantier.label[:100], reason=REASON)
                    ids["category_id"] = category.id
                channel = guild.get_channel(chantier.channel_id or 0)
                if not isinstance(channel, discord.TextChannel):
                    channel = await guild.create_text_channel(
                        chantier.slug[:100],
                        category=category,
                        topic=(chantier.description or chantier.nom)[:1024],
                        reason=REASON,
                    )
                    ids["channel_id"] = channel.id
                forum = guild.get_channel(chantier.forum_id or 0)
                if not isinstance(forum, discord.ForumChannel):
                    forum = await self._create_forum(guild, chantier, category)
                    if forum is not None:
                        ids["forum_id"] = forum.id
            except discord.Forbidden as err:
                await self._missing_permissions(guild, chantier, err)
            finally:
                if ids:
                    chantier = await self.bot.services.chantiers.set_discord_ids(chantier.id, **ids)
                    log.info(
                        "guild %s: chantier %s provisioned (%s)",
                        guild.id,
                        chantier.slug,
                        ", ".join(sorted(ids)),
                    )
            return chantier

    async def _create_forum(
        self, guild: discord.Guild, chantier: ChantierInfo, category: discord.CategoryChannel
    ) -> discord.ForumChannel | None:
        try:
            return await guild.create_forum(
                f"{chantier.slug}-questions"[:100],
                category=category,
                topic=(chantier.description or chantier.nom)[:4096],
                reason=REASON,
            )
        except discord.Forbidden:
            raise
        except discord.HTTPException as err:
            # Forums exist only on Community servers: the chantier works without one.
            log.warning(
                "guild %s: no forum for chantier %s (%s): is the server a Community server?",
                guild.id,
                chantier.slug,
                err.text or err.status,
            )
            return None

    async def _missing_permissions(
        self, guild: discord.Guild, chantier: ChantierInfo, err: discord.Forbidden
    ) -> None:
        if guild.id in self._warned:
            return
        self._warned.add(guild.id)
        log.error(
            "guild %s: cannot provision chantier %s: missing permissions (%s); "
            "give the bot Manage Channels and Manage Roles, then restart it",
            guild.id,
            chantier.slug,
            err.text,
        )
        tr = self.bot.i18n.for_locale("fr")
        text = tr._(
            "Partage ne peut pas créer les salons et le rôle du chantier « {nom} » : il lui "
            "manque les permissions Gérer les salons et Gérer les rôles. Accordez-les au bot, "
            "puis redémarrez-le.",
            nom=chantier.nom,
        )
        channel = guild.system_channel or guild.public_updates_channel
        if channel is None or not channel.permissions_for(guild.me).send_messages:
            return
        try:
            await channel.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("guild %s: could not tell staff about missing permissions", guild.id)

    async def archive(self, guild: discord.Guild, chantier: ChantierInfo) -> None:
        """Make the chantier's channels read-only for everyone (they stay visible)."""
        overwrite = discord.PermissionOverwrite(
            send_messages=False,
            send_messages_in_threads=False,
            create_public_threads=False,
            create_private_threads=False,
        )
        for channel_id in (chantier.channel_id, chantier.forum_id):
            channel = guild.get_channel(channel_id or 0)
            if channel is None:
                continue
            await channel.set_permissions(
                guild.default_role, overwrite=overwrite, reason="Partage: chantier archivé"
            )
