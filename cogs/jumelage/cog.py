"""The jumelage on Discord: /jumelage, its buttons, and the periodic job that runs the rounds
(one private thread per pair or trio, with a conversation starter), tells whoever was left out,
and sends each pair's check-in a week later in its thread."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import p_
from bot.interactions import reply, tr_of
from bot.ports import ConsentPrompt
from bot.threads import (
    distinct,
    meeting_channel,
    member_name,
    open_private_thread,
    send_dm,
    send_in_channel,
)
from cogs.jumelage.render import (
    action_text,
    checkin_text,
    left_out_text,
    pair_intro,
    status_text,
)
from cogs.jumelage.service import PairInfo, PairMember, Participation
from cogs.jumelage.views import JUMELAGE_COG, JumelageButton, jumelage_view
from cogs.membres.service import ConsentRequired

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

TICK_JOB = "jumelage:tick"
TICK_SECONDS = 3600.0  # rounds are due every few days: checking hourly is plenty
PAUSE = timedelta(weeks=4)


class JumelageCog(commands.Cog, name=JUMELAGE_COG):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.jumelage
        #: The pairing's randomness (tests set a seeded one).
        self.rng = random.Random()
        self._lock = asyncio.Lock()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(JumelageButton)
        self.bot.scheduler.every(TICK_JOB, TICK_SECONDS, self.tick)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(JumelageButton)
        self.bot.scheduler.cancel(TICK_JOB)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Catch up at start-up: a round or check-in that fell due while the bot was down.
        self.bot.tasks.spawn(self.tick(), name=TICK_JOB)

    # --- /jumelage and its buttons -------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "jumelage"),
        description=p_(
            "command-description",
            "Participer au jumelage entre collègues de municipalités différentes",
        ),
    )
    @app_commands.describe(participer=p_("option-description", "Participer au jumelage"))
    @app_commands.guild_only()
    async def jumelage(
        self, interaction: discord.Interaction, participer: bool | None = None
    ) -> None:
        guild_id = interaction.guild_id
        if guild_id is None:
            raise app_commands.NoPrivateMessage()
        if participer is None:
            participation = await self.service.participation(guild_id, interaction.user.id)
            await self._answer(interaction, guild_id, participation, None)
            return
        await self.on_button(interaction, guild_id, "participer" if participer else "quitter")

    async def on_button(self, interaction: discord.Interaction, guild_id: int, action: str) -> None:
        user_id = interaction.user.id
        if action in ("participer", "quitter"):
            try:
                participation = await self.service.set_participation(
                    guild_id, user_id, action == "participer"
                )
            except ConsentRequired:
                await self._ask_consent(interaction)
                return
        else:
            until = self.bot.clock.now() + PAUSE if action == "pause" else None
            participation = await self.service.snooze(guild_id, user_id, until)
        log.info("guild %s: user %s jumelage %s", guild_id, user_id, action)
        await self._answer(interaction, guild_id, participation, action)

    async def _ask_consent(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        profil = self.bot.ports.get(ConsentPrompt)
        lead = tr._(
            "Le jumelage réunit des collègues de municipalités différentes : il se fonde sur "
            "votre profil. Il faut d'abord votre consentement, puis votre municipalité."
        )
        await profil.ask_consent(interaction, lead)

    async def _answer(
        self,
        interaction: discord.Interaction,
        guild_id: int,
        participation: Participation,
        action: str | None,
    ) -> None:
        tr = tr_of(interaction)
        next_round = await self.service.next_round_due(guild_id)
        cadence = self.bot.settings.jumelage.cadence_days
        lines = [action_text(tr, action)] if action else []
        lines.append(status_text(tr, participation, next_round, cadence))
        view = jumelage_view(tr, guild_id, participation)
        message = interaction.message
        if message is not None and message.flags.ephemeral:
            await interaction.response.edit_message(content="\n".join(lines), view=view)
        else:  # a command, or a button in a thread or a DM shared with others: answer apart
            await reply(interaction, "\n".join(lines), view=view)

    # --- the periodic job ----------------------------------------------------------------------

    async def tick(self) -> None:
        """Run the rounds that are due, open the threads not opened yet, send the check-ins
        that are due. Called hourly by the scheduler and once at start-up."""
        async with self._lock:
            for guild in list(self.bot.guilds):
                try:
                    await self.run_guild(guild)
                except Exception:
                    log.exception("guild %s: jumelage round failed", guild.id)
            try:
                await self.send_checkins()
            except Exception:
                log.exception("jumelage check-ins failed")

    async def run_guild(self, guild: discord.Guild) -> None:
        result = await self.service.run_round_if_due(guild.id, rng=self.rng)
        if result is not None:
            next_round = await self.service.next_round_due(guild.id)
            for member in result.left_out:
                await self._tell_left_out(guild, member, next_round)
        for pair in await self.service.pairs_without_thread(guild.id):
            if len(pair.members) >= 2:
                await self.open_pair_thread(guild, pair)

    async def open_pair_thread(self, guild: discord.Guild, pair: PairInfo) -> None:
        what = f"guild {guild.id}: jumelage pair {pair.id}"
        chantiers = [pair.chantier_id] if pair.chantier_id is not None else []
        channel = await meeting_channel(self.bot, guild, chantiers)
        if channel is None:
            log.warning("%s: no channel to open the thread in", what)
            return
        users = [m.user_id for m in pair.members]
        names = [member_name(guild, m.user_id) for m in pair.members]
        described = [
            f"{name} ({m.municipalite})" if m.municipalite else name
            for name, m in zip(names, pair.members, strict=True)
        ]
        trs = [self.bot.i18n.for_locale(loc) for loc in distinct(*(m.locale for m in pair.members))]
        content = "\n\n".join(pair_intro(t, pair, described) for t in trs)
        title = trs[0]._("Jumelage : {noms}", noms=" · ".join(names))
        view = jumelage_view(trs[0], guild.id, None)
        thread = await open_private_thread(channel, title, users, content, view=view, what=what)
        if thread is not None:
            await self.service.set_thread(pair.id, thread.id)

    async def _tell_left_out(
        self, guild: discord.Guild, member: PairMember, next_round: datetime | None
    ) -> None:
        tr = self.bot.i18n.for_locale(member.locale)
        text = left_out_text(tr, next_round)
        view = jumelage_view(tr, guild.id, None)
        what = f"guild {guild.id}: jumelage left out"
        if await send_dm(self.bot, member.user_id, text, view=view, what=what) is not None:
            log.info("%s: membre %s told by DM", what, member.membre_id)
        else:
            log.warning("%s: membre %s could not be told", what, member.membre_id)

    async def send_checkins(self) -> None:
        """Claim each due check-in, then send it (exactly once, also across processes)."""
        for pair in await self.service.due_checkins():
            if await self.service.mark_checked_in(pair.id):
                await self._checkin(pair)

    async def _checkin(self, pair: PairInfo) -> None:
        what = f"guild {pair.guild_id}: jumelage check-in {pair.id}"
        users = [m.user_id for m in pair.members]
        trs = [self.bot.i18n.for_locale(loc) for loc in distinct(*(m.locale for m in pair.members))]
        if pair.thread_id is not None:
            thread = self.bot.get_partial_messageable(pair.thread_id, guild_id=pair.guild_id)
            content = "\n\n".join(checkin_text(t) for t in trs)
            view = jumelage_view(trs[0], pair.guild_id, None)
            if await send_in_channel(thread, users, content, view=view, what=what):
                log.info("%s: sent in thread %s", what, pair.thread_id)
                return
        for member in pair.members:  # no thread (or it is gone): by DM
            tr = self.bot.i18n.for_locale(member.locale)
            view = jumelage_view(tr, pair.guild_id, None)
            await send_dm(self.bot, member.user_id, checkin_text(tr), view=view, what=what)
        log.info("%s: sent by DM", what)
