"""Inscriptions: answers oui / peut-être / non, the waiting list, a member's own list.

Every answer runs in one transaction holding the atelier's lock, so capacity and the order of
the waiting list hold under any concurrency, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, NotFound, UserError
from bot.groupcommit import GroupCommit
from cogs.ateliers.info import AtelierInfo, Counts, load_info, load_infos
from cogs.inscriptions import waitlist
from cogs.inscriptions.batch import Answer, AnswerBatch, AnswerResult, attendance
from db import repositories as repo
from db.models import (
    Atelier,
    EtatInscription,
    Inscription,
    Intake,
    IntakeStatus,
    Reponse,
)

log = logging.getLogger(__name__)

#: Saved clicks, their ids back (``InscriptionService.receive``).
_INTAKE = Intake.__table__
_SAVE_CLICKS = insert(_INTAKE).returning(_INTAKE.c.id, _INTAKE.c.interaction_id)
#: Answers to one atelier applied in one transaction (a burst of 2,000: forty batches).
APPLY_BATCH = 50
#: A saved « Toute la série » click's ``result``: the ateliers to answer, and each one's
#: outcome once applied (by atelier id, as text: JSON keys).
SERIE = "serie"
DONE = "done"


@dataclass(frozen=True)
class MemberStatus:
    """Where one member stands for one atelier (``etat`` None: never answered)."""

    atelier: AtelierInfo
    etat: EtatInscription | None
    position: int | None
    #: Séances not yet over that the member said « oui » to alone (a place at that séance).
    seances_oui: tuple[int, ...] = ()


@dataclass(frozen=True)
class MemberInscription:
    atelier: AtelierInfo
    etat: EtatInscription
    position: int | None
    seance_reponses: dict[int, Reponse]


class InscriptionService:
    """Answers and the waiting list."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, offer_hours: int = 0
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        #: ``ateliers.offer_hours``: above 0, freed places are offered (``offres``).
        self.offer_hours = offer_hours
        #: Guilds whose row exists (ensured once per process, not at every answer).
        self._guilds: set[int] = set()

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
        """Record one member's answer (``answer_many`` with one answer); a refusal is raised."""
        answer = Answer(guild_id, user_id, reponse, seance_id, display_name, locale, intake_id)
        (result,) = await self.answer_many(atelier_id, [answer])
        if isinstance(result, UserError):
            raise result
        return result

    async def answer_many(
        self, atelier_id: int, answers: Sequence[Answer]
    ) -> list[AnswerResult | UserError]:
        """Record answers to one atelier, in order, in one transaction (``batch.py``): each
        gets its own result, or the refusal that concerns it alone. Saved clicks
        (``intake_id``) are marked applied in the same transaction. What follows (the
        announcement's counts, notices to promoted members) is in the outbox."""
        async with self.sessions.begin() as session:
            batch = AnswerBatch(
                session, self.clock.now(), self._guilds, offer_hours=self.offer_hours
            )
            results = await batch.run(atelier_id, answers)
        batch.committed()
        self._guilds |= batch.guilds_ensured
        for a, r in zip(answers, results, strict=True):
            if isinstance(r, AnswerResult):
                log.info(
                    "atelier %s: membre %s answered %s%s -> %s",
                    atelier_id,
                    r.membre_id,
                    a.reponse.value,
                    f" for séance {a.seance_id}" if a.seance_id else "",
                    r.etat.value if r.etat else None,
                )
        return results

    async def seance_attendance(self, atelier_id: int) -> dict[int, int]:
        """Expected attendance per séance id."""
        async with self.sessions() as session:
            seances = await repo.seances_of(session, atelier_id)
            return {s.id: await attendance(session, atelier_id, s.id) for s in seances}

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
            inscriptions = list(rows)
            infos = {
                info.id: info
                for info in await load_infos(
                    session, [upcoming[i.atelier_id] for i in inscriptions]
                )
            }
            places = await waitlist.positions(session, inscriptions)
            answers = await repo.seance_reponses(
                session,
                [s.id for info in infos.values() for s in info.seances],
                membre_id=membre.id,
            )
            out = [
                MemberInscription(
                    atelier=infos[i.atelier_id],
                    etat=EtatInscription(i.etat),
                    position=places[i.id],
                    seance_reponses={
                        r.seance_id: Reponse(r.reponse)
                        for r in answers
                        if r.seance_id in {s.id for s in infos[i.atelier_id].seances}
                    },
                )
                for i in inscriptions
            ]
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
            seances_oui: tuple[int, ...] = ()
            if membre is not None:
                now = self.clock.now()
                running = [
                    s.id for s in info.seances if repo.is_running(s.starts_at, s.ends_at, now)
                ]
                answers = await repo.seance_reponses(session, list(running), membre_id=membre.id)
                seances_oui = tuple(a.seance_id for a in answers if a.reponse == Reponse.OUI)
            if inscription is None:
                return MemberStatus(info, None, None, seances_oui)
            return MemberStatus(
                info,
                EtatInscription(inscription.etat),
                await waitlist.position(session, inscription),
                seances_oui,
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
            inscriptions = list(rows)
            places = await waitlist.positions(session, inscriptions)
            return {i.atelier_id: (EtatInscription(i.etat), places[i.id]) for i in inscriptions}

    # --- the intake: answers saved before they are acknowledged ------------------------------

    async def receive(self, clicks: Sequence[Click]) -> list[int]:
        """Save clicks before Discord is told they were received, a batch per transaction
        (``bot.groupcommit``: while one batch commits, the next fills up, so a burst of hundreds
        costs a handful of commits and every acknowledgement stays within Discord's three
        seconds). Returns each click's intake id, in order; a click already saved (Discord
        retried the event) keeps its row."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            ids = [c.interaction_id for c in clicks]
            rows = await session.execute(
                select(Intake.interaction_id, Intake.id).where(Intake.interaction_id.in_(ids))
            )
            known: dict[int, int] = {interaction_id: row_id for interaction_id, row_id in rows}
            fresh = {
                c.interaction_id: {
                    "interaction_id": c.interaction_id,
                    "application_id": c.application_id,
                    "token": c.token,
                    "guild_id": c.guild_id,
                    "user_id": c.user_id,
                    "atelier_id": c.atelier_id,
                    "seance_id": c.seance_id,
                    "reponse": c.reponse.value,
                    "display_name": (c.display_name or "")[:100] or None,
                    "locale": c.locale,
                    "status": IntakeStatus.RECEIVED,
                    # « Toute la série »: the ateliers answered, fixed at the click.
                    "result": {SERIE: list(c.serie), DONE: {}} if c.serie else None,
                    "received_at": now,
                }
                for c in clicks
                if c.interaction_id not in known
            }
            if fresh:
                # Core, not the ORM's unit of work: under a burst this is on the way to every
                # acknowledgement (one multi-row INSERT … RETURNING per batch).
                rows = await session.execute(_SAVE_CLICKS, list(fresh.values()))
                known.update({interaction_id: row_id for row_id, interaction_id in rows})
        return [known[c.interaction_id] for c in clicks]

    async def answered_many(self, marks: Sequence[tuple[int, bool]]) -> list[None]:
        """Saved clicks told (or, ``True``, expired before they could be): one transaction
        for a batch. Returns one None per mark (``GroupCommit``)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            for expired in (False, True):
                ids = [intake_id for intake_id, e in marks if e == expired]
                if ids:
                    await session.execute(
                        update(Intake)
                        .where(Intake.id.in_(ids), Intake.status != IntakeStatus.ANSWERED)
                        .values(
                            status=IntakeStatus.EXPIRED if expired else IntakeStatus.ANSWERED,
                            answered_at=now,
                        )
                    )
        return [None] * len(marks)

    async def unfinished(self, since: datetime) -> list[SavedClick]:
        """Saved clicks not yet answered, received after ``since`` (their token still lives),
        in the order they came; older ones are closed as expired."""
        async with self.sessions.begin() as session:
            open_ = (IntakeStatus.RECEIVED, IntakeStatus.APPLIED)
            old = (
                await session.execute(
                    select(Intake.id, Intake.status, Intake.result).where(
                        Intake.status.in_(open_), Intake.received_at < since
                    )
                )
            ).all()
            # A series answer already partly applied is finished (only its telling is lost):
            # never left half done.
            expired = [
                row_id
                for row_id, status, result in old
                if not (status == IntakeStatus.RECEIVED and (result or {}).get(DONE))
            ]
            if expired:
                await session.execute(
                    update(Intake).where(Intake.id.in_(expired)).values(status=IntakeStatus.EXPIRED)
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
                        serie=tuple(int(i) for i in (r.result or {}).get(SERIE, ())),
                    ),
                    applied=r.status == IntakeStatus.APPLIED,
                    result=dict(r.result or {}),
                )
                for r in rows
            ]


