"""Reaching members on Discord, shared by the directory's conversations and the jumelage: a direct
message, a mention in a channel when their DMs are closed, and private threads with a few
members (opened in the first chantier channel they share, else the server's system channel)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import discord

from bot.interactions import NO_MENTIONS

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

MESSAGE_MAX = 2000
THREAD_NAME_MAX = 100
THREAD_ARCHIVE_MINUTES = 10080  # a week: the thread stays in the list until the check-in


def only_users(user_ids: Iterable[int]) -> discord.AllowedMentions:
    """Mentions that ping exactly these members, never a role or everyone."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        replied_user=False,
        users=[discord.Object(u) for u in user_ids],
    )


def distinct(*locales: str) -> list[str]:
    """Each language once, in order: a message to several members is written in each."""
    return list(dict.fromkeys(locales))


def mentions(user_ids: Iterable[int]) -> str:
    return " ".join(f"<@{u}>" for u in user_ids)


def member_name(guild: discord.Guild | None, user_id: int, fallback: str | None = None) -> str:
    """The member's name on the server (from the cache), else the stored one."""
    member = guild.get_member(user_id) if guild is not None else None
    if member is not None:
        return member.display_name
    return fallback or f"#{str(user_id)[-4:]}"


async def send_dm(
    bot: PartageBot,
    user_id: int,
    content: str,
    *,
    view: discord.ui.View | None = None,
    what: str,
) -> discord.Message | None:
    """A direct message, mentions off; None when the member does not take DMs (50007)."""
    try:
        channel = await bot.create_dm(discord.Object(user_id))
        if view is None:
            return await channel.send(content[:MESSAGE_MAX], allowed_mentions=NO_MENTIONS)
        return await channel.send(content[:MESSAGE_MAX], view=view, allowed_mentions=NO_MENTIONS)
    except discord.Forbidden as exc:
        log.info("%s: user %s does not take DMs (%s)", what, user_id, exc.code)
    except discord.HTTPException as exc:
        log.warning("%s: DM to user %s failed: %s", what, user_id, exc)
    return None


async def send_in_channel(
    channel: discord.abc.Messageable,
    user_ids: Sequence[int],
    content: str,
    *,
    view: discord.ui.View | None = None,
    what: str,
) -> discord.Message | None:
    """A message that mentions (and pings) exactly ``user_ids``; None if Discord refuses."""
    text = f"{mentions(user_ids)}\n{content}" if user_ids else content
    try:
        if view is None:
            return await channel.send(text[:MESSAGE_MAX], allowed_mentions=only_users(user_ids))
        return await channel.send(
            text[:MESSAGE_MAX], view=view, allowed_mentions=only_users(user_ids)
        )
    except discord.HTTPException as exc:
        log.warning("%s: message for users %s refused: %s", what, list(user_ids), exc)
    return None


async def meeting_channel(
    bot: PartageBot, guild: discord.Guild, chantier_ids: Iterable[int]
) -> discord.TextChannel | None:
    """Where members meet: the channel of the first of these chantiers (by id) that has one,
    else the server's system channel."""
    wanted = set(chantier_ids)
    if wanted:
        for chantier in await bot.services.chantiers.chantiers(guild.id):
            if chantier.id in wanted and chantier.channel_id:
                channel = guild.get_channel(chantier.channel_id)
                if isinstance(channel, discord.TextChannel):
                    return channel
    return guild.system_channel


async def open_private_thread(
    channel: discord.TextChannel,
    name: str,
    user_ids: Sequence[int],
    content: str,
    *,
    view: discord.ui.View | None = None,
    what: str,
) -> discord.Thread | None:
    """A private thread with these members, opened by a message that mentions them; None (and
    a log line) when Discord refuses, e.g. a missing permission."""
    try:
        thread = await channel.create_thread(
            name=name[:THREAD_NAME_MAX],
            type=discord.ChannelType.private_thread,
            invitable=False,
            auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            reason=f"Partage: {what}",
        )
    except discord.HTTPException as exc:
        log.warning(
            "%s: private thread in channel %s for users %s refused: %s",
            what,
            channel.id,
            list(user_ids),
            exc,
        )
        return None
    for user_id in user_ids:
        try:
            await thread.add_user(discord.Object(user_id))
        except discord.HTTPException as exc:
            log.warning("%s: user %s not added to thread %s: %s", what, user_id, thread.id, exc)
    await send_in_channel(thread, user_ids, content, view=view, what=what)
    log.info("%s: private thread %s opened for users %s", what, thread.id, list(user_ids))
    return thread
