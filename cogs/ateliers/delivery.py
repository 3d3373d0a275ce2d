"""The ateliers' outbox handlers: the rows ``notices.py`` writes with each change, delivered on
Discord. Each handler reads the atelier fresh from the database, so a row delivered late shows
the atelier as it is; posts carry the row's nonce, edits are idempotent.

* ``announce``: post the announcement (the chantier's role is its only mention) with its
  discussion thread, remember both, turn an older announcement into a pointer, then queue the
  scheduled events.
* ``refresh``: edit the announcement (the sender spaces edits of one atelier a second apart and
  serves every pending refresh of it with one edit).
* ``events``: Discord's scheduled events in step with the séances.
* ``notice``: a DM in the member's language; when their DMs are closed (50007), a mention of
  exactly them in the atelier's thread.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.delivery import DM_CLOSED_CODE, SendFailed, failure_of, one_attempt
from bot.i18n import Translations
from bot.ports import calendar_file
from bot.threads import MESSAGE_MAX, only_users
from cogs.ateliers import notices
from cogs.ateliers.events import EventMirror
from cogs.ateliers.info import AtelierInfo
from cogs.ateliers.render import announcement_embed, moved_embed
from cogs.ateliers.text import (
    SERVER_LOCALE,
    announcement_content,
    cancelled_text,
    changed_text,
    moved_text,
    promoted_text,
)
from cogs.ateliers.views import announcement_view
from cogs.gestion import text as gestion_text
from cogs.inscriptions import offres
from cogs.inscriptions.buttons import offer_custom_id
from db.models import EtatInscription, OutboxKind
from db.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
THREAD_ARCHIVE_MINUTES = 10080  # a week: the discussion outlives a burst of messages
THREAD_ALREADY_CREATED = 160004


class AtelierDelivery:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.events = EventMirror(bot)

    def register(self) -> None:
        outbox = self.bot.outbox
        outbox.register(OutboxKind.ANNOUNCE, self.announce)
        outbox.register(OutboxKind.REFRESH, self.refresh)
        outbox.register(OutboxKind.EVENTS, self.sync_events)
        outbox.register(OutboxKind.NOTICE, self.notice)

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

    # --- announce ------------------------------------------------------------------------------

    async def announce(self, item: OutboxItem) -> int | None:
        info = await self.bot.services.ateliers.get(item.payload["atelier_id"])
        if item.payload.get("scheduled") and info.announcement_message_id is not None:
            log.info("atelier %s: announced by hand before its publication time", info.id)
            return None
        channel_id = item.payload.get("channel_id") or await self.default_channel(info)
        if channel_id is None or info.cancelled:
            log.info("atelier %s: no channel to announce it in; events only", info.id)
            await self.bot.services.ateliers.queue_events(info.id)
            return None
        label, _, role_id = await self._chantier(info)
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            channel = await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise SendFailed(f"channel {channel_id} takes no messages", permanent=True)
        mentions = discord.AllowedMentions(
            everyone=False,
            users=False,
            roles=[discord.Object(role_id)] if role_id else False,
            replied_user=False,
        )
        tr = self.tr
        primary = info.announcement_message_id is None or channel.id == info.announcement_channel_id
        message = await channel.send(
            announcement_content(tr, info, role_id),
            embed=announcement_embed(
                tr, info, chantier=label, cohosts=await self.bot.services.gestion.cohosts(info.id)
            ),
            view=announcement_view(tr, info),
            allowed_mentions=mentions,
            nonce=item.nonce,
        )
        if not primary:  # a further live announcement, kept in step with the first
            previous_extra = dict(await self.bot.services.ateliers.annonces(info.id)).get(
                channel.id
            )
            await self.bot.services.ateliers.set_annonce(info.id, channel.id, message.id)
            log.info(
                "atelier %s: further announcement in channel %s (message %s)",
                info.id,
                channel.id,
                message.id,
            )
            if previous_extra is not None and previous_extra != message.id:
                await self._retire(info, channel.id, previous_extra, message)
            await self.bot.services.ateliers.queue_refresh(info.id)
            return message.id
        thread_id = info.thread_id
        if thread_id is None and isinstance(channel, discord.TextChannel):
            thread_id = await self._open_thread(info, message)
        previous = (info.announcement_channel_id, info.announcement_message_id)
        await self.bot.services.ateliers.set_announcement(
            info.id, channel_id=channel.id, message_id=message.id, thread_id=thread_id, then=True
        )
        log.info(
            "atelier %s announced in channel %s (message %s, thread %s)",
            info.id,
            channel.id,
            message.id,
            thread_id,
        )
        if (await self.bot.services.ateliers.get(info.id)).counts != info.counts:
            await self.bot.services.ateliers.queue_refresh(info.id)
        if previous[0] is not None and previous[1] is not None and previous[1] != message.id:
            await self._retire(info, previous[0], previous[1], message)
        return message.id

    async def _open_thread(self, info: AtelierInfo, message: discord.Message) -> int | None:
        try:
            thread = await message.create_thread(
                name=info.titre[:THREAD_NAME_MAX], auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:  # a resent row: the thread of that message
                return message.id
            if not failure_of(exc).permanent:
                raise
            log.warning("atelier %s: could not open its thread: %s", info.id, exc)
            return None
        return thread.id

    async def _retire(
        self, info: AtelierInfo, channel_id: int, message_id: int, new: discord.Message
    ) -> None:
        old = self.bot.get_partial_messageable(channel_id, guild_id=info.guild_id)
        try:
            await old.get_partial_message(message_id).edit(
                content=None, embed=moved_embed(self.tr, info, new.jump_url), view=None
            )
        except discord.HTTPException as exc:
            log.info("atelier %s: old announcement %s not retired: %s", info.id, message_id, exc)

    # --- refresh -------------------------------------------------------------------------------

    async def refresh(self, item: OutboxItem) -> int | None:
        """Edit every live announcement of the atelier (the first and the further ones)."""
        info = await self.bot.services.ateliers.get(item.payload["atelier_id"])
        label, _, _ = await self._chantier(info)
        extras = await self.bot.services.ateliers.annonces(info.id)
        # Every live announcement shows the same embed: built (and its co-hosts read) once.
        embed = announcement_embed(
            self.tr, info, chantier=label, cohosts=await self.bot.services.gestion.cohosts(info.id)
        )
        edited = None
        if info.announcement_channel_id is not None and info.announcement_message_id is not None:
            if await self._edit(
                info, embed, info.announcement_channel_id, info.announcement_message_id
            ):
                edited = info.announcement_message_id
            else:
                await self.bot.services.ateliers.set_announcement(
                    info.id, channel_id=None, message_id=None
                )
        for channel_id, message_id in extras:
            if not await self._edit(info, embed, channel_id, message_id):
                await self.bot.services.ateliers.set_annonce(info.id, channel_id, None)
        log.debug(
            "atelier %s: %d announcement(s) edited (%d/%d registered, %d waiting)",
            info.id,
            len(extras) + (edited is not None),
            info.counts.inscrits,
            info.counts.capacite or 0,
            info.counts.attente,
        )
        return edited

    async def _edit(
        self, info: AtelierInfo, embed: discord.Embed, channel_id: int, message_id: int
    ) -> bool:
        """Edit one announcement; False when it was deleted (then it is forgotten)."""
        channel = self.bot.get_partial_messageable(channel_id, guild_id=info.guild_id)
        try:
            await channel.get_partial_message(message_id).edit(
                embed=embed,
                view=announcement_view(self.tr, info),
            )
        except discord.NotFound:
            log.warning(
                "atelier %s: announcement %s was deleted; forgetting it", info.id, message_id
            )
            return False
        return True

    # --- scheduled events ----------------------------------------------------------------------

    async def sync_events(self, item: OutboxItem) -> int | None:
        info = await self.bot.services.ateliers.get(item.payload["atelier_id"])
        await self.events.sync(info, stale=item.payload.get("stale", ()))
        return None

    # --- notices to members --------------------------------------------------------------------

    async def notice(self, item: OutboxItem) -> int | None:
        p = item.payload
        info = await self.bot.services.ateliers.get(p["atelier_id"])
        tr = self.bot.i18n.for_locale(p.get("locale") or SERVER_LOCALE)
        text = _compose(tr, info, p)
        user_id = int(p["user_id"])
        view = _offer_view(tr, int(p["inscription_id"])) if p["what"] == offres.OFFRE else None
        try:
            channel = await one_attempt(self.bot.create_dm(discord.Object(user_id)))
            # A promotion carries the atelier's .ics, rendered now (« Ajouter à mon calendrier »).
            file = (
                await calendar_file(
                    self.bot.ports,
                    info.guild_id,
                    info.id,
                    str(p.get("locale") or SERVER_LOCALE),
                    user_id=user_id,
                    version=info.version,
                )
                if p["what"] == notices.PROMOTION
                else None
            )
            message = await one_attempt(
                channel.send(
                    text[:MESSAGE_MAX],
                    allowed_mentions=discord.AllowedMentions.none(),
                    nonce=item.nonce,
                    **({"file": file} if file is not None else {}),
                    **({"view": view} if view is not None else {}),
                )
            )
        except discord.Forbidden as exc:
            if exc.code != DM_CLOSED_CODE:
                raise
            log.info(
                "atelier %s: %s: user %s does not take DMs; using the thread",
                info.id,
                p["what"],
                user_id,
            )
            return await self._in_thread(info, user_id, text, item.nonce, view)
        log.info("atelier %s: %s told to user %s by DM", info.id, p["what"], user_id)
        return message.id

    async def _in_thread(
        self,
        info: AtelierInfo,
        user_id: int,
        text: str,
        nonce: str,
        view: discord.ui.View | None = None,
    ) -> int:
        target = info.thread_id or info.announcement_channel_id
        if target is None:
            raise SendFailed("DMs closed and no thread nor announcement", permanent=True)
        channel = self.bot.get_partial_messageable(target, guild_id=info.guild_id)
        message = await one_attempt(
            channel.send(
                f"<@{user_id}>\n{text}"[:MESSAGE_MAX],
                allowed_mentions=only_users([user_id]),
                nonce=nonce,
                **({"view": view} if view is not None else {}),
            )
        )
        log.info("atelier %s: user %s told in thread %s", info.id, user_id, target)
        return message.id


class _Buttons(discord.ui.View):
    """Buttons another feature handles (``DynamicItem``s matched by custom id)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