class SeriesAnswers:
    """« Toute la série »: one saved click (``receive`` with ``Click.serie``) answers « oui »
    to several ateliers, each in its own transaction holding that atelier's lock (by the rules
    of its own places and waiting list). Each step writes its outcome into the saved click in
    the same transaction as the answer, so a process stopped midway resumes where it stopped
    (``apply``, called again after the restart) and no atelier is answered twice."""

    def __init__(self, service: InscriptionService) -> None:
        self.service = service

    async def apply(self, intake_id: int) -> list[tuple[int, dict[str, object]]]:
        """Apply what is left of the saved series click ``intake_id``; return every atelier's
        outcome (``{"etat", "position"}`` or ``{"error", "values"}``), in the series' order."""
        async with self.service.sessions() as session:
            row = await session.get(Intake, intake_id)
            ids = [int(i) for i in ((row.result if row else None) or {}).get(SERIE, ())]
        for atelier_id in ids:
            await self._step(intake_id, atelier_id, last=atelier_id == ids[-1])
        async with self.service.sessions() as session:
            row = await session.get(Intake, intake_id)
            done = dict(((row.result if row else None) or {}).get(DONE, {}))
        return [(i, dict(done[str(i)])) for i in ids if str(i) in done]

    async def _step(self, intake_id: int, atelier_id: int, *, last: bool) -> None:
        service = self.service
        async with service.sessions.begin() as session:
            row = (
                await session.execute(
                    select(Intake).where(Intake.id == intake_id).with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                return  # erased meanwhile (the member's data)
            progress = dict(row.result or {})
            done = dict(progress.get(DONE, {}))
            if str(atelier_id) in done or row.status != IntakeStatus.RECEIVED:
                return  # answered before a stop
            answer = Answer(
                row.guild_id,
                row.user_id,
                Reponse.OUI,
                display_name=row.display_name,
                locale=row.locale,
            )
            batch = AnswerBatch(
                session, service.clock.now(), service._guilds, offer_hours=service.offer_hours
            )
            (result,) = await batch.run(atelier_id, [answer])
            if isinstance(result, UserError):
                done[str(atelier_id)] = {"error": result.message_id, "values": result.values}
            else:
                etat = result.etat.value if result.etat else None
                done[str(atelier_id)] = {"etat": etat, "position": result.position}
            await session.execute(
                update(Intake)
                .where(Intake.id == intake_id)
                .values(
                    result=progress | {DONE: done},
                    status=IntakeStatus.APPLIED if last else IntakeStatus.RECEIVED,
                )
            )
        service._guilds |= batch.guilds_ensured
        log.info(
            "intake %s: user %s answered oui to atelier %s of a series -> %s",
            intake_id,
            answer.user_id,
            atelier_id,
            done[str(atelier_id)],
        )


class AnswerQueues:
    """Answers to each atelier, applied a batch per transaction (``answer_many``) in the order
    they came: a burst of clicks on one announcement costs a few dozen transactions, not one
    per click, and each member still gets their own result. ``before`` is awaited before
    each batch (the adapter's "acknowledgements first")."""

    def __init__(
        self,
        service: InscriptionService,
        *,
        batch_max: int = APPLY_BATCH,
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.service = service
        self.batch_max = batch_max
        self.before = before
        self._queues: dict[int, GroupCommit[Answer, AnswerResult | UserError]] = {}

    async def submit(self, atelier_id: int, answer: Answer) -> AnswerResult | UserError:
        queue = self._queues.get(atelier_id)
        if queue is None:

            async def apply(answers: Sequence[Answer]) -> list[AnswerResult | UserError]:
                return await self.service.answer_many(atelier_id, answers)

            queue = self._queues[atelier_id] = GroupCommit(
                apply,
                batch_max=self.batch_max,
                name=f"inscriptions:apply:{atelier_id}",
                before=self.before,
            )
        return await queue.submit(answer)


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
    #: « Toute la série »: the ateliers to answer « oui » (``atelier_id`` is the one clicked).
    serie: tuple[int, ...] = ()

    def as_answer(self, intake_id: int) -> Answer:
        """The answer to apply, from the saved click ``intake_id``."""
        return Answer(
            guild_id=self.guild_id,
            user_id=self.user_id,
            reponse=self.reponse,
            seance_id=self.seance_id,
            display_name=self.display_name,
            locale=self.locale,
            intake_id=intake_id,
        )


@dataclass(frozen=True)
class SavedClick:
    intake_id: int
    click: Click
    applied: bool
    result: dict[str, object]
