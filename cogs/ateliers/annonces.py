"""Further live announcements of an atelier (``/atelier annoncer`` in another channel): the
half of ``AtelierService`` that remembers where they are, so that every refresh edits them all.
No Discord here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, NotFound
from cogs.ateliers.info import ATELIERS
from db.models import Annonce, Atelier
from db.session import notify_after_commit


class AnnonceSteps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    async def annonces(self, atelier_id: int) -> list[tuple[int, int]]:
        """The atelier's further live announcements: (channel id, message id), oldest first."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Annonce.channel_id, Annonce.message_id)
                .where(Annonce.atelier_id == atelier_id)
                .order_by(Annonce.id)
            )
            return [(c, m) for c, m in rows.tuples()]

    async def announcement_in(self, atelier_id: int, channel_id: int) -> int | None:
        """The message id of the atelier's live announcement in that channel, if any."""
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            if atelier.announcement_channel_id == channel_id:
                return atelier.announcement_message_id
        return dict(await self.annonces(atelier_id)).get(channel_id)

    async def set_annonce(self, atelier_id: int, channel_id: int, message_id: int | None) -> None:
        """Remember (or, ``message_id`` None, forget) a further announcement in a channel."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            row = (
                await session.execute(
                    select(Annonce).where(
                        Annonce.atelier_id == atelier_id, Annonce.channel_id == channel_id
                    )
                )
            ).scalar_one_or_none()
            if message_id is None:
                if row is not None:
                    await session.delete(row)
            elif row is None:
                session.add(
                    Annonce(
                        atelier_id=atelier_id,
                        channel_id=channel_id,
                        message_id=message_id,
                        created_at=now,
                    )
                )
            else:
                row.message_id = message_id
