"""Places offered from the waiting list (``ateliers.offer_hours`` above 0): when a place frees,
the first in line gets it *offered*: the place is held for them (a registered row whose
``offre_expire_le`` is set) and they are told by a DM with two buttons
(``offre:<inscription_id>:oui`` / ``:non``) and the deadline. « Oui » confirms it; « non » or
the deadline passing gives it to the next in line, offered the same way.

The row is the timer: the scheduler's job (``offre:<inscription_id>``) is a cache rebuilt at
start-up, and an offer that expired while the bot was stopped is passed on then. Passing an
offer on is a conditional change under the atelier's lock (the row must still hold an offer,
due), so it happens once, whichever process or restart gets there first. No Discord here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, NotFound
from bot.i18n import Translations, discord_timestamp
from cogs.ateliers import notices
from cogs.ateliers.info import AtelierInfo
from cogs.ateliers.text import footer_lines, seance_lines
from db import repositories as repo
from db.models import Atelier, EtatInscription, Inscription, Membre, OutboxKind
from db.outbox import enqueue
from db.session import notify_after_commit

log = logging.getLogger(__name__)

#: The ``what`` of the notices (``cogs.ateliers.notices``) about offers.
OFFRE = "offre"
OFFRE_EXPIREE = "offre-expiree"
#: Topic named when offers change (the scheduler's jobs follow).
OFFRES = "offres"


def job_id(inscription_id: int) -> str:
    return f"offre:{inscription_id}"


@dataclass(frozen=True)
class PendingOffer:
    inscription_id: int
    expires_at: datetime


@dataclass(frozen=True)
class OfferAnswer:
    titre: str
    taken: bool  # True: the place is theirs; False: passed on


async def make_offers(
    session: AsyncSession,
    atelier: Atelier | AtelierInfo,
    inscriptions: Sequence[Inscription] | Sequence[int],
    now: datetime,
    hours: int,
) -> None:
    """Hold the places just given to these (registered) rows as offers until ``now + hours``
    and tell each member by DM, with the buttons, in the caller's transaction."""
    ids = [i if isinstance(i, int) else i.id for i in inscriptions]
    if not ids:
        return
    expires = now + timedelta(hours=hours)
    await session.execute(
        update(Inscription).where(Inscription.id.in_(ids)).values(offre_expire_le=expires)
    )
    rows = await session.execute(
        select(Inscription.id, Membre.id, Membre.user_id, Membre.locale)
        .join(Membre, Membre.id == Inscription.membre_id)
        .where(Inscription.id.in_(ids))
    )
    for inscription_id, membre_id, user_id, locale in rows:
        if user_id is None:
            continue
        enqueue(
            session,
            OutboxKind.NOTICE,
            {
                "what": OFFRE,
                "atelier_id": atelier.id,
                "membre_id": membre_id,
                "user_id": user_id,
                "locale": locale,
                "etat": EtatInscription.INSCRIT.value,
                "position": None,
                "changed": [],
                "inscription_id": inscription_id,
                "expires_at": expires.isoformat(),
            },
            now=now,
            guild_id=atelier.guild_id,
            topic=notices.topic(atelier.id),
            user_id=user_id,
        )
    notify_after_commit(session, OFFRES)
    log.info("atelier %s: %d place(s) offered until %s", atelier.id, len(ids), expires)


async def settle_answers(session: AsyncSession, atelier_id: int, membre_ids: Sequence[int]) -> None:
    """Members who answered the whole atelier (« oui » takes an offered place, « non » leaves
    it) hold no offer any more."""
    if membre_ids:
        await session.execute(
            update(Inscription)
            .where(
                Inscription.atelier_id == atelier_id,
                Inscription.membre_id.in_(list(membre_ids)),
                Inscription.offre_expire_le.is_not(None),
            )
            .values(offre_expire_le=None)
        )


