"""Reminders on Discord: keeping the scheduler in step with the plan, the posts and DMs, the
weekly digest, ``/rappels`` (a member's DM reminders) and ``/partage salon-resume`` (the
digest's channel). The plan itself is written by the ateliers' transactions (``plan_in``); the
scheduler hears of it after their commit."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import p_
from bot.delivery import TRANSPORT_ERRORS, SendFailed, failure_of, one_attempt
from bot.errors import UserError
from bot.interactions import STAFF_DEFAULT_PERMISSIONS, reply, staff_only, tr_of
from cogs.reminders import render
from cogs.reminders.plan import CHANNEL, THREAD, ClaimedRappel, Delivery
from cogs.reminders.render import Outgoing
from cogs.reminders.sender import SWEEP_EVERY, Sender
from cogs.reminders.service import REMINDERS
from db.models import RappelKind

if TYPE_CHECKING:
    from bot.core import PartageBot
    from cogs.chantiers.service import ChantierInfo

log = logging.getLogger(__name__)

SWEEP_JOB = "reminders:sweep"
DIGEST_JOB = "reminders:digest"
DIGEST_DAYS = 14
CHANNEL_LOCALE = "fr"  # posts in a channel are read by everyone: French first

# The staff command's vocabulary (command_text.p_ marks it for the catalog).
GROUP = p_("command-name", "partage")
SALON_RESUME = p_("command-name", "salon-resume")
SALON = p_("option-name", "salon")
GROUP_DESCRIPTION = p_("command-description", "Réglages de Partage pour ce serveur (équipe)")
SALON_RESUME_DESCRIPTION = p_(
    "command-description", "Choisir le salon du résumé hebdomadaire des ateliers"
)
SALON_DESCRIPTION = p_(
    "option-description", "Le salon du résumé (laisser vide pour retirer le choix)"
)


class DiscordTransport:
    """Posts and DMs for the sender, each with its delivery's nonce (``enforce_nonce``)."""

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot

    async def _chantier(self, claimed: ClaimedRappel) -> ChantierInfo | None:
        atelier = claimed.atelier
        if atelier.chantier_id is None:
            return None
        try:
            return await self.bot.services.chantiers.get(atelier.guild_id, atelier.chantier_id)
        except UserError:
            return None

    async def deliver(self, claimed: ClaimedRappel, delivery: Delivery) -> int | None:
        try:
            if delivery.target == CHANNEL:
                message = await self._post(claimed, delivery)
            elif delivery.target == THREAD:
                message = await self._presence_post(claimed, delivery)
            else:
                message = await self._dm(claimed, delivery)
        except TRANSPORT_ERRORS as e:
            raise failure_of(e) from e
        return message.id

    async def _post(self, claimed: ClaimedRappel, delivery: Delivery) -> discord.Message:
        atelier = claimed.atelier
        chantier = await self._chantier(claimed)
        channel_id = chantier.channel_id if chantier else None
        if claimed.kind == RappelKind.SUIVI:
            channel_id = atelier.thread_id or channel_id
        channel_id = channel_id or atelier.announcement_channel_id
        if channel_id is None:
            raise SendFailed("no channel: the atelier has no chantier channel", permanent=True)
        tr = self.bot.i18n.for_locale(CHANNEL_LOCALE)
        out = render.channel_post(tr, claimed, chantier.role_id if chantier else None)
        channel = self.bot.get_partial_messageable(channel_id, guild_id=atelier.guild_id)
        return await self._send(channel, out, delivery.nonce)

    async def _presence_post(self, claimed: ClaimedRappel, delivery: Delivery) -> discord.Message:
        """The « Je suis là » button of a séance's start, in the atelier's thread (attendance)."""
        if claimed.atelier.thread_id is None:
            raise SendFailed("no thread: the atelier's announcement has none", permanent=True)
        tr = self.bot.i18n.for_locale(CHANNEL_LOCALE)
        channel = self.bot.get_partial_messageable(
            claimed.atelier.thread_id, guild_id=claimed.atelier.guild_id
        )
        return await self._send(channel, render.presence_post(tr, claimed), delivery.nonce)

    async def _dm(self, claimed: ClaimedRappel, delivery: Delivery) -> discord.Message:
        if delivery.user_id is None:
            raise SendFailed("the member has no Discord account any more", permanent=True)
        tr = self.bot.i18n.for_locale(delivery.locale or CHANNEL_LOCALE)
        channel = await one_attempt(self.bot.create_dm(discord.Object(delivery.user_id)))
        return await self._send(channel, render.direct_message(tr, claimed), delivery.nonce)

    @staticmethod
    async def _send(
        channel: discord.abc.Messageable, out: Outgoing, nonce: str | None
    ) -> discord.Message:
        # discord.py sends ``enforce_nonce`` with every nonce: a retried post is not duplicated.
        # One bounded attempt: the sender retries on its own schedule.
        return await one_attempt(channel.send(**out.kwargs(), nonce=nonce))  # type: ignore[arg-type]

    async def tell_dm_closed(self, claimed: ClaimedRappel, delivery: Delivery) -> None:
        atelier = claimed.atelier
        chantier = await self._chantier(claimed)
        channel_id = atelier.thread_id or (chantier.channel_id if chantier else None)
        if channel_id is None or delivery.user_id is None:
            log.warning("membre %s: DMs closed and no thread to tell them in", delivery.membre_id)
            return
        tr = self.bot.i18n.for_locale(delivery.locale or CHANNEL_LOCALE)
        out = render.dm_closed_notice(tr, claimed, delivery.user_id)
        channel = self.bot.get_partial_messageable(channel_id, guild_id=atelier.guild_id)
        await self._send(channel, out, None)
        log.info(
            "membre %s told in channel %s that their DM reminders are off",
            delivery.membre_id,
            channel_id,
        )


