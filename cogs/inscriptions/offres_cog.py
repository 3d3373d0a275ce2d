"""Offers on Discord: the DM's buttons (``offre:<inscription_id>:oui|non``) as persistent
``DynamicItem``s, and the scheduler kept in step with the offers in the database: rebuilt at
start-up (after passing on those that expired while the bot was stopped), after every change
that committed offers, and every minute (offers made by another process)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.interactions import cog_of, commit_then_defer, reply, run_safely, tr_of
from cogs.inscriptions.buttons import OFFER_TEMPLATE, offer_custom_id
from cogs.inscriptions.offres import OFFRES, job_id

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

SWEEP_JOB = "offres:sweep"
SWEEP_SECONDS = 60.0
Button = discord.ui.Button[Any]


class OfferButton(discord.ui.DynamicItem[Button], template=OFFER_TEMPLATE):
    def __init__(self, inscription_id: int, take: bool) -> None:
        choice = "oui" if take else "non"
        super().__init__(discord.ui.Button(custom_id=offer_custom_id(inscription_id, choice)))
        self.inscription_id = inscription_id
        self.take = take

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> OfferButton:
        return cls(int(match["id"]), match["choix"] == "oui")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = cog_of(interaction.client, OffresCog)
        await run_safely(interaction, cog.answer(interaction, self.inscription_id, self.take))


class OffresCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.offres
        self._sync = asyncio.Lock()
        self._started = False
        bot.sessions.on_commit(OFFRES, self._committed)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(OfferButton)
        self.bot.tasks.spawn(self.start_up(), name="offres:start-up")

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(OfferButton)
        self.bot.scheduler.cancel(SWEEP_JOB)
        self.bot.scheduler.cancel_prefix("offre:")

    def _committed(self) -> None:
        if self._started:
            self.bot.tasks.spawn(self.sync(), name="offres:changed")

    async def start_up(self) -> None:
        """Offers whose deadline passed while the bot was stopped go to the next in line now
        (once: ``OffreService.expire`` is conditional), then the jobs of the others."""
        try:
            passed = await self.service.expire_due()
            if passed:
                log.info("offres: %d offer(s) expired while stopped, passed on", passed)
            await self.sync()
        finally:
            self._started = True
            self.bot.scheduler.every(SWEEP_JOB, SWEEP_SECONDS, self.sync)

    async def sync(self) -> None:
        """One job per pending offer, at its deadline."""
        async with self._sync:
            pending = await self.service.pending()
            wanted = {job_id(o.inscription_id): o for o in pending}
            for stale in set(self.bot.scheduler.job_ids("offre:")) - set(wanted):
                self.bot.scheduler.cancel(stale)
            for name, offer in wanted.items():
                if self.bot.scheduler.next_run(name) != offer.expires_at:
                    self.bot.scheduler.at(name, offer.expires_at, self.expire, offer.inscription_id)

    async def expire(self, inscription_id: int) -> None:
        await self.service.expire(inscription_id)

    async def answer(
        self, interaction: discord.Interaction, inscription_id: int, take: bool
    ) -> None:
        tr = tr_of(interaction)
        result = await commit_then_defer(
            interaction,
            self.service.answer(
                interaction.guild_id or 0, inscription_id, interaction.user.id, take
            )
            if interaction.guild_id
            else self._answer_from_dm(interaction, inscription_id, take),
        )
        if result.taken:
            text = tr._("La place à « {titre} » est à vous. À bientôt !", titre=result.titre)
        else:
            text = tr._(
                "C'est noté : la place à « {titre} » est offerte à la personne suivante.",
                titre=result.titre,
            )
        await reply(interaction, text)

    async def _answer_from_dm(
        self, interaction: discord.Interaction, inscription_id: int, take: bool
    ) -> Any:
        """A click in the DM has no server: the offer's own atelier gives it."""
        guild_id = await self.service.guild_of(inscription_id)
        return await self.service.answer(guild_id, inscription_id, interaction.user.id, take)
