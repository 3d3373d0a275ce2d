"""What Discord must show once an atelier changed, in one place for the three cogs that change
ateliers (ateliers, rsvp, programme): the announcement (edits coalesced), the scheduled events,
the notices to members, and the ``atelier_changed`` event other cogs listen to (the reminders
plan, re-plan or withdraw theirs: ``on_atelier_changed(atelier_id, kind)`` with ``kind`` one of
``"created"``, ``"modified"``, ``"cancelled"``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cogs.ateliers.announcer import Announcer
from cogs.ateliers.events import EventMirror
from cogs.ateliers.notify import Notifier
from cogs.ateliers.render import cancelled_text, changed_text, promoted_text
from cogs.ateliers.service import AtelierInfo, CancelResult, ModifyResult, Recipient

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

CHANGED_EVENT = "atelier_changed"


class Outreach:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.announcer = Announcer(bot)
        self.notifier = Notifier(bot)
        self.events = EventMirror(bot)

    def _dispatch(self, atelier_id: int, kind: str) -> None:
        self.bot.dispatch(CHANGED_EVENT, atelier_id, kind)

    async def created(self, info: AtelierInfo, channel_id: int | None = None) -> AtelierInfo:
        """A new atelier: reminders planned, announced in ``channel_id`` (default: its
        chantier's channel; none without chantier), its séances mirrored as events."""
        self._dispatch(info.id, "created")
        channel_id = channel_id or await self.announcer.default_channel(info)
        if channel_id is None:
            self._sync_events(info)
            return info
        return await self.announce(info, channel_id)

    async def announce(self, info: AtelierInfo, channel_id: int) -> AtelierInfo:
        """Post the announcement (again) in ``channel_id``; events kept in step."""
        try:
            info = await self.announcer.publish(info, channel_id)
        finally:
            self._sync_events(info)
        return info

    def answered(self, info: AtelierInfo, promoted: Sequence[Recipient] = ()) -> None:
        """An answer changed the counts: edit the announcement soon, tell who got a place."""
        self.announcer.refresh(info.id)
        self.notifier.spawn(
            info, promoted, lambda tr, _r: promoted_text(tr, info), what="promotion"
        )

    def modified(self, before: AtelierInfo, result: ModifyResult) -> int:
        """Announcement, events, reminders in step; the promoted told they have a place, the
        others registered or waiting told what changed. Returns how many are told."""
        info = result.atelier
        self._dispatch(info.id, "modified")
        self.announcer.refresh(info.id)
        kept = {s.scheduled_event_id for s in info.seances}
        stale = [
            s.scheduled_event_id
            for s in before.seances
            if s.scheduled_event_id is not None and s.scheduled_event_id not in kept
        ]
        self._sync_events(info, stale)
        self.notifier.spawn(
            info, result.promoted, lambda tr, _r: promoted_text(tr, info), what="promotion"
        )
        promoted = {p.user_id for p in result.promoted}
        others = [r for r in result.notify if r.user_id not in promoted]
        self.notifier.spawn(
            info,
            others,
            lambda tr, r: changed_text(tr, info, result.changed, r.etat, r.position),
            what="modification",
        )
        return len(others) + len(result.promoted)

    def cancelled(self, result: CancelResult) -> int:
        """Shown as cancelled, events cancelled, reminders withdrawn, everyone told."""
        info = result.atelier
        self._dispatch(info.id, "cancelled")
        self.announcer.refresh(info.id)
        self.bot.tasks.spawn(self.events.cancel(info), name=f"events:{info.id}")
        self.notifier.spawn(
            info, result.notify, lambda tr, _r: cancelled_text(tr, info), what="annulation"
        )
        return len(result.notify)

    def _sync_events(self, info: AtelierInfo, stale: Sequence[int] = ()) -> None:
        self.bot.tasks.spawn(self.events.sync(info, stale=stale), name=f"events:{info.id}")
