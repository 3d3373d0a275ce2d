"""Discord's scheduled events, mirrored from the séances: one external event per future séance
with a time, kept in step when the atelier changes, cancelled with it.

The location is the place, or the meeting service's name for a video meeting, never the link
itself (events are visible to the whole server; the link is for registered members). The
description says that Discord's « Intéressé » is not a registration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import discord

from bot.delivery import SendFailed, failure_of
from bot.i18n import Translations
from cogs.ateliers.info import AtelierInfo, SeanceInfo
from cogs.ateliers.text import SERVER_LOCALE, jump_url

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

NAME_MAX = 100
LOCATION_MAX = 100
DESCRIPTION_MAX = 1000

_SERVICES = {
    "zoom.us": "Zoom",
    "teams.microsoft.com": "Microsoft Teams",
    "teams.live.com": "Microsoft Teams",
    "meet.google.com": "Google Meet",
    "webex.com": "Webex",
    "whereby.com": "Whereby",
    "meet.jit.si": "Jitsi Meet",
}


def meeting_service(lien: str | None) -> str | None:
    """The name of the service behind a meeting link (``https://x.zoom.us/j/1`` → Zoom)."""
    if not lien:
        return None
    host = (urlparse(lien).hostname or "").lower().removeprefix("www.")
    for domain, name in _SERVICES.items():
        if host == domain or host.endswith("." + domain):
            return name
    return host or None


def location(info: AtelierInfo) -> str:
    """The place; for a place written as a link, or beside a meeting link, the service's name."""
    service = meeting_service(info.lien)
    lieu = info.lieu.strip()
    if "://" in lieu or lieu.lower().startswith("www."):
        lieu = meeting_service(lieu if "://" in lieu else "https://" + lieu) or ""
    if service and service.lower() not in lieu.lower():
        lieu = f"{lieu} ({service})" if lieu else service
    return (lieu or info.lieu)[:LOCATION_MAX]


def event_name(tr: Translations, info: AtelierInfo, index: int) -> str:
    if len(info.seances) == 1:
        return info.titre[:NAME_MAX]
    suffix = tr._(" (séance {n} sur {total})", n=index + 1, total=len(info.seances))
    return info.titre[: NAME_MAX - len(suffix)] + suffix


def event_description(tr: Translations, info: AtelierInfo) -> str:
    note = tr._(
        "« Intéressé » ne vous inscrit pas : pour réserver votre place, répondez « Oui » dans "
        "l'annonce de l'atelier ou avec /rsvp."
    )
    url = jump_url(info)
    tail = note + (f"\n{url}" if url else "")
    body = info.description.strip()
    room = DESCRIPTION_MAX - len(tail) - 2
    if len(body) > room:
        body = body[: max(room - 1, 0)] + "…"
    return f"{body}\n\n{tail}" if body else tail


class EventMirror:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot

    def _eligible(self, seance: SeanceInfo, now: datetime) -> bool:
        """Séances with a time that have not started (imported history has no time)."""
        return (
            seance.local_time is not None and seance.ends_at is not None and seance.starts_at > now
        )

    async def sync(self, info: AtelierInfo, *, stale: Iterable[int] = ()) -> None:
        """Create or update one event per eligible séance; delete ``stale`` events (those of
        séances that no longer exist). A transient failure raises (the outbox retries); a
        permanent one (a missing permission) is logged and the rest goes on."""
        guild = self.bot.get_guild(info.guild_id)
        if guild is None:
            raise SendFailed(f"guild {info.guild_id} not available yet", permanent=False)
        tr = self.bot.i18n.for_locale(SERVER_LOCALE)
        now = self.bot.clock.now()
        for event_id in stale:
            await self._delete(guild, info.id, event_id)
        if info.cancelled:
            await self.cancel(info)
            return
        wanted = {
            "location": location(info),
            "description": event_description(tr, info),
        }
        for index, seance in enumerate(info.seances):
            if not self._eligible(seance, now):
                continue
            fields = {
                **wanted,
                "name": event_name(tr, info, index),
                "start_time": seance.starts_at,
                "end_time": seance.ends_at,
            }
            try:
                await self._upsert(guild, info, seance, fields)
            except discord.HTTPException as exc:
                if not failure_of(exc).permanent:
                    raise
                log.warning(
                    "atelier %s: scheduled event of séance %s not mirrored: %s",
                    info.id,
                    seance.id,
                    exc,
                )

    async def _upsert(
        self, guild: discord.Guild, info: AtelierInfo, seance: SeanceInfo, fields: dict[str, Any]
    ) -> None:
        event = None
        if seance.scheduled_event_id is not None:
            try:
                event = await guild.fetch_scheduled_event(seance.scheduled_event_id)
            except discord.NotFound:
                event = None
        if event is None:
            event = await guild.create_scheduled_event(
                entity_type=discord.EntityType.external,
                privacy_level=discord.PrivacyLevel.guild_only,
                reason=f"Partage: atelier {info.id}",
                **fields,
            )
            await self.bot.services.ateliers.set_scheduled_event(seance.id, event.id)
            log.info("atelier %s: séance %s has scheduled event %s", info.id, seance.id, event.id)
            return
        if event.status != discord.EventStatus.scheduled:
            return
        current = {
            "location": event.location,
            "description": event.description,
            "name": event.name,
            "start_time": event.start_time,
            "end_time": event.end_time,
        }
        if current != fields:
            await event.edit(reason=f"Partage: atelier {info.id} modifié", **fields)
            log.info("atelier %s: scheduled event %s updated", info.id, event.id)

    async def cancel(self, info: AtelierInfo) -> None:
        """Cancel the events of a cancelled atelier (Discord hides cancelled events)."""
        guild = self.bot.get_guild(info.guild_id)
        if guild is None:
            raise SendFailed(f"guild {info.guild_id} not available yet", permanent=False)
        for seance in info.seances:
            if seance.scheduled_event_id is None:
                continue
            try:
                event = await guild.fetch_scheduled_event(seance.scheduled_event_id)
                if event.status == discord.EventStatus.scheduled:
                    await event.cancel(reason=f"Partage: atelier {info.id} annulé")
                    log.info("atelier %s: scheduled event %s cancelled", info.id, event.id)
            except discord.HTTPException as exc:
                if not failure_of(exc).permanent:
                    raise
                log.warning(
                    "atelier %s: scheduled event %s not cancelled: %s",
                    info.id,
                    seance.scheduled_event_id,
                    exc,
                )

    async def _delete(self, guild: discord.Guild, atelier_id: int, event_id: int) -> None:
        try:
            event = await guild.fetch_scheduled_event(event_id)
            await event.delete()
            log.info("atelier %s: scheduled event %s deleted", atelier_id, event_id)
        except discord.NotFound:
            pass
        except discord.HTTPException as exc:
            log.warning("atelier %s: scheduled event %s not deleted: %s", atelier_id, event_id, exc)
