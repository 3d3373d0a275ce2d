"""Privacy on Discord (Loi 25): /mes-donnees, the welcome of a new member, departures and the
daily jobs (erasing members gone past the grace period, purging old inscriptions)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import command, p_
from bot.delivery import DM_CLOSED_CODE, one_attempt
from bot.i18n import Translations, locale_for
from bot.interactions import reply, tr_of
from bot.threads import MESSAGE_MAX, mentions, only_users
from cogs.privacy.documents import readable, spreadsheets_zip
from cogs.privacy.service import Welcome
from db.models import OutboxKind
from db.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

DAILY_JOB = "privacy:daily"
DAY_SECONDS = 86400.0


def welcome_text(tr: Translations, name: str) -> str:
    return tr._(
        "Bienvenue sur le serveur de l'Opération Partage, {nom} ! Ici, les professionnels "
        "municipaux de l'immigration, de l'accueil et de l'intégration de tout le Québec "
        "échangent entre les ateliers.\n"
        "• {profil} : présentez-vous (municipalité, fonction, expertise) pour que vos "
        "collègues vous trouvent dans l'annuaire. Rien n'est conservé sans votre "
        "consentement.\n"
        "• {chantiers} : rejoignez les chantiers qui vous intéressent.\n"
        "• {jumelage} : rencontrez régulièrement un ou une collègue d'une autre "
        "municipalité.\n"
        "• {aide} : toutes les commandes.",
        nom=name,
        profil=command(tr, "profil modifier"),
        chantiers=command(tr, "chantiers"),
        jumelage=command(tr, "jumelage"),
        aide=command(tr, "aide"),
    )


class PrivacyCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.privacy

    async def cog_load(self) -> None:
        self.bot.scheduler.every(DAILY_JOB, DAY_SECONDS, self.daily)
        self.bot.outbox.register(OutboxKind.WELCOME, self.deliver_welcome)

    async def cog_unload(self) -> None:
        self.bot.scheduler.cancel(DAILY_JOB)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # The interval restarts with the process: run once at each start too.
        self.bot.tasks.spawn(self.daily(), name=DAILY_JOB)

    # --- /mes-donnees --------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "mes-donnees"),
        description=p_(
            "command-description", "Tout ce que Partage conserve sur vous, dans un fichier"
        ),
    )
    @app_commands.guild_only()
    async def mes_donnees(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id
        if guild_id is None:
            raise app_commands.NoPrivateMessage()
        await interaction.response.defer(ephemeral=True, thinking=True)
        export = await self.service.export(guild_id, interaction.user.id)
        log.info(
            "guild %s: user %s downloaded their data (%d rows)",
            guild_id,
            interaction.user.id,
            export.row_count,
        )
        if export.row_count == 0:
            text = tr._(
                "Partage ne conserve aucune donnée sur vous sur ce serveur. Les fichiers le "
                "confirment."
            )
        else:
            text = tr.n_(
                "Voici tout ce que Partage conserve sur vous sur ce serveur : {n} ligne, dans un "
                "document à lire (.txt), en JSON et en tableurs (.zip de fichiers CSV). Pour "
                "corriger : {modifier} ; pour tout effacer : {supprimer}.",
                "Voici tout ce que Partage conserve sur vous sur ce serveur : {n} lignes, dans un "
                "document à lire (.txt), en JSON et en tableurs (.zip de fichiers CSV). Pour "
                "corriger : {modifier} ; pour tout effacer : {supprimer}.",
                export.row_count,
                modifier=command(tr, "profil modifier"),
                supprimer=command(tr, "profil supprimer"),
            )
        stamp = export.generated_at.strftime("%Y%m%d")
        zone = self.bot.zone
        files = [
            discord.File(
                io.BytesIO(readable(tr, export, zone).encode("utf-8-sig")),
                filename=f"partage-donnees-{stamp}.txt",
            ),
            discord.File(
                io.BytesIO(export.to_json().encode()), filename=f"partage-donnees-{stamp}.json"
            ),
            discord.File(
                io.BytesIO(spreadsheets_zip(tr, export, zone)),
                filename=f"partage-donnees-{stamp}-tableurs.zip",
            ),
        ]
        await reply(interaction, text, files=files)

    # --- arrivals and departures ---------------------------------------------------------------

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            return
        self.bot.tasks.spawn(self.joined(member), name=f"joined:{member.guild.id}:{member.id}")

    async def joined(self, member: discord.Member) -> None:
        """Cancel a pending erasure; queue the welcome (outbox) in the same transaction."""
        guild = member.guild
        welcome = Welcome(
            name=member.display_name,
            locale=locale_for(str(guild.preferred_locale)),
            fallback_channel_id=guild.system_channel.id if guild.system_channel else None,
        )
        if await self.service.member_returned(guild.id, member.id, welcome=welcome):
            log.info("guild %s: user %s came back; erasure cancelled", guild.id, member.id)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if payload.user.bot:
            return
        if await self.service.member_left(payload.guild_id, payload.user.id):
            log.info(
                "guild %s: user %s left; their data will be erased after %d days",
                payload.guild_id,
                payload.user.id,
                self.bot.settings.privacy.departure_grace_days,
            )

    async def deliver_welcome(self, item: OutboxItem) -> int | None:
        """The outbox's ``welcome``: a DM in the server's language (a member's own is known
        only from their first command); DMs closed, a mention in the system channel."""
        p = item.payload
        user_id = int(p["user_id"])
        tr = self.bot.i18n.for_locale(str(p.get("locale") or "fr"))
        text = welcome_text(tr, str(p.get("name") or ""))[:MESSAGE_MAX]
        try:
            dm = await one_attempt(self.bot.create_dm(discord.Object(user_id)))
            message = await one_attempt(
                dm.send(text, allowed_mentions=discord.AllowedMentions.none(), nonce=item.nonce)
            )
            log.info("guild %s: user %s welcomed by DM", item.guild_id, user_id)
            return message.id
        except discord.Forbidden as exc:
            if exc.code != DM_CLOSED_CODE:
                raise
        channel_id = p.get("fallback_channel_id")
        if not channel_id:
            log.warning("guild %s: user %s could not be welcomed", item.guild_id, user_id)
            return None
        channel = self.bot.get_partial_messageable(int(channel_id), guild_id=item.guild_id)
        message = await one_attempt(
            channel.send(
                f"{mentions([user_id])}\n{text}"[:MESSAGE_MAX],
                allowed_mentions=only_users([user_id]),
                nonce=item.nonce,
            )
        )
        log.info("guild %s: user %s welcomed in channel %s", item.guild_id, user_id, channel_id)
        return message.id

    # --- the daily job -------------------------------------------------------------------------

    async def daily(self) -> None:
        """Erase members gone longer than the grace period, then purge old inscriptions."""
        try:
            erased = await self.service.erase_departed()
            if erased:
                log.info("daily privacy job: %d departed members erased", len(erased))
            await self.service.purge_retention()
        except Exception:
            log.exception("daily privacy job failed")
