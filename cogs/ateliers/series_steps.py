"""Series, the use cases over « la suite » of one atelier: the half of ``AtelierService`` that
answers ``portee:la-suite`` and « Toute la série ». No Discord here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, InvalidInput, NotFound, UserError
from cogs.ateliers.info import ATELIERS, CancelResult, ModifyResult, check_raison
from db.models import Atelier, EtatAtelier, Seance
from db.session import notify_after_commit

if TYPE_CHECKING:
    from cogs.ateliers.service import AtelierChanges

log = logging.getLogger(__name__)


class SeriesSteps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    # AtelierService's own steps, which each use case here runs for one atelier of the series.
    _modify_in: Callable[..., Awaitable[ModifyResult]]
    _cancel_in: Callable[..., Awaitable[CancelResult]]

    async def series_rest(self, guild_id: int, atelier_id: int) -> list[int]:
        """This atelier and the later planned ateliers of its series (only itself when it is
        in none), in the order of their first séance."""
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            if atelier.serie_id is None:
                return [atelier_id]
            first = (
                select(Seance.atelier_id, func.min(Seance.starts_at).label("first"))
                .group_by(Seance.atelier_id)
                .subquery()
            )
            rows = (
                await session.execute(
                    select(Atelier.id, first.c.first)
                    .join(first, first.c.atelier_id == Atelier.id)
                    .where(
                        Atelier.serie_id == atelier.serie_id,
                        Atelier.etat == EtatAtelier.PLANIFIE,
                    )
                    .order_by(first.c.first, Atelier.id)
                )
            ).tuples()
            found = list(rows)
        start = next((when for i, when in found if i == atelier_id), None)
        if start is None:
            return [atelier_id]
        return [i for i, when in found if when >= start]

    async def modify_series(
        self,
        guild_id: int,
        atelier_id: int,
        changes: AtelierChanges,
        *,
        actor_user_id: int | None = None,
    ) -> list[ModifyResult]:
        """``modify`` this atelier and each later one of its series, in one transaction. A
        later one the change does not fit (nothing to change there, more registered than a
        lower capacity) is left as it is: those checks come before anything is written."""
        if changes.seances is not None or changes.duree_minutes is not None:
            raise InvalidInput(
                N_(
                    "Les dates et la durée se modifient séance par séance : retirez "
                    "portee:la-suite."
                )
            )
        if changes.is_empty():
            raise InvalidInput(N_("Rien à modifier : donnez au moins une option."))
        from cogs.ateliers.service import validate_numbers, validate_text

        validate_text(
            titre=changes.titre,
            description=changes.description,
            lieu=changes.lieu,
            lien=changes.lien,
        )
        validate_numbers(duree_minutes=None, capacite=changes.capacite)
        ids = await self.series_rest(guild_id, atelier_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            results = [
                await self._modify_in(session, guild_id, ids[0], changes, actor_user_id, now)
            ]
            for other in ids[1:]:
                try:
                    results.append(
                        await self._modify_in(session, guild_id, other, changes, actor_user_id, now)
                    )
                except UserError as exc:
                    log.info("atelier %s: series change not applied: %s", other, exc)
        log.info("atelier %s and its series modified (%d ateliers)", atelier_id, len(results))
        return results

    async def cancel_series(
        self,
        guild_id: int,
        atelier_id: int,
        *,
        raison: str | None = None,
        actor_user_id: int | None = None,
    ) -> list[CancelResult]:
        """``cancel`` this atelier and each later planned one of its series, in one
        transaction."""
        check_raison(raison)
        ids = await self.series_rest(guild_id, atelier_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            results = [
                await self._cancel_in(session, guild_id, i, raison, actor_user_id, now) for i in ids
            ]
        log.info("atelier %s and its series cancelled (%d ateliers)", atelier_id, len(results))
        return results
