"""The waiting list: the one home of its rule, called by answers, by changes to an atelier
(capacity raised), by erasures and by staff changes alike.

* ``allocation``: a « oui » gets a place while places remain, else the next rank in line.
* ``free_places``: how many of those in line freed places can take now.
* ``promote``: freed places go to the first in line, in order; each is told (outbox) and the
  announcement is refreshed, in the caller's transaction.
* ``position``: 1 for the first in line.

Answers apply ``allocation`` and ``free_places`` in memory, a batch at a time
(``batch.py``); changes to an atelier, erasures and staff changes call ``promote``. The caller
holds the atelier's lock (``repo.lock_atelier``) for the whole transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.ateliers import closing, notices
from cogs.ateliers.info import Recipient
from cogs.inscriptions import offres
from db import repositories as repo
from db.models import Atelier, EtatInscription, Inscription, Membre

log = logging.getLogger(__name__)


def allocation(
    capacite: int | None, inscrits: int, last_rank: int
) -> tuple[EtatInscription, int | None]:
    """Where a new « oui » goes: a place while places remain, else the rank after the last."""
    if capacite is None or inscrits < capacite:
        return EtatInscription.INSCRIT, None
    return EtatInscription.ATTENTE, last_rank + 1


def free_places(capacite: int | None, inscrits: int, waiting: int) -> int:
    """How many of the ``waiting`` members freed places can take now (all, without a limit)."""
    if capacite is None:
        return waiting
    return max(0, min(capacite - inscrits, waiting))


async def position(session: AsyncSession, inscription: Inscription) -> int | None:
    """1 for the first in line; None when not waiting."""
    if inscription.etat != EtatInscription.ATTENTE or inscription.rang_attente is None:
        return None
    return (
        await session.execute(
            select(func.count()).where(
                Inscription.atelier_id == inscription.atelier_id,
                Inscription.etat == EtatInscription.ATTENTE,
                Inscription.rang_attente <= inscription.rang_attente,
            )
        )
    ).scalar_one()


async def positions(
    session: AsyncSession, inscriptions: Sequence[Inscription]
) -> dict[int, int | None]:
    """``position`` of many inscriptions (by inscription id) in one query."""
    waiting = [
        i for i in inscriptions if i.etat == EtatInscription.ATTENTE and i.rang_attente is not None
    ]
    result: dict[int, int | None] = {i.id: None for i in inscriptions}
    if not waiting:
        return result
    ahead = Inscription.__table__.alias("ahead")
    rows = await session.execute(
        select(Inscription.id, func.count(ahead.c.id))
        .join(
            ahead,
            (ahead.c.atelier_id == Inscription.atelier_id)
            & (ahead.c.etat == EtatInscription.ATTENTE)
            & (ahead.c.rang_attente <= Inscription.rang_attente),
        )
        .where(Inscription.id.in_([i.id for i in waiting]))
        .group_by(Inscription.id)
    )
    result.update({inscription_id: n for inscription_id, n in rows})
    return result


async def first_waiting(
    session: AsyncSession, atelier_id: int, limit: int
) -> Sequence[Inscription]:
    return (
        (
            await session.execute(
                select(Inscription)
                .where(
                    Inscription.atelier_id == atelier_id,
                    Inscription.etat == EtatInscription.ATTENTE,
                )
                .order_by(Inscription.rang_attente, Inscription.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def promote(
    session: AsyncSession, atelier: Atelier, now: datetime, *, offer_hours: int = 0
) -> list[Recipient]:
    """Give freed places to the first in line, in order, and tell each of them (outbox).
    Returns who got one. With ``offer_hours`` the places are offered, held that long
    (``offres``). None once answers are closed (``cloture``)."""
    if closing.closed(atelier.cloture, now):
        return []
    counts = await repo.etat_counts(session, atelier.id)
    free = free_places(
        atelier.capacite, counts[EtatInscription.INSCRIT], counts[EtatInscription.ATTENTE]
    )
    if free == 0:
        return []
    waiting = await first_waiting(session, atelier.id, limit=free)
    promoted: list[Recipient] = []
    for inscription in waiting:
        inscription.etat = EtatInscription.INSCRIT
        inscription.rang_attente = None
        inscription.inscrit_at = now
        inscription.updated_at = now
        membre = await session.get(Membre, inscription.membre_id)
        if membre is not None and membre.user_id is not None:
            promoted.append(
                Recipient(
                    membre_id=membre.id,
                    user_id=membre.user_id,
                    locale=membre.locale,
                    etat=EtatInscription.INSCRIT,
                )
            )
    if promoted and offer_hours:
        await session.flush()
        await offres.make_offers(session, atelier, waiting, now, offer_hours)
    elif promoted:
        await session.flush()
        notices.tell(session, atelier, promoted, notices.PROMOTION, now)
        log.info("atelier %s: promoted %d from the waiting list", atelier.id, len(promoted))
    return promoted


async def place_freed(
    session: AsyncSession, atelier: Atelier, now: datetime, *, offer_hours: int = 0
) -> list[Recipient]:
    """After a place or an answer went away (``non``, erasure, staff removal): promote, and
    refresh the announcement whether or not anyone was waiting (« Complet » must go)."""
    promoted = await promote(session, atelier, now, offer_hours=offer_hours)
    notices.refresh(session, atelier, now)
    return promoted