class OffreService:
    """Answers to offers and their deadlines (one transaction per use case)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, hours: int = 0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.hours = hours

    async def pending(self) -> list[PendingOffer]:
        """Every offer waiting for an answer: the scheduler's jobs are rebuilt from these."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Inscription.id, Inscription.offre_expire_le)
                .where(
                    Inscription.offre_expire_le.is_not(None),
                    Inscription.etat == EtatInscription.INSCRIT,
                )
                .order_by(Inscription.offre_expire_le, Inscription.id)
            )
            return [PendingOffer(i, at) for i, at in rows.tuples() if at is not None]

    async def guild_of(self, inscription_id: int) -> int:
        """The server of an offer (a click in a DM carries none)."""
        async with self.sessions() as session:
            guild_id = await session.scalar(
                select(Atelier.guild_id)
                .join(Inscription, Inscription.atelier_id == Atelier.id)
                .where(Inscription.id == inscription_id)
            )
        if guild_id is None:
            raise NotFound(N_("Cette offre n'existe plus."))
        return int(guild_id)

    async def answer(
        self, guild_id: int, inscription_id: int, user_id: int, take: bool
    ) -> OfferAnswer:
        """The member's « oui » (the place is theirs) or « non » (it goes to the next)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            inscription, atelier = await self._locked(session, inscription_id)
            membre = await session.get(Membre, inscription.membre_id)
            if atelier.guild_id != guild_id or membre is None or membre.user_id != user_id:
                raise NotFound(N_("Cette offre ne vous est pas adressée."))
            due = inscription.offre_expire_le
            if inscription.etat != EtatInscription.INSCRIT or due is None or due <= now:
                raise Conflict(
                    N_(
                        "Cette offre n'est plus valable : le délai est passé ou la place est "
                        "déjà attribuée. Répondez « Oui » dans l'annonce pour rejoindre la liste "
                        "d'attente."
                    )
                )
            if take:
                inscription.offre_expire_le = None
                inscription.updated_at = now
                notices.refresh(session, atelier, now)
            else:
                await self._pass_on(session, inscription, atelier, now, told=False)
            notify_after_commit(session, OFFRES)
            titre = atelier.titre
        log.info("inscription %s: offer %s", inscription_id, "taken" if take else "declined")
        return OfferAnswer(titre, take)

    async def expire(self, inscription_id: int) -> bool:
        """Pass a due offer on to the next in line, once: True when this call did it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            try:
                inscription, atelier = await self._locked(session, inscription_id)
            except NotFound:
                return False
            due = inscription.offre_expire_le
            if inscription.etat != EtatInscription.INSCRIT or due is None or due > now:
                return False
            await self._pass_on(session, inscription, atelier, now, told=True)
            notify_after_commit(session, OFFRES)
        log.info("inscription %s: offer expired at %s, passed on", inscription_id, due)
        return True

    async def expire_due(self) -> int:
        """Every offer whose deadline passed (at start-up: those that expired while the bot was
        stopped). Returns how many were passed on."""
        now = self.clock.now()
        done = 0
        for offer in await self.pending():
            if offer.expires_at <= now:
                done += await self.expire(offer.inscription_id)
        return done

    async def _locked(
        self, session: AsyncSession, inscription_id: int
    ) -> tuple[Inscription, Atelier]:
        atelier_id = await session.scalar(
            select(Inscription.atelier_id).where(Inscription.id == inscription_id)
        )
        atelier = await repo.lock_atelier(session, atelier_id) if atelier_id else None
        inscription = await session.get(Inscription, inscription_id, populate_existing=True)
        if atelier is None or inscription is None:
            raise NotFound(N_("Cette offre n'existe plus."))
        return inscription, atelier

    async def _pass_on(
        self,
        session: AsyncSession,
        inscription: Inscription,
        atelier: Atelier,
        now: datetime,
        *,
        told: bool,
    ) -> None:
        from cogs.inscriptions import waitlist

        inscription.etat = EtatInscription.NON
        inscription.offre_expire_le = None
        inscription.inscrit_at = None
        inscription.rang_attente = None
        inscription.updated_at = now
        await session.flush()
        membre = await session.get(Membre, inscription.membre_id)
        if told and membre is not None and membre.user_id is not None:
            enqueue(
                session,
                OutboxKind.NOTICE,
                {
                    "what": OFFRE_EXPIREE,
                    "atelier_id": atelier.id,
                    "membre_id": membre.id,
                    "user_id": membre.user_id,
                    "locale": membre.locale,
                    "etat": EtatInscription.NON.value,
                    "position": None,
                    "changed": [],
                },
                now=now,
                guild_id=atelier.guild_id,
                topic=notices.topic(atelier.id),
                user_id=membre.user_id,
            )
        await waitlist.place_freed(session, atelier, now, offer_hours=self.hours)


# --- what the member reads -----------------------------------------------------------------------


def offer_text(tr: Translations, info: AtelierInfo, expires_at: datetime) -> str:
    lines = [
        tr._(
            "Une place s'est libérée pour « {titre} » : elle vous est offerte jusqu'au {date} "
            "({relatif}).",
            titre=info.titre,
            date=discord_timestamp(expires_at, "F"),
            relatif=discord_timestamp(expires_at, "R"),
        ),
        *seance_lines(tr, info.seances),
        tr._(
            "Prenez-la avec « Je prends la place », ou laissez-la à la personne suivante avec "
            "« Je passe mon tour ». Sans réponse avant l'échéance, elle passe à la suivante."
        ),
    ]
    return "\n".join(lines + footer_lines(tr, info))


def expired_text(tr: Translations, info: AtelierInfo) -> str:
    return tr._(
        "Le délai pour prendre la place offerte à « {titre} » est passé : elle est offerte à la "
        "personne suivante. Pour rejoindre la liste d'attente, répondez de nouveau « Oui » dans "
        "l'annonce ou avec /rsvp.",
        titre=info.titre,
    )