def _offer_view(tr: Translations, inscription_id: int) -> discord.ui.View:
    """« Je prends la place » / « Je passe mon tour »: ``offre:<inscription_id>:oui|non``
    (handled by the inscriptions feature)."""
    view = _Buttons()
    for label, choice, style in (
        (tr.p_("bouton", "Je prends la place"), "oui", discord.ButtonStyle.success),
        (tr.p_("bouton", "Je passe mon tour"), "non", discord.ButtonStyle.secondary),
    ):
        view.add_item(
            discord.ui.Button(
                label=label, style=style, custom_id=offer_custom_id(inscription_id, choice)
            )
        )
    return view


def _compose(tr: Translations, info: AtelierInfo, p: dict[str, object]) -> str:
    what = p["what"]
    if what == notices.PROMOTION:
        return promoted_text(tr, info)
    if what == gestion_text.INSCRIPTION_MAIN:  # registered by hand (cogs/gestion)
        position = p.get("position")
        etat = EtatInscription(str(p["etat"]))
        return gestion_text.registered_text(tr, info, etat, int(position) if position else None)
    if what == gestion_text.RETRAIT_MAIN:
        return gestion_text.removed_text(tr, info)
    if what == offres.OFFRE:  # a place offered from the waiting list (ateliers.offer_hours)
        return offres.offer_text(tr, info, datetime.fromisoformat(str(p["expires_at"])))
    if what == offres.OFFRE_EXPIREE:
        return offres.expired_text(tr, info)
    if what == notices.ANNULATION:
        return cancelled_text(tr, info)
    moves = list(p.get("moves") or ())  # type: ignore[call-overload]
    if what == notices.SEANCE_DEPLACEE:
        return moved_text(tr, info, moves)
    etat = EtatInscription(str(p["etat"]))
    position = p.get("position")
    changed = [str(c) for c in p.get("changed") or ()]  # type: ignore[attr-defined]
    return changed_text(
        tr,
        info,
        changed,
        etat,
        int(position) if position else None,
        diff=p.get("diff") or {},  # type: ignore[arg-type]
        moves=moves,
    )
