"""Answers on Discord: the announcement's buttons, /rsvp, /mes-inscriptions, /rappels.

A click is acknowledged at once (an ephemeral "thinking…") and answered once the database has
recorded it. The database takes about a hundred answers a second, so answering only after the
write would make the end of a burst miss Discord's 3-second deadline. Three rules keep a burst
of clicks in order (measured with ``benchmarks/rsvp_burst.py``):

- acknowledgements go first: answers wait while any click is still unacknowledged;
- at most ``ACKS_IN_FLIGHT`` acknowledgements are in flight, so they complete in arrival order
  over a few reused connections instead of all finishing late together;
- answers to one atelier queue in this process behind a fair (FIFO) lock, so the database
  sees them one at a time, in the order of the clicks, rather than hundreds of transactions
  waiting on its lock and on the connection pool.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import DESCRIPTIONS, option_descriptions
from bot.interactions import locale_of, reply, tr_of
from cogs.ateliers.cog import outreach_of
from cogs.ateliers.options import (
    REPONSES,
    atelier_choices,
    parse_atelier_id,
    parse_seance_id,
    seance_choices,
)
from cogs.ateliers.render import (
    compact_line,
    jump_url,
    seance_answer_text,
    short_status,
    status_text,
)
from cogs.ateliers.views import AnswerButton, LinkButton
from cogs.rsvp.service import AnswerResult
from db.models import EtatInscription, Reponse

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

#: Acknowledgements sent at once. Past a few dozen, more in flight only share the CPU and the
#: connections: all of a burst's acknowledgements would then finish late together, while
#: a bounded number finishes in arrival order over a handful of reused connections.
ACKS_IN_FLIGHT = 16


class RsvpCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._ack_slots = asyncio.Semaphore(ACKS_IN_FLIGHT)
        self._unacked = 0
        self._all_acked = asyncio.Event()
        self._all_acked.set()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AnswerButton, LinkButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AnswerButton, LinkButton)

    def _lock(self, atelier_id: int) -> asyncio.Lock:
        lock = self._locks.get(atelier_id)
        if lock is None:
            lock = self._locks[atelier_id] = asyncio.Lock()
        return lock

    async def _answer(
        self,
        interaction: discord.Interaction,
        atelier_id: int,
        reponse: Reponse,
        seance_id: int | None = None,
    ) -> None:
        """Acknowledge, record the answer, refresh the announcement, reply with the status."""
        if not await self._acknowledge(interaction):
            return
        user = interaction.user
        async with self._lock(atelier_id):
            await self._all_acked.wait()  # acknowledgements first: they have a deadline
            result = await self.bot.services.inscriptions.answer(
                interaction.guild_id or 0,
                atelier_id,
                user.id,
                reponse,
                seance_id=seance_id,
                display_name=user.display_name,
                locale=locale_of(interaction),
            )
        if result.changed:
            outreach_of(self.bot).answered(result.atelier, result.promoted)
        await reply(interaction, self._text(interaction, result))

    async def _acknowledge(self, interaction: discord.Interaction) -> bool:
        """Defer at once (an ephemeral "thinking…"). False when Discord already dropped the
        interaction (acknowledged too late, under overload): its member saw "interaction
        failed", so the answer is not recorded and the load is shed."""
        self._unacked += 1
        self._all_acked.clear()
        try:
            async with self._ack_slots:
                await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.NotFound:
            log.warning(
                "interaction %s by user %s: acknowledged too late, dropped",
                interaction.id,
                interaction.user.id,
            )
            return False
        finally:
            self._unacked -= 1
            if self._unacked == 0:
                self._all_acked.set()
        return True

    def _text(self, interaction: discord.Interaction, result: AnswerResult) -> str:
        tr = tr_of(interaction)
        info = result.atelier
        if result.seance_id is not None and result.seance_reponse is not None:
            seance = next(s for s in info.seances if s.id == result.seance_id)
            return seance_answer_text(tr, info, seance, result.seance_reponse)
        return status_text(tr, info, result.etat, result.position)

    # --- the announcement's buttons (dispatched by cogs.ateliers.views) ------------------------

    async def answer_from_button(
        self, interaction: discord.Interaction, atelier_id: int, reponse: Reponse
    ) -> None:
        await self._answer(interaction, atelier_id, reponse)

    async def show_link(self, interaction: discord.Interaction, atelier_id: int) -> None:
        """The meeting link, to registered members only."""
        tr = tr_of(interaction)
        status = await self.bot.services.inscriptions.member_status(
            interaction.guild_id or 0, atelier_id, interaction.user.id
        )
        info = status.atelier
        if info.cancelled:
            text = tr._("L'atelier « {titre} » est annulé.", titre=info.titre)
        elif status.etat == EtatInscription.ATTENTE:
            text = tr._(
                "Vous êtes n° {position} sur la liste d'attente : le lien vous sera donné "
                "quand une place vous reviendra.",
                position=status.position,
            )
        elif status.etat != EtatInscription.INSCRIT:
            text = tr._(
                "Le lien de la réunion est réservé aux personnes inscrites : répondez « Oui » "
                "pour réserver votre place."
            )
        elif not info.lien:
            text = tr._("Cet atelier n'a pas de lien de réunion.")
        else:
            text = tr._("Lien de la réunion : {lien}", lien=info.lien)
        log.info(
            "atelier %s: user %s asked for the link (%s)",
            atelier_id,
            interaction.user.id,
            status.etat,
        )
        await reply(interaction, text)

    # --- commands ----------------------------------------------------------------------------

    @app_commands.command(name="rsvp", description=DESCRIPTIONS["rsvp"])
    @app_commands.describe(**option_descriptions("rsvp"))
    @app_commands.choices(reponse=REPONSES)
    @app_commands.guild_only()
    async def rsvp(
        self,
        interaction: discord.Interaction,
        atelier: str,
        reponse: str,
        seance: str | None = None,
    ) -> None:
        atelier_id = parse_atelier_id(atelier)
        seance_id = parse_seance_id(seance) if seance is not None else None
        await self._answer(interaction, atelier_id, Reponse(reponse), seance_id)

    @rsvp.autocomplete("atelier")
    async def _rsvp_atelier(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current)

    @rsvp.autocomplete("seance")
    async def _rsvp_seance(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await seance_choices(interaction, current)

    @app_commands.command(name="mes-inscriptions", description=DESCRIPTIONS["mes-inscriptions"])
    @app_commands.guild_only()
    async def mes_inscriptions(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        items = await self.bot.services.inscriptions.of_member(
            interaction.guild_id or 0, interaction.user.id
        )
        if not items:
            await reply(
                interaction,
                tr._("Vous n'avez aucun atelier à venir. Voyez /ateliers pour vous inscrire."),
            )
            return
        embed = discord.Embed(title=tr._("Vos inscriptions"))
        for item in items[:25]:
            info = item.atelier
            lines = [short_status(tr, item.etat, item.position)]
            for s in info.seances:
                line = compact_line(tr, s)
                exception = item.seance_reponses.get(s.id)
                if exception == Reponse.NON:
                    line += " — " + tr._("vous n'y serez pas")
                elif exception == Reponse.PEUT_ETRE:
                    line += " — " + tr._("peut-être")
                elif exception == Reponse.OUI and item.etat != EtatInscription.INSCRIT:
                    line += " — " + tr._("vous y serez")
                lines.append(line)
            if url := jump_url(info):
                lines.append(url)
            name = tr._("{titre} (n° {id})", titre=info.titre, id=info.id)
            embed.add_field(name=name[:256], value="\n".join(lines)[:1024], inline=False)
        await reply(interaction, embed=embed)

    @app_commands.command(name="rappels", description=DESCRIPTIONS["rappels"])
    @app_commands.describe(**option_descriptions("rappels"))
    @app_commands.rename(messages_prives="messages-prives")
    @app_commands.guild_only()
    async def rappels(self, interaction: discord.Interaction, messages_prives: bool) -> None:
        tr = tr_of(interaction)
        enabled = await self.bot.services.inscriptions.set_dm_reminders(
            interaction.guild_id or 0, interaction.user.id, messages_prives
        )
        log.info("user %s: DM reminders %s", interaction.user.id, "on" if enabled else "off")
        if enabled:
            text = tr._(
                "Rappels par message privé activés : vous les recevrez avant chaque séance "
                "où vous avez une place."
            )
        else:
            text = tr._("Rappels par message privé désactivés.")
        await reply(interaction, text)
