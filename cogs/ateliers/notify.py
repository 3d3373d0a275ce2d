"""Telling members about their atelier: by direct message in their language, or, when their
DMs are closed (Discord error 50007), by a mention in the atelier's thread. The mention is the
only one the bot allows itself: exactly the members concerned, never a role or everyone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.i18n import Translations
from cogs.ateliers.service import AtelierInfo, Recipient

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

MESSAGE_MAX = 2000
MENTIONS_PER_MESSAGE = 40

Compose = Callable[[Translations, Recipient], str]


@dataclass(frozen=True)
class Delivery:
    """How many were told by DM, in the thread, or not at all."""

    dm: int
    thread: int
    failed: int


class Notifier:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot

    def spawn(
        self, info: AtelierInfo, recipients: Sequence[Recipient], compose: Compose, *, what: str
    ) -> None:
        """Tell them in the background (a click or a command does not wait for the DMs)."""
        if recipients:
            self.bot.tasks.spawn(
                self.tell(info, recipients, compose, what=what),
                name=f"notify:{what}:{info.id}",
            )

    async def tell(
        self, info: AtelierInfo, recipients: Sequence[Recipient], compose: Compose, *, what: str
    ) -> Delivery:
        dm = 0
        fallback: dict[str, list[int]] = {}
        for recipient in recipients:
            text = compose(self.bot.i18n.for_locale(recipient.locale), recipient)
            if await self._dm(recipient.user_id, text, info.id, what):
                dm += 1
            else:
                fallback.setdefault(text, []).append(recipient.user_id)
        thread = failed = 0
        for text, user_ids in fallback.items():
            for start in range(0, len(user_ids), MENTIONS_PER_MESSAGE):
                batch = user_ids[start : start + MENTIONS_PER_MESSAGE]
                if await self._in_thread(info, batch, text, what):
                    thread += len(batch)
                else:
                    failed += len(batch)
        log.info(
            "atelier %s: %s told to %d by DM, %d in the thread, %d not reached",
            info.id,
            what,
            dm,
            thread,
            failed,
        )
        return Delivery(dm, thread, failed)

    async def _dm(self, user_id: int, text: str, atelier_id: int, what: str) -> bool:
        try:
            channel = await self.bot.create_dm(discord.Object(user_id))
            await channel.send(text[:MESSAGE_MAX], allowed_mentions=discord.AllowedMentions.none())
        except discord.Forbidden as exc:
            log.info(
                "atelier %s: %s: user %s does not take DMs (%s); using the thread",
                atelier_id,
                what,
                user_id,
                exc.code,
            )
            return False
        except discord.HTTPException as exc:
            log.warning("atelier %s: %s: DM to user %s failed: %s", atelier_id, what, user_id, exc)
            return False
        return True

    async def _in_thread(
        self, info: AtelierInfo, user_ids: Sequence[int], text: str, what: str
    ) -> bool:
        target = info.thread_id or info.announcement_channel_id
        if target is None:
            log.warning(
                "atelier %s: %s: no thread nor announcement to reach users %s",
                info.id,
                what,
                list(user_ids),
            )
            return False
        mentions = " ".join(f"<@{u}>" for u in user_ids)
        allowed = discord.AllowedMentions(
            everyone=False,
            roles=False,
            users=[discord.Object(u) for u in user_ids],
            replied_user=False,
        )
        channel = self.bot.get_partial_messageable(target, guild_id=info.guild_id)
        try:
            await channel.send(f"{mentions}\n{text}"[:MESSAGE_MAX], allowed_mentions=allowed)
        except discord.HTTPException as exc:
            log.warning(
                "atelier %s: %s: thread %s refused the notice for users %s: %s",
                info.id,
                what,
                target,
                list(user_ids),
                exc,
            )
            return False
        return True
