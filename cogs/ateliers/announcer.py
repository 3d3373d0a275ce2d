"""The announcement of an atelier: posted with its thread, then kept in step with the database.

Counts change with every click; editing the message on each would make a burst of 500 clicks
500 edits, far past Discord's limit of about five edits per five seconds in a channel. So a
change only marks the atelier *dirty*; one task per atelier edits the message at most once per
``min_interval`` seconds, each time from a fresh read of the database, and runs again as long
as changes came in meanwhile, so the last edit always shows the final state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.i18n import Translations
from cogs.ateliers.render import (
    SERVER_LOCALE,
    announcement_content,
    announcement_embed,
    jump_url,
    moved_embed,
)
from cogs.ateliers.service import AtelierInfo
from cogs.ateliers.views import announcement_view

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
THREAD_ARCHIVE_MINUTES = 10080  # a week: the discussion outlives a burst of messages


class Announcer:
    """Posts announcements and edits them, coalescing bursts of changes."""

    def __init__(self, bot: PartageBot, *, min_interval: float = 1.0) -> None:
        self.bot = bot
        self.min_interval = min_interval
        self._dirty: set[int] = set()
        self._running: set[int] = set()
        self._last_edit: dict[int, float] = {}
        #: Edits made, by atelier (for the logs and the benchmark).
        self.edits: dict[int, int] = {}

    @property
    def tr(self) -> Translations:
        return self.bot.i18n.for_locale(SERVER_LOCALE)

    async def _chantier(self, info: AtelierInfo) -> tuple[str | None, int | None, int | None]:
        """The chantier's label, channel and role, when the atelier has a chantier."""
        if info.chantier_id is None:
            return None, None, None
        chantier = await self.bot.services.chantiers.get(info.guild_id, info.chantier_id)
        return chantier.label, chantier.channel_id, chantier.role_id

    async def default_channel(self, info: AtelierInfo) -> int | None:
        """Where an atelier is announced unless told otherwise: its chantier's channel."""
        return (await self._chantier(info))[1]

    async def publish(self, info: AtelierInfo, channel_id: int) -> AtelierInfo:
        """Post the announcement in ``channel_id`` with its discussion thread (kept when the
        atelier already has one) and remember both. An older announcement is turned into a
        pointer to the new one. Returns the atelier as now stored."""
        tr = self.tr
        label, _, role_id = await self._chantier(info)
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            channel = await self.bot.fetch_channel(channel_id)
        assert isinstance(channel, discord.abc.Messageable)
        mentions = discord.AllowedMentions(
            everyone=False,
            users=False,
            roles=[discord.Object(role_id)] if role_id else False,
            replied_user=False,
        )
        message = await channel.send(
            announcement_content(tr, info, role_id),
            embed=announcement_embed(tr, info, chantier=label),
            view=announcement_view(tr, info),
            allowed_mentions=mentions,
        )
        thread_id = info.thread_id
        if thread_id is None and isinstance(channel, discord.TextChannel):
            try:
                thread = await message.create_thread(
                    name=info.titre[:THREAD_NAME_MAX],
                    auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                )
                thread_id = thread.id
            except discord.HTTPException as exc:
                log.warning("atelier %s: could not open its thread: %s", info.id, exc)
        previous = (info.announcement_channel_id, info.announcement_message_id)
        await self.bot.services.ateliers.set_announcement(
            info.id, channel_id=channel.id, message_id=message.id, thread_id=thread_id
        )
        log.info(
            "atelier %s announced in channel %s (message %s, thread %s)",
            info.id,
            channel.id,
            message.id,
            thread_id,
        )
        fresh = await self.bot.services.ateliers.get(info.id)
        if fresh.counts != info.counts:  # answers came in while it was being posted
            self.refresh(info.id)
        if previous[0] is not None and previous[1] is not None and previous[1] != message.id:
            await self._retire(fresh, previous[0], previous[1])
        return fresh

    async def _retire(self, info: AtelierInfo, channel_id: int, message_id: int) -> None:
        url = jump_url(info) or ""
        old = self.bot.get_partial_messageable(channel_id, guild_id=info.guild_id)
        try:
            await old.get_partial_message(message_id).edit(
                content=None, embed=moved_embed(self.tr, info, url), view=None
            )
        except discord.HTTPException as exc:
            log.info("atelier %s: old announcement %s not retired: %s", info.id, message_id, exc)

    # --- coalesced edits ---------------------------------------------------------------------

    def refresh(self, atelier_id: int) -> None:
        """Note that the atelier changed; its announcement will be edited soon."""
        self._dirty.add(atelier_id)
        if atelier_id not in self._running:
            self._running.add(atelier_id)
            self.bot.tasks.spawn(self._run(atelier_id), name=f"announcement:{atelier_id}")

    async def _run(self, atelier_id: int) -> None:
        try:
            while atelier_id in self._dirty:
                last = self._last_edit.get(atelier_id)
                if last is not None:
                    wait = last + self.min_interval - self.bot.clock.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                self._dirty.discard(atelier_id)
                try:
                    await self._edit(atelier_id)
                finally:
                    self._last_edit[atelier_id] = self.bot.clock.monotonic()
        finally:
            self._running.discard(atelier_id)

    async def _edit(self, atelier_id: int) -> None:
        info = await self.bot.services.ateliers.get(atelier_id)
        if info.announcement_channel_id is None or info.announcement_message_id is None:
            return
        label, _, _ = await self._chantier(info)
        channel = self.bot.get_partial_messageable(
            info.announcement_channel_id, guild_id=info.guild_id
        )
        message = channel.get_partial_message(info.announcement_message_id)
        try:
            await message.edit(
                embed=announcement_embed(self.tr, info, chantier=label),
                view=announcement_view(self.tr, info),
            )
        except discord.NotFound:
            log.warning(
                "atelier %s: announcement %s was deleted; forgetting it",
                atelier_id,
                info.announcement_message_id,
            )
            await self.bot.services.ateliers.set_announcement(
                atelier_id, channel_id=None, message_id=None
            )
            return
        except discord.HTTPException as exc:
            log.warning("atelier %s: announcement not edited: %s", atelier_id, exc)
            return
        self.edits[atelier_id] = self.edits.get(atelier_id, 0) + 1
        log.debug(
            "atelier %s: announcement edited (%d/%d registered, %d waiting)",
            atelier_id,
            info.counts.inscrits,
            info.counts.capacite or 0,
            info.counts.attente,
        )