class RemindersCog(commands.Cog):
    partage = app_commands.Group(
        name=GROUP,
        description=GROUP_DESCRIPTION,
        guild_only=True,
        default_permissions=STAFF_DEFAULT_PERMISSIONS,
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.rappels
        self.sender = Sender(
            self.service, DiscordTransport(bot), bot.scheduler, bot.tasks, bot.clock
        )
        self._changes = asyncio.Lock()  # one scheduler update at a time, in order
        self._started = False
        self._sweep_waiting = False  # a sweep for committed plans waits for ``_changes``
        bot.sessions.on_commit(REMINDERS, self._plan_committed)

    async def cog_load(self) -> None:
        self.bot.tasks.spawn(self.start_up(), name="reminders:start-up")

    def _plan_committed(self) -> None:
        """An atelier's change committed a new plan: bring the scheduler in step. Commits in a
        row share one sweep: one that has not begun yet will read them all."""
        if self._started and not self._sweep_waiting:
            self._sweep_waiting = True
            self.bot.tasks.spawn(self._sweep_committed(), name="reminders:plan-changed")

    async def _sweep_committed(self) -> None:
        async with self._changes:
            self._sweep_waiting = False  # a commit from now on needs a sweep after this one
            await self.sender.sync()

    async def cog_unload(self) -> None:
        for job in (SWEEP_JOB, DIGEST_JOB):
            self.bot.scheduler.cancel(job)
        self.bot.scheduler.cancel_prefix("reminder:")

    async def start_up(self) -> None:
        """Rebuild the scheduler from the table: bring every atelier's rows in step with its
        plan, send what came due while the bot was down (late) or give it up (missed)."""
        try:
            async with self._changes:
                planned = await self.service.plan_unplanned()
                replan, withdraw = await self.service.out_of_step(known=planned.ateliers)
                for atelier_id in replan:
                    self.sender.apply(await self.service.replan_atelier(atelier_id))
                for atelier_id in withdraw:
                    self.sender.unschedule(await self.service.withdraw_atelier(atelier_id))
                overdue = await self.service.startup_overdue()
                self.sender.unschedule(overdue.missed)
                await self.sender.sync()
        finally:  # whatever failed above, the sweep keeps the scheduler in step from now on
            self._started = True
            self.bot.scheduler.every(SWEEP_JOB, SWEEP_EVERY.total_seconds(), self.sweep)
        weekly = self.bot.settings.reminders.digest
        if weekly is not None:
            self.bot.scheduler.weekly(
                DIGEST_JOB,
                weekly.weekday,
                weekly.at.hour,
                weekly.at.minute,
                self.bot.zone,
                self.post_digests,
            )
        log.info(
            "reminders: %d jobs scheduled (late: %s; digest: %s)",
            len(self.bot.scheduler.job_ids("reminder:")),
            [p.id for p in overdue.late],
            weekly,
        )

    async def sweep(self) -> None:
        """Every minute: rows planned or moved by another process, rows a stopped one left."""
        async with self._changes:
            await self.sender.sync()

    # --- /rappels -----------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "rappels"),
        description=p_(
            "command-description", "Activer ou désactiver vos rappels par message privé"
        ),
    )
    @app_commands.describe(
        messages_prives=p_("option-description", "Recevoir les rappels par message privé")
    )
    @app_commands.rename(messages_prives="messages-prives")
    @app_commands.guild_only()
    async def rappels(self, interaction: discord.Interaction, messages_prives: bool) -> None:
        tr = tr_of(interaction)
        enabled = await self.service.set_dm_reminders(
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

    # --- the weekly digest -------------------------------------------------------------------

    async def digest_channel(self, guild_id: int) -> int | None:
        """``reminders.digest_channel`` when it is in this server, else the staff's choice."""
        configured = self.bot.settings.reminders.digest_channel
        if configured is not None:
            channel = self.bot.get_channel(configured)
            guild = getattr(channel, "guild", None)
            if guild is None or guild.id == guild_id:
                return configured
        return await self.service.digest_channel(guild_id)

    async def post_digests(self) -> None:
        for guild in self.bot.guilds:
            try:
                await self.post_digest(guild.id)
            except Exception:
                log.exception("guild %s: the weekly digest failed", guild.id)

    async def post_digest(self, guild_id: int) -> int | None:
        """Post the coming two weeks in the digest channel, once per server and week (one
        process posts it). Returns the message id."""
        channel_id = await self.digest_channel(guild_id)
        if channel_id is None:
            log.info("guild %s: no digest channel chosen; no digest", guild_id)
            return None
        year, week, _ = self.bot.clock.now().astimezone(self.bot.settings.time.zone).isocalendar()
        if not await self.service.claim_digest(guild_id, f"{year}-W{week:02d}"):
            return None
        entries = await self.service.digest(guild_id, days=DIGEST_DAYS)
        chantiers = {
            c.id: c.label
            for c in await self.bot.services.chantiers.chantiers(guild_id, include_archived=True)
        }
        out = render.digest(self.bot.i18n.for_locale(CHANNEL_LOCALE), entries, chantiers)
        # Between the ateliers: open questions without an answer, and those solved this week.
        questions = await self.bot.services.questions.digest(
            guild_id, self.bot.clock.now() - timedelta(days=7)
        )
        render.add_questions(
            self.bot.i18n.for_locale(CHANNEL_LOCALE),
            out,
            guild_id,
            questions.unanswered,
            questions.solved,
        )
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        message = await channel.send(**out.kwargs())  # type: ignore[arg-type]
        log.info("guild %s: digest of %d ateliers posted in %s", guild_id, len(entries), channel_id)
        return message.id

    @partage.command(name=SALON_RESUME, description=SALON_RESUME_DESCRIPTION)
    @app_commands.rename(salon=SALON)
    @app_commands.describe(salon=SALON_DESCRIPTION)
    @staff_only()
    async def salon_resume(
        self, interaction: discord.Interaction, salon: discord.TextChannel | None = None
    ) -> None:
        tr = tr_of(interaction)
        assert interaction.guild_id is not None
        await self.service.set_digest_channel(interaction.guild_id, salon.id if salon else None)
        lines = [
            tr._(
                "Le résumé hebdomadaire des ateliers sera publié dans {salon}.", salon=salon.mention
            )
            if salon
            else tr._("Le résumé hebdomadaire n'a plus de salon choisi sur ce serveur.")
        ]
        settings = self.bot.settings.reminders
        if settings.digest is None:
            lines.append(
                tr._(
                    "Attention : le résumé est désactivé dans la configuration (reminders.digest)."
                )
            )
        elif settings.digest_channel is not None:
            lines.append(
                tr._(
                    "Attention : la configuration (reminders.digest_channel) impose le salon "
                    "{salon} ; ce choix ne servira que si elle est retirée.",
                    salon=f"<#{settings.digest_channel}>",
                )
            )
        await reply(interaction, "\n".join(lines))
