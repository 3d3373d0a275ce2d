"""Reminders, the weekly digest: what the coming days hold, where it is posted, and a claim so
that one process posts it. Mixed into ``RappelService``. No Discord here."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import Clock
from cogs.ateliers.info import load_infos, seance_info
from cogs.reminders.plan import DigestEntry
from cogs.reminders.queries import insert_into
from db import repositories as repo
from db.models import Atelier, BotState, EtatAtelier, Guild, Seance

log = logging.getLogger(__name__)


class DigestSteps:
    """The digest half of ``RappelService``: the coming ateliers, the channel staff chose for
    them (``guild.digest_channel_id``), and a claim per server and week so that one process
    posts it."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    async def digest(self, guild_id: int, *, days: int = 14) -> list[DigestEntry]:
        """Planned ateliers of every chantier whose first séance is in the coming ``days``
        (one already under way is not announced again), soonest first, each with its séances
        in the window."""
        now = self.clock.now()
        earlier = aliased(Seance)
        begun = select(earlier.id).where(earlier.atelier_id == Atelier.id, earlier.starts_at <= now)
        async with self.sessions() as s:
            rows = await s.execute(
                select(Seance, Atelier)
                .join(Atelier, Atelier.id == Seance.atelier_id)
                .where(
                    Atelier.guild_id == guild_id,
                    Atelier.etat == EtatAtelier.PLANIFIE,
                    ~begun.exists(),
                    Seance.starts_at < now + timedelta(days=days),
                    # publier-le: not before its announcement
                    or_(Atelier.publie_le.is_(None), Atelier.publie_le <= now),
                )
                .order_by(Seance.starts_at, Seance.id)
            )
            window: dict[int, tuple[Atelier, list[Seance]]] = {}
            for seance, atelier in rows.tuples():
                window.setdefault(atelier.id, (atelier, []))[1].append(seance)
            infos = await load_infos(s, [a for a, _ in window.values()])
            return [
                DigestEntry(info, tuple(seance_info(x) for x in seances))
                for info, (_, seances) in zip(infos, window.values(), strict=True)
            ]

    async def digest_channel(self, guild_id: int) -> int | None:
        """The channel staff chose for the server's digest, if any."""
        async with self.sessions() as s:
            return await s.scalar(select(Guild.digest_channel_id).where(Guild.id == guild_id))

    async def set_digest_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Choose (or, with None, forget) the server's digest channel."""
        now = self.clock.now()
        async with self.sessions.begin() as s:
            await repo.ensure_guild(s, guild_id, now)
            await s.execute(
                update(Guild).where(Guild.id == guild_id).values(digest_channel_id=channel_id)
            )
        log.info("guild %s: digest channel set to %s", guild_id, channel_id)

    async def claim_digest(self, guild_id: int, week: str) -> bool:
        """Take the digest of ``week`` (e.g. ``"2026-W48"``) for the server: True for exactly
        one caller, whichever process it runs in."""
        now = self.clock.now()
        key = f"digest:{guild_id}:{week}"
        async with self.sessions.begin() as s:
            stmt = (
                insert_into(s, BotState)
                .values(key=key, value=now.isoformat(), updated_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(BotState.key)
            )
            won = (await s.execute(stmt)).scalar_one_or_none() is not None
        log.info("guild %s: digest %s claimed: %s", guild_id, week, won)
        return won
