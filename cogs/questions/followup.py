"""The questions' periodic work on Discord, and what /faq shows of a question: the bump of an
unanswered question (a gentle message and one more personne-ressource), the « peut-être »
nudge by DM, the poll and the « Je veux continuer » button after an atelier's last séance,
the gathering thread, and the poll's results read back for /statistiques.

The bump, the nudge and the follow-up are claimed in the database with their outbox rows in
one transaction (claim, then send; ``delivery.py`` sends them): exactly once, also across
processes and crashes. A question's and an answer's text stay in Discord: the FAQ links to
them."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.i18n import Translations
from bot.interactions import reply, tr_of
from bot.threads import member_name, open_private_thread, send_in_channel
from cogs.questions.relance import DueBump
from cogs.questions.service import FaqItem

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

HISTORY_LIMIT = 100


class Followups:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.questions = bot.services.questions
        self.suivi = bot.services.suivi
        self._gathering: dict[int, asyncio.Lock] = {}

    async def run(self) -> None:
        steps = (
            self.questions.drop_unposted,
            self.send_bumps,
            self.send_nudges,
            self.send_followups,
            self.read_polls,
        )
        for step in steps:
            try:
                await step()
            except Exception:
                log.exception("questions: %s failed", step.__name__)

    # --- threads -------------------------------------------------------------------------------

    async def _thread(self, guild_id: int, thread_id: int) -> discord.Thread | None:
        guild = self.bot.get_guild(guild_id)
        found = guild.get_thread(thread_id) if guild is not None else None
        if found is not None:
            return found
        try:
            channel = await self.bot.fetch_channel(thread_id)
        except discord.HTTPException:
            return None
        return channel if isinstance(channel, discord.Thread) else None

    async def _others(self, thread: discord.Thread, asker: int | None) -> list[discord.Message]:
        """Messages of the thread by someone other than the bot and the asker, oldest first."""
        me = self.bot.user.id if self.bot.user else 0
        found = [
            m
            async for m in thread.history(limit=HISTORY_LIMIT, oldest_first=True)
            if m.author.id not in (me, asker) and not m.author.bot
        ]
        return found

    # --- the bump ------------------------------------------------------------------------------

    async def send_bumps(self) -> None:
        for due in await self.questions.due_bumps():
            if self.bot.serves_guild(due.guild_id):
                await self._bump(due)

    async def _bump(self, due: DueBump) -> None:
        """Read the thread for an answer by someone else, then claim the bump: the claim
        writes its message to the outbox in the same transaction."""
        what = f"guild {due.guild_id}: question {due.question_id}"
        thread = await self._thread(due.guild_id, due.thread_id)
        if thread is None:
            log.info("%s: thread %s is gone; no bump", what, due.thread_id)
            await self.questions.mark_answered(due.question_id)
            return
        if await self._others(thread, due.asker_user_id):
            await self.questions.mark_answered(due.question_id)
            log.info("%s: answered; no bump", what)
            return
        if await self.questions.claim_bump(due.question_id) is not None:
            log.info("%s: bump queued for thread %s", what, thread.id)

    # --- nudges --------------------------------------------------------------------------------

    async def send_nudges(self) -> None:
        """Claim each due nudge; the claim writes its DM to the outbox."""
        for nudge in await self.suivi.due_nudges():
            if self.bot.serves_guild(nudge.guild_id):
                await self.suivi.claim_nudge(nudge.seance_id, nudge.membre_id)

    # --- after the last séance -----------------------------------------------------------------

    async def send_followups(self) -> None:
        """Claim each due follow-up; the claim writes the poll and the button to the outbox."""
        for followup in await self.suivi.due_followups():
            if self.bot.serves_guild(followup.guild_id):
                await self.suivi.claim_followup(followup.atelier_id)

    async def read_polls(self) -> None:
        """Read back the counts of the follow-up polls not closed yet (for /statistiques)."""
        for ref in await self.suivi.polls_to_read():
            if not self.bot.serves_guild(ref.guild_id):
                continue
            channel = self.bot.get_partial_messageable(ref.channel_id, guild_id=ref.guild_id)
            try:
                message = await channel.fetch_message(ref.message_id)
            except discord.NotFound:
                await self.suivi.set_results(ref.atelier_id, {}, final=True)  # deleted
                continue
            except discord.HTTPException as exc:
                log.warning("atelier %s: poll not read: %s", ref.atelier_id, exc)
                continue
            if message.poll is None:
                continue
            counts = {a.text: a.vote_count for a in message.poll.answers}
            await self.suivi.set_results(ref.atelier_id, counts, final=message.poll.is_finalised())

    async def join_gathering(self, interaction: discord.Interaction, atelier_id: int) -> None:
        tr = tr_of(interaction)
        guild = interaction.guild
        if guild is None:
            return
        user_id = interaction.user.id
        await interaction.response.defer(ephemeral=True, thinking=True)
        lock = self._gathering.setdefault(atelier_id, asyncio.Lock())
        async with lock:
            g = await self.suivi.gathering(atelier_id, guild.id)
            thread = (
                await self._thread(guild.id, g.gathering_thread_id)
                if g.gathering_thread_id
                else None
            )
            if thread is None:
                parent = await self._parent(guild, g.thread_id)
                if parent is None:
                    await reply(interaction, tr._("Le fil de suivi n'a pas pu être ouvert."))
                    return
                users = list(dict.fromkeys(u for u in (g.organizer_user_id, user_id) if u))
                fr = self.bot.i18n.for_locale("fr")
                content = fr._(
                    "Ce fil réunit celles et ceux qui veulent poursuivre après « {titre} ». "
                    "Les prochains qui cliqueront sur « Je veux continuer » s'y ajouteront.",
                    titre=g.titre,
                )
                thread = await open_private_thread(
                    parent,
                    fr._("Suite : {titre}", titre=g.titre),
                    users,
                    content,
                    what=f"guild {guild.id}: gathering of atelier {atelier_id}",
                )
                if thread is None:
                    await reply(interaction, tr._("Le fil de suivi n'a pas pu être ouvert."))
                    return
                await self.suivi.set_gathering_thread(atelier_id, thread.id)
            else:
                await thread.add_user(discord.Object(user_id))
                await send_in_channel(
                    thread,
                    [],
                    self.bot.i18n.for_locale("fr")._(
                        "{nom} se joint à la suite.", nom=member_name(guild, user_id)
                    ),
                    what=f"guild {guild.id}: gathering of atelier {atelier_id}",
                )
        await reply(interaction, tr._("Vous êtes dans le fil de suivi : {fil}", fil=thread.mention))

    async def _parent(
        self, guild: discord.Guild, thread_id: int | None
    ) -> discord.TextChannel | None:
        if thread_id is None:
            return None
        thread = await self._thread(guild.id, thread_id)
        parent = thread.parent if thread is not None else None
        if isinstance(parent, discord.TextChannel):
            return parent
        if thread is not None:
            channel = guild.get_channel(thread.parent_id)
            if isinstance(channel, discord.TextChannel):
                return channel
        return None

    # --- what /faq shows -----------------------------------------------------------------------

    async def faq_line(self, guild: discord.Guild, item: FaqItem, tr: Translations) -> str:
        """Title, tags, a link to the question and to its first answer (the bot reads no
        message content: answers stay in Discord)."""
        thread = await self._thread(guild.id, item.thread_id)
        if thread is None:
            return tr._("(question n° {id} : son fil n'existe plus)", id=item.question_id)
        tags = ", ".join(t.name for t in thread.applied_tags)
        lines = [f"**{thread.name}**" + (f" — {tags}" if tags else ""), thread.jump_url]
        answers = await self._others(thread, item.asker_user_id)
        if answers:
            lines.append(tr._("Première réponse : {lien}", lien=answers[0].jump_url))
        return "\n".join(lines)
