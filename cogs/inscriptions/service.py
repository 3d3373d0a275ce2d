"""Inscriptions: answers oui / peut-être / non, the waiting list, a member's own list.

Every answer runs in one transaction holding the atelier's lock, so capacity and the order of
the waiting list hold under any concurrency, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, NotFound
from cogs.ateliers import notices
from cogs.ateliers.info import AtelierInfo, Counts, Recipient, atelier_info, load_info
from cogs.inscriptions import waitlist
from db import repositories as repo
from db.models import (
    Atelier,
    EtatAtelier,
    EtatInscription,
    Inscription,
    Intake,
    IntakeStatus,
    Membre,
    Reponse,
    Seance,
    SeanceReponse,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerResult:
    """What an answer did. ``etat`` is where the member now stands for the atelier; with a
    séance, ``seance_reponse`` is their answer for that séance."""

    atelier: AtelierInfo
    membre_id: int
    previous: EtatInscription | None
    etat: EtatInscription | None
    position: int | None
    promoted: tuple[Recipient, ...]
    seance_id: int | None = None
    seance_reponse: Reponse | None = None

    @property
    def changed(self) -> bool:
        return self.previous != self.etat or self.seance_id is not None


@dataclass(frozen=True)
class MemberStatus:
    """Where one member stands for one atelier (``etat`` None: never answered)."""

    atelier: AtelierInfo
    etat: EtatInscription | None
    position: int | None


@dataclass(frozen=True)
class MemberInscription:
    atelier: AtelierInfo
    etat: EtatInscription
    position: int | None
    seance_reponses: dict[int, Reponse]


def _seance_started(seance: Seance, now: datetime) -> bool:
    """A séance with a time has started at that time; one without a time, on its day."""
    if seance.local_time is not None:
        return seance.starts_at <= now
    return seance.local_date <= now.astimezone(ZoneInfo(seance.timezone)).date()


class InscriptionService:
    """Answers and the waiting list."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def answer(
        self,
        guild_id: int,
        atelier_id: int,
        user_id: int,
        reponse: Reponse,
        *,
        seance_id: int | None = None,
        display_name: str | None = None,
        locale: str | None = None,
        intake_id: int | None = None,
    ) -> AnswerResult:
        """Record a member's answer, for the whole atelier or (with ``seance_id``) one séance.
        With ``intake_id``, the saved click is marked applied in the same transaction. What
        follows (the announcement's counts, notices to promoted members) is in the outbox."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            atelier = await repo.lock_atelier(session, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            if atelier.etat == EtatAtelier.ANNULE:
                raise Conflict(
                    N_("L'atelier « {titre} » est annulé : il n'accepte plus de réponses."),
                    titre=atelier.titre,
                )
            seances = list(await repo.seances_of(session, atelier.id))
            if all(_seance_started(s, now) for s in seances):
                raise Conflict(
                    N_("L'atelier « {titre} » a déjà commencé : les réponses sont closes."),
                    titre=atelier.titre,
                )
            membre = await repo.upsert_membre(
                session, guild_id, user_id, now, display_name=display_name, locale=locale
            )
            inscription = await repo.inscription_of(session, atelier.id, membre.id)
            previous = EtatInscription(inscription.etat) if inscription else None
            if seance_id is not None:
                seance = next((s for s in seances if s.id == seance_id), None)
                if seance is None:
                    raise NotFound(N_("Séance n° {id} introuvable pour cet atelier."), id=seance_id)
                if _seance_started(seance, now):
                    raise Conflict(N_("Cette séance a déjà commencé."))
                await self._answer_seance(
                    session, atelier, seance, membre, inscription, reponse, now
                )
                promoted: list[Recipient] = []
                etat = previous
            else:
                inscription = await self._answer_atelier(
                    session, atelier, membre, inscription, reponse, now
                )
                etat = EtatInscription(inscription.etat)
                promoted = (
                    await waitlist.promote(session, atelier, now)
                    if previous == EtatInscription.INSCRIT and etat != EtatInscription.INSCRIT
                    else []
                )
            await session.flush()
            position = await waitlist.position(session, inscription) if inscription else None
            if previous != etat or seance_id is not None:
                notices.refresh(session, atelier, now)
            if intake_id is not None:
                await self._applied(
                    session,
                    intake_id,
                    {"etat": etat.value if etat else None, "position": position},
                )
            # The séances were read above and an answer does not change them: only the counts.
            info = atelier_info(atelier, seances, await repo.etat_counts(session, atelier.id))
        log.info(
            "atelier %s: membre %s answered %s%s -> %s",
            atelier_id,
            membre.id,
            reponse.value,
            f" for séance {seance_id}" if seance_id else "",
            etat.value if etat else None,
        )
        return AnswerResult(
            atelier=info,
            membre_id=membre.id,
            previous=previous,
            etat=etat,
            position=position,
            promoted=tuple(promoted),
            seance_id=seance_id,
            seance_reponse=reponse if seance_id is not None else None,
        )

    async def _answer_atelier(
        self,
        session: AsyncSession,
        atelier: Atelier,
        membre: Membre,
        inscription: Inscription | None,
        reponse: Reponse,
        now: datetime,
    ) -> Inscription:
        current = inscription.etat if inscription is not None else None
        if inscription is None:
            # Added to the session only once its state is known (queries below autoflush).
            inscription = Inscription(
                atelier_id=atelier.id, membre_id=membre.id, created_at=now, updated_at=now
            )
        if reponse == Reponse.OUI:
            if current in (EtatInscription.INSCRIT, EtatInscription.ATTENTE):
                return inscription  # already holding a place or a rank: keep it
            await waitlist.allocate(session, atelier, inscription, now)
        else:
            inscription.etat = (
                EtatInscription.PEUT_ETRE if reponse == Reponse.PEUT_ETRE else EtatInscription.NON
            )
            inscription.rang_attente = None
            inscription.inscrit_at = None
        inscription.updated_at = now
        session.add(inscription)
        await session.flush()
        return inscription

    async def _answer_seance(
        self,
        session: AsyncSession,
        atelier: Atelier,
        seance: Seance,
        membre: Membre,
        inscription: Inscription | None,
        reponse: Reponse,
        now: datetime,
    ) -> None:
        """A per-séance exception. A registered member may skip a séance (``non``/``peut-etre``)
        and come back (``oui``); a member without a place may attend one séance with ``oui``
        only while that séance has room."""
        existing = (
            await session.execute(
                select(SeanceReponse).where(
                    SeanceReponse.seance_id == seance.id, SeanceReponse.membre_id == membre.id
                )
            )
        ).scalar_one_or_none()
        registered = inscription is not None and inscription.etat == EtatInscription.INSCRIT
        if reponse == Reponse.OUI and registered:
            if existing is not None:
                await session.delete(existing)
            return
        if reponse == Reponse.OUI and atelier.capacite is not None:
            attending = await self._attendance(session, atelier.id, seance.id)
            if attending >= atelier.capacite:
                raise Conflict(
                    N_(
                        "Cette séance est complète ; répondez « oui » à l'atelier entier pour "
                        "rejoindre la liste d'attente."
                    )
                )
        if existing is None:
            session.add(
                SeanceReponse(
                    seance_id=seance.id, membre_id=membre.id, reponse=reponse, updated_at=now
                )
            )
        else:
            existing.reponse = reponse
            existing.updated_at = now

    async def _attendance(self, session: AsyncSession, atelier_id: int, seance_id: int) -> int:
        """Members expected at one séance: registered ones who did not skip it, plus those who
        said ``oui`` to this séance alone."""
        registered = {
            m.id
            for _, m in await repo.members_with_etat(session, atelier_id, [EtatInscription.INSCRIT])
        }
        answers = await repo.seance_reponses(session, [seance_id])
        skipping = {r.membre_id for r in answers if r.reponse != Reponse.OUI}
        extra = {r.membre_id for r in answers if r.reponse == Reponse.OUI} - registered
        return len(registered - skipping) + len(extra)

    async def seance_attendance(self, atelier_id: int) -> dict[int, int]:
        """Expected attendance per séance id."""
        async with self.sessions() as session:
            seances = await repo.seances_of(session, atelier_id)
            return {s.id: await self._attendance(session, atelier_id, s.id) for s in seances}

    async def of_member(self, guild_id: int, user_id: int) -> list[MemberInscription]:
        """A member's upcoming ateliers where they hold a place, a rank, or said maybe."""
        now = self.clock.now()
        async with self.sessions() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            if membre is None:
                return []
            upcoming = {a.id: a for a in await repo.upcoming_ateliers(session, guild_id, now)}
            rows = (
                await session.execute(
                    select(Inscription).where(
                        Inscription.membre_id == membre.id,
                        Inscription.atelier_id.in_(list(upcoming)),
                        Inscription.etat != EtatInscription.NON,
                    )
                )
            ).scalars()
            out: list[MemberInscription] = []
            for inscription in rows:
                atelier = upcoming[inscription.atelier_id]
                seances = await repo.seances_of(session, atelier.id)
                answers = await repo.seance_reponses(session, [s.id for s in seances])
                out.append(
                    MemberInscription(
                        atelier=atelier_info(
                            atelier, seances, await repo.etat_counts(session, atelier.id)
                        ),
                        etat=EtatInscription(inscription.etat),
                        position=await waitlist.position(session, inscription),
                        seance_reponses={
                            r.seance_id: Reponse(r.reponse)
                            for r in answers
                            if r.membre_id == membre.id
                        },
                    )
                )
            out.sort(key=lambda mi: mi.atelier.seances[0].starts_at if mi.atelier.seances else now)
            return out

    async def counts(self, atelier_id: int) -> Counts:
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            return (await load_info(session, atelier)).counts

    async def member_status(self, guild_id: int, atelier_id: int, user_id: int) -> MemberStatus:
        """One member's standing for one atelier, read fresh (the meeting-link button)."""
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            info = await load_info(session, atelier)
            membre = await repo.find_membre(session, guild_id, user_id)
            inscription = (
                await repo.inscription_of(session, atelier_id, membre.id) if membre else None
            )
            if inscription is None:
                return MemberStatus(info, None, None)
            return MemberStatus(
                info,
                EtatInscription(inscription.etat),
                await waitlist.position(session, inscription),
            )

    async def statuses(
        self, guild_id: int, user_id: int, atelier_ids: list[int]
    ) -> dict[int, tuple[EtatInscription, int | None]]:
        """A member's standing (answer, waiting position) in each of these ateliers where
        they answered, ``non`` included (``of_member`` leaves those out)."""
        if not atelier_ids:
            return {}
        async with self.sessions() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            if membre is None:
                return {}
            rows = (
                await session.execute(
                    select(Inscription).where(
                        Inscription.membre_id == membre.id,
                        Inscription.atelier_id.in_(atelier_ids),
                    )
                )
            ).scalars()
            return {
                i.atelier_id: (EtatInscription(i.etat), await waitlist.position(session, i))
                for i in rows
            }

    # --- the intake: answers saved before they are acknowledged ------------------------------

    async def receive(self, clicks: Sequence[Click]) -> dict[int, int]:
        """Save clicks before Discord is told they were received (one transaction for a batch:
        a burst is saved in a few commits). Returns each interaction id's intake id; a click
        already saved (Discord retried the event) keeps its row."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            ids = [c.interaction_id for c in clicks]
            rows = await session.execute(
                select(Intake.interaction_id, Intake.id).where(Intake.interaction_id.in_(ids))
            )
            known: dict[int, int] = {interaction_id: row_id for interaction_id, row_id in rows}
            fresh = [
                Intake(
                    interaction_id=c.interaction_id,
                    application_id=c.application_id,
                    token=c.token,
                    guild_id=c.guild_id,
                    user_id=c.user_id,
                    atelier_id=c.atelier_id,
                    seance_id=c.seance_id,
                    reponse=c.reponse.value,
                    display_name=(c.display_name or "")[:100] or None,
                    locale=c.locale,
                    status=IntakeStatus.RECEIVED,
                    received_at=now,
                )
                for c in clicks
                if c.interaction_id not in known
            ]
            session.add_all(fresh)
            await session.flush()
            known.update({row.interaction_id: row.id for row in fresh})
        return known

    async def refused(self, intake_id: int, message_id: str, values: dict[str, object]) -> None:
        """The answer was refused (a UserError): remember why, to tell the member."""
        async with self.sessions.begin() as session:
            await self._applied(session, intake_id, {"error": message_id, "values": values})

    async def _applied(
        self, session: AsyncSession, intake_id: int, result: dict[str, object]
    ) -> None:
        row = await session.get(Intake, intake_id)
        if row is not None and row.status == IntakeStatus.RECEIVED:
            row.status = IntakeStatus.APPLIED
            row.result = result

    async def answered(self, intake_id: int, *, expired: bool = False) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(Intake, intake_id)
            if row is not None and row.status != IntakeStatus.ANSWERED:
                row.status = IntakeStatus.EXPIRED if expired else IntakeStatus.ANSWERED
                row.answered_at = self.clock.now()

    async def unfinished(self, since: datetime) -> list[SavedClick]:
        """Saved clicks not yet answered, received after ``since`` (their token still lives),
        in the order they came; older ones are closed as expired."""
        async with self.sessions.begin() as session:
            open_ = (IntakeStatus.RECEIVED, IntakeStatus.APPLIED)
            await session.execute(
                update(Intake)
                .where(Intake.status.in_(open_), Intake.received_at < since)
                .values(status=IntakeStatus.EXPIRED)
            )
            rows = (
                await session.execute(
                    select(Intake).where(Intake.status.in_(open_)).order_by(Intake.id)
                )
            ).scalars()
            return [
                SavedClick(
                    intake_id=r.id,
                    click=Click(
                        interaction_id=r.interaction_id,
                        application_id=r.application_id,
                        token=r.token,
                        guild_id=r.guild_id,
                        user_id=r.user_id,
                        atelier_id=r.atelier_id,
                        seance_id=r.seance_id,
                        reponse=Reponse(r.reponse),
                        display_name=r.display_name,
                        locale=r.locale,
                    ),
                    applied=r.status == IntakeStatus.APPLIED,
                    result=dict(r.result or {}),
                )
                for r in rows
            ]


@dataclass(frozen=True)
class Click:
    """An answer as it arrives (a button or ``/rsvp``), with what is needed to answer it
    later: the interaction's application id and token."""

    interaction_id: int
    application_id: int
    token: str
    guild_id: int
    user_id: int
    atelier_id: int
    seance_id: int | None
    reponse: Reponse
    display_name: str | None
    locale: str


@dataclass(frozen=True)
class SavedClick:
    intake_id: int
    click: Click
    applied: bool
    result: dict[str, object]
