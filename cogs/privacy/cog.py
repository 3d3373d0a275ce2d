"""Privacy on Discord (Loi 25): /mes-donnees, the welcome of a new member, departures and the
daily jobs (erasing members gone past the grace period, purging old inscriptions)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import DESCRIPTIONS
from bot.i18n import Translations, locale_for
from bot.interactions import reply, tr_of
from cogs.ateliers.service import Recipient
from cogs.membres.render import command
from cogs.membres.threads import send_dm, send_in_channel
from cogs.privacy.service import PrivacyService, Promotion

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


async def tell_promotions(bot: PartageBot, promotions: Sequence[Promotion]) -> None:
    """Members who got the place an erased member held: told as the ateliers cog tells any
    promotion (a DM, or a mention in the atelier's thread when DMs are closed), and the
    announcement's counts refreshed."""
    if not promotions:
        return
    by_atelier: dict[int, list[Recipient]] = {}
    for promotion in promotions:
        by_atelier.setdefault(promotion.atelier_id, []).append(promotion.recipient)
    try:
        from cogs.ateliers.cog import outreach_of

        outreach = outreach_of(bot)
    except (ImportError, RuntimeError):
        log.warning(
            "ateliers cog not loaded: promotions in ateliers %s not announced", sorted(by_atelier)
        )
        return
    for atelier_id, recipients in by_atelier.items():
        info = await bot.services.ateliers.get(atelier_id)
        outreach.answered(info, recipients)
        log.info(
            "atelier %s: %d promoted after an erasure, being told", atelier_id, len(recipients)
        )


class PrivacyCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = PrivacyService(bot.sessions, bot.clock, bot.settings.privacy)

    async def cog_load(self) -> None:
        self.bot.scheduler.every(DAILY_JOB, DAY_SECONDS, self.daily)

    async def cog_unload(self) -> None:
        self.bot.scheduler.cancel(DAILY_JOB)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # The interval restarts with the process: run once at each start too.
        self.bot.tasks.spawn(self.daily(), name=DAILY_JOB)

    # --- /mes-donnees --------------------------------------------------------------------------

    @app_commands.command(name="mes-donnees", description=DESCRIPTIONS["mes-donnees"])
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
                "Partage ne conserve aucune donnée sur vous sur ce serveur. Les deux fichiers "
                "le confirment."
            )
        else:
            text = tr.n_(
                "Voici tout ce que Partage conserve sur vous sur ce serveur : {n} ligne, en "
                "JSON et en CSV. Pour corriger : {modifier} ; pour tout effacer : {supprimer}.",
                "Voici tout ce que Partage conserve sur vous sur ce serveur : {n} lignes, en "
                "JSON et en CSV. Pour corriger : {modifier} ; pour tout effacer : {supprimer}.",
                export.row_count,
                modifier=command(tr, "profil modifier"),
                supprimer=command(tr, "profil supprimer"),
            )
        stamp = export.generated_at.strftime("%Y%m%d")
        files = [
            discord.File(
                io.BytesIO(export.to_json().encode()), filename=f"partage-donnees-{stamp}.json"
            ),
            discord.File(
                io.BytesIO(export.to_csv().encode("utf-8-sig")),
                filename=f"partage-donnees-{stamp}.csv",
            ),
        ]
        await reply(interaction, text, files=files)

    # --- arrivals and departures ---------------------------------------------------------------

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            return
        if await self.service.member_returned(member.guild.id, member.id):
            log.info("guild %s: user %s came back; erasure cancelled", member.guild.id, member.id)
        self.bot.tasks.spawn(self.welcome(member), name=f"welcome:{member.guild.id}:{member.id}")

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

    async def welcome(self, member: discord.Member) -> None:
        """A DM in the server's language (a member's own is known only from their first
        command); DMs closed, a mention in the system channel."""
        guild = member.guild
        tr = self.bot.i18n.for_locale(locale_for(str(guild.preferred_locale)))
        text = welcome_text(tr, member.display_name)
        what = f"guild {guild.id}: welcome"
        if await send_dm(self.bot, member.id, text, what=what) is not None:
            log.info("%s: user %s welcomed by DM", what, member.id)
            return
        channel = guild.system_channel
        if channel is not None and await send_in_channel(channel, [member.id], text, what=what):
            log.info("%s: user %s welcomed in channel %s", what, member.id, channel.id)
        else:
            log.warning("%s: user %s could not be welcomed", what, member.id)

    # --- the daily job -------------------------------------------------------------------------

    async def daily(self) -> None:
        """Erase members gone longer than the grace period, then purge old inscriptions."""
        try:
            erased = await self.service.erase_departed()
            for result in erased:
                await tell_promotions(self.bot, result.promoted)
            if erased:
                log.info("daily privacy job: %d departed members erased", len(erased))
            await self.service.purge_retention()
        except Exception:
            log.exception("daily privacy job failed")
