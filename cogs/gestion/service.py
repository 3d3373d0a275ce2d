"""Staff operations by hand: register or remove a member (``/atelier inscrire``, ``retirer``:
the waiting list's rules apply, the member is told through the outbox, the audit log names who
did it) and co-hosts (``/atelier coanimer``: staff rights on one atelier). No Discord here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, NotFound, UserError
from cogs.ateliers import notices
from cogs.ateliers.info import ATELIERS, Recipient
from cogs.gestion.text import INSCRIPTION_MAIN, RETRAIT_MAIN
from cogs.inscriptions import waitlist
from cogs.inscriptions.batch import Answer, AnswerBatch
from db import repositories as repo
from db.models import Coanimateur, EtatAtelier, EtatInscription, Membre, Reponse
from db.session import notify_after_commit

log = logging.getLogger(__name__)

#: Topics named by these writes (the ateliers' cache of next ateliers is cleared).
TOPICS = (ATELIERS,)


@dataclass(frozen=True)
class ByHand:
    """What ``inscrire`` or ``retirer`` did: where the member stands now (``None`` once
    removed); ``changed`` is false when they already stood there (nobody is told)."""

    titre: str
    etat: EtatInscription | None
    position: int | None
    changed: bool
    promoted: int = 0


@dataclass(frozen=True)
class CohostChange:
    titre: str
    added: bool  # named (True) or removed (False)
    changed: bool
    #: Other ateliers the member co-hosts after this change (0: none, their access to
    #: ``/atelier`` in Discord's settings can go).
    others: int = 0


class GestionService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, offer_hours: int = 0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        #: ``ateliers.offer_hours``: above 0, a place a removal frees is offered.
        self.offer_hours = offer_hours

    async def inscrire(
        self,
        guild_id: int,
        atelier_id: int,
        user_id: int,
        *,
        display_name: str | None,
        actor_user_id: int,
    ) -> ByHand:
        """Register a member as if they had said « oui » (a place, or the waiting list when
        full), tell them, and record who did it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            for topic in TOPICS:
                notify_after_commit(session, topic)
            batch = AnswerBatch(session, now, set(), offer_hours=self.offer_hours)
            answer = Answer(guild_id, user_id, Reponse.OUI, display_name=display_name)
            (result,) = await batch.run(atelier_id, [answer])
            if isinstance(result, UserError):
                raise result
            changed = result.previous != result.etat
            if changed:
                membre = await session.get(Membre, result.membre_id)
                assert membre is not None and result.etat is not None
                notices.tell(
                    session,
                    result.atelier,
                    [Recipient(membre.id, user_id, membre.locale, result.etat, result.position)],
                    INSCRIPTION_MAIN,
                    now,
                )
                await repo.audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=actor_user_id,
                    action="inscription.by_hand",
                    atelier_id=atelier_id,
                    details={"membre_id": membre.id, "etat": result.etat.value},
                    at=now,
                )
        log.info(
            "atelier %s: membre %s registered by %s (%s)",
            atelier_id,
            result.membre_id,
            actor_user_id,
            result.etat,
        )
        return ByHand(
            result.atelier.titre,
            result.etat,
            result.position,
            changed,
            len(result.promoted),
        )

    async def retirer(
        self, guild_id: int, atelier_id: int, user_id: int, *, actor_user_id: int
    ) -> ByHand:
        """Remove a member's answer to an atelier: a place they held goes to the first in line
        (told, as any promotion); the member is told; the audit log names who did it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            for topic in TOPICS:
                notify_after_commit(session, topic)
            atelier = await repo.lock_atelier(session, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            if atelier.etat == EtatAtelier.ANNULE:
                raise Conflict(N_("L'atelier « {titre} » est annulé."), titre=atelier.titre)
            membre = await repo.find_membre(session, guild_id, user_id)
            inscription = (
                await repo.inscription_of(session, atelier_id, membre.id) if membre else None
            )
            if (
                membre is None
                or inscription is None
                or inscription.etat not in (EtatInscription.INSCRIT, EtatInscription.ATTENTE)
            ):
                raise Conflict(
                    N_("Cette personne n'est ni inscrite ni en liste d'attente pour « {titre} »."),
                    titre=atelier.titre,
                )
            held = EtatInscription(inscription.etat)
            await session.delete(inscription)
            await session.flush()
            promoted = await waitlist.place_freed(
                session, atelier, now, offer_hours=self.offer_hours
            )
            notices.tell(
                session,
                atelier,
                [Recipient(membre.id, user_id, membre.locale, held)],
                RETRAIT_MAIN,
                now,
            )
            await repo.audit(
                session,
                guild_id=guild_id,
                actor_user_id=actor_user_id,
                action="inscription.remove_by_hand",
                atelier_id=atelier_id,
                details={"membre_id": membre.id, "etat": held.value},
                at=now,
            )
            titre = atelier.titre
        log.info(
            "atelier %s: membre %s removed by %s (%d promoted)",
            atelier_id,
            membre.id,
            actor_user_id,
            len(promoted),
        )
        return ByHand(titre, None, None, True, len(promoted))

    async def coanimer(
        self,
        guild_id: int,
        atelier_id: int,
        user_id: int,
        *,
        display_name: str | None,
        actor_user_id: int,
        retirer: bool = False,
    ) -> CohostChange:
        """Name a co-host of one atelier (or remove one); the announcement shows them."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            for topic in TOPICS:
                notify_after_commit(session, topic)
            atelier = await repo.lock_atelier(session, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            membre = await repo.upsert_membre(
                session, guild_id, user_id, now, display_name=display_name
            )
            found = await session.scalar(
                select(Coanimateur.id).where(
                    Coanimateur.atelier_id == atelier_id, Coanimateur.membre_id == membre.id
                )
            )
            changed = (found is None) != retirer
            if changed and retirer:
                await session.execute(delete(Coanimateur).where(Coanimateur.id == found))
            elif changed:
                session.add(
                    Coanimateur(
                        guild_id=guild_id,
                        atelier_id=atelier_id,
                        membre_id=membre.id,
                        added_by_user_id=actor_user_id,
                        created_at=now,
                    )
                )
            if changed:
                notices.refresh(session, atelier, now)
                await repo.audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=actor_user_id,
                    action="atelier.cohost_remove" if retirer else "atelier.cohost_add",
                    atelier_id=atelier_id,
                    details={"membre_id": membre.id},
                    at=now,
                )
            titre = atelier.titre
            others = await session.scalar(
                select(func.count()).where(
                    Coanimateur.membre_id == membre.id, Coanimateur.atelier_id != atelier_id
                )
            )
        return CohostChange(titre, not retirer, changed, others=int(others or 0))

    async def cohosts(self, atelier_id: int) -> list[int]:
        """The Discord ids of the atelier's co-hosts (for the announcement), in naming order."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Membre.user_id)
                .join(Coanimateur, Coanimateur.membre_id == Membre.id)
                .where(Coanimateur.atelier_id == atelier_id, Membre.user_id.is_not(None))
                .order_by(Coanimateur.id)
            )
            return [int(u) for u in rows.scalars()]
