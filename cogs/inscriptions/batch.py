"""Answers to one atelier applied together, in one transaction holding the atelier's lock
(group commit). Each answer is decided in the order it came, exactly as if it had its own
transaction: the places, the ranks and the counts are kept in memory from one query at the
start, so a batch of fifty answers costs about the statements of one:

1. lock the atelier; read its séances;
2. upsert the members with RETURNING (one multi-row statement);
3. read their inscriptions, and the atelier's counts and last rank (two queries);
4. decide every answer in memory;
5. write the inscriptions that changed (one multi-row upsert), the outbox rows, and mark the
   saved clicks applied (one executemany).

A rarer answer that needs more of the database (someone in line kept their rank, a place freed
for the next in line, a per-séance answer that counts attendance) first writes what was decided
so far, then asks the database: the in-memory state and the database never disagree.

Refusals (cancelled atelier, séance already begun, séance full…) are decided before anything is
written for that answer, so one refused answer never rolls back the others. No Discord here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import N_, Conflict, NotFound, UserError
from cogs.ateliers import notices
from cogs.ateliers.info import AtelierInfo, Counts, Recipient, atelier_info
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

INSCRIPTION = Inscription.__table__
MEMBRE = Membre.__table__
INTAKE = Intake.__table__


def seance_started(seance: Seance, now: datetime) -> bool:
    """A séance with a time has started at that time; one without a time, on its day."""
    if seance.local_time is not None:
        return seance.starts_at <= now
    return seance.local_date <= now.astimezone(ZoneInfo(seance.timezone)).date()


@dataclass(frozen=True)
class Answer:
    """One answer to apply: for the whole atelier, or (``seance_id``) for one séance.
    ``intake_id``: the saved click it comes from, marked applied in the same transaction."""

    guild_id: int
    user_id: int
    reponse: Reponse
    seance_id: int | None = None
    display_name: str | None = None
    locale: str | None = None
    intake_id: int | None = None


@dataclass(frozen=True)
class AnswerResult:
    """What an answer did. ``etat`` is where the member now stands for the atelier; with a
    séance, ``seance_reponse`` is their answer for that séance. ``atelier`` shows the counts
    just after this answer."""

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


@dataclass
class _Standing:
    """One member's inscription as this batch sees it (``etat`` None: no row yet)."""

    membre_id: int
    etat: EtatInscription | None = None
    rang: int | None = None
    inscrit_at: datetime | None = None
    dirty: bool = False


@dataclass
class _Decided:
    answer: Answer
    membre_id: int
    previous: EtatInscription | None
    etat: EtatInscription | None
    position: int | None
    counts: dict[EtatInscription, int]
    promoted: list[int]


class AnswerBatch:
    """Applies answers to one atelier inside the caller's transaction."""

    def __init__(self, session: AsyncSession, now: datetime, known_guilds: set[int]) -> None:
        self.session = session
        self.now = now
        #: Guilds whose row is known to exist (the caller adds them once the batch committed).
        self.known_guilds = known_guilds
        self.guilds_ensured: set[int] = set()
        self._standings: dict[int, _Standing] = {}
        self._counts: dict[EtatInscription, int] = {e: 0 for e in EtatInscription}
        self._max_rank = 0
        self._atelier_id = 0

    async def run(
        self, atelier_id: int, answers: Sequence[Answer]
    ) -> list[AnswerResult | UserError]:
        session = self.session
        outcome: list[_Decided | UserError] = []
        atelier = await repo.lock_atelier(session, atelier_id)
        if atelier is None:
            missing = NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            await self._mark(answers, [missing] * len(answers))
            return [missing] * len(answers)
        seances = list(await repo.seances_of(session, atelier.id))
        closed = self._closed(atelier, seances)
        valid = [a for a in answers if a.guild_id == atelier.guild_id and closed is None]
        membres = await self._upsert_membres(valid) if valid else {}
        if valid:
            await self._load(atelier.id, list(membres.values()))
        for a in answers:
            if a.guild_id != atelier.guild_id:
                outcome.append(NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id))
            elif closed is not None:
                outcome.append(closed)
            else:
                try:
                    outcome.append(await self._decide(atelier, seances, membres[a.user_id], a))
                except UserError as err:
                    outcome.append(err)
        await self._flush(atelier.id)
        recipients = await self._recipients(
            [m for d in outcome if isinstance(d, _Decided) for m in d.promoted]
        )
        if recipients:
            notices.tell(session, atelier, list(recipients.values()), notices.PROMOTION, self.now)
        if any(
            isinstance(d, _Decided) and (d.etat != d.previous or d.answer.seance_id)
            for d in outcome
        ):
            notices.refresh(session, atelier, self.now)
        base = atelier_info(atelier, seances, self._counts)
        results: list[AnswerResult | UserError] = [
            d if isinstance(d, UserError) else self._result(base, d, recipients) for d in outcome
        ]
        await self._mark(answers, results)
        return results

    # --- deciding ------------------------------------------------------------------------------

    def _closed(self, atelier: Atelier, seances: Sequence[Seance]) -> UserError | None:
        if atelier.etat == EtatAtelier.ANNULE:
            return Conflict(
                N_("L'atelier « {titre} » est annulé : il n'accepte plus de réponses."),
                titre=atelier.titre,
            )
        if all(seance_started(s, self.now) for s in seances):
            return Conflict(
                N_("L'atelier « {titre} » a déjà commencé : les réponses sont closes."),
                titre=atelier.titre,
            )
        return None

    async def _decide(
        self, atelier: Atelier, seances: Sequence[Seance], membre_id: int, a: Answer
    ) -> _Decided:
        standing = self._standings.setdefault(membre_id, _Standing(membre_id))
        previous = standing.etat
        promoted: list[int] = []
        if a.seance_id is not None:
            seance = next((s for s in seances if s.id == a.seance_id), None)
            if seance is None:
                raise NotFound(N_("Séance n° {id} introuvable pour cet atelier."), id=a.seance_id)
            if seance_started(seance, self.now):
                raise Conflict(N_("Cette séance a déjà commencé."))
            await self._answer_seance(atelier, seance, standing, a.reponse)
        elif a.reponse == Reponse.OUI:
            if previous not in (EtatInscription.INSCRIT, EtatInscription.ATTENTE):
                self._allocate(atelier, standing)
        else:
            new = (
                EtatInscription.PEUT_ETRE if a.reponse == Reponse.PEUT_ETRE else EtatInscription.NON
            )
            self._set(standing, new, rang=None, inscrit_at=None)
            if previous == EtatInscription.INSCRIT:
                promoted = await self._promote(atelier)
        position = await self._position(standing, previous)
        return _Decided(
            answer=a,
            membre_id=membre_id,
            previous=previous,
            etat=standing.etat,
            position=position,
            counts=dict(self._counts),
            promoted=promoted,
        )

    def _set(
        self,
        standing: _Standing,
        etat: EtatInscription,
        *,
        rang: int | None,
        inscrit_at: datetime | None,
    ) -> None:
        if standing.etat is not None:
            self._counts[standing.etat] -= 1
        self._counts[etat] += 1
        standing.etat, standing.rang, standing.inscrit_at = etat, rang, inscrit_at
        standing.dirty = True

    def _allocate(self, atelier: Atelier, standing: _Standing) -> None:
        """A place while places remain, else the next rank in line (``waitlist.allocate``)."""
        if atelier.capacite is None or self._counts[EtatInscription.INSCRIT] < atelier.capacite:
            self._set(standing, EtatInscription.INSCRIT, rang=None, inscrit_at=self.now)
        else:
            self._max_rank += 1
            self._set(standing, EtatInscription.ATTENTE, rang=self._max_rank, inscrit_at=None)

    async def _promote(self, atelier: Atelier) -> list[int]:
        """Freed places to the first in line, in order (``waitlist.promote``)."""
        if self._counts[EtatInscription.ATTENTE] == 0:
            return []
        if atelier.capacite is None:
            free = self._counts[EtatInscription.ATTENTE]
        else:
            free = atelier.capacite - self._counts[EtatInscription.INSCRIT]
            if free <= 0:
                return []
        await self._flush(atelier.id)
        rows = await self.session.execute(
            select(INSCRIPTION.c.membre_id)
            .where(
                INSCRIPTION.c.atelier_id == atelier.id,
                INSCRIPTION.c.etat == EtatInscription.ATTENTE,
            )
            .order_by(INSCRIPTION.c.rang_attente, INSCRIPTION.c.id)
            .limit(free)
        )
        promoted = []
        for (membre_id,) in rows:
            standing = self._standings.setdefault(
                membre_id, _Standing(membre_id, etat=EtatInscription.ATTENTE)
            )
            self._set(standing, EtatInscription.INSCRIT, rang=None, inscrit_at=self.now)
            promoted.append(membre_id)
        return promoted

    async def _position(self, standing: _Standing, previous: EtatInscription | None) -> int | None:
        """1 for the first in line (``waitlist.position``). Someone who just joined the line is
        last in it; someone who kept their rank is counted in the database."""
        if standing.etat != EtatInscription.ATTENTE or standing.rang is None:
            return None
        if previous != EtatInscription.ATTENTE:
            return self._counts[EtatInscription.ATTENTE]
        return await self._count_ahead(standing)

    async def _count_ahead(self, standing: _Standing) -> int:
        atelier_id = self._atelier_id
        await self._flush(atelier_id)
        return (
            await self.session.execute(
                select(func.count()).where(
                    INSCRIPTION.c.atelier_id == atelier_id,
                    INSCRIPTION.c.etat == EtatInscription.ATTENTE,
                    INSCRIPTION.c.rang_attente <= standing.rang,
                )
            )
        ).scalar_one()

    async def _answer_seance(
        self, atelier: Atelier, seance: Seance, standing: _Standing, reponse: Reponse
    ) -> None:
        """A per-séance exception. A registered member may skip a séance (``non``/``peut-etre``)
        and come back (``oui``); a member without a place may attend one séance with ``oui``
        only while that séance has room."""
        await self._flush(atelier.id)
        session = self.session
        existing = (
            await session.execute(
                select(SeanceReponse).where(
                    SeanceReponse.seance_id == seance.id,
                    SeanceReponse.membre_id == standing.membre_id,
                )
            )
        ).scalar_one_or_none()
        if reponse == Reponse.OUI and standing.etat == EtatInscription.INSCRIT:
            if existing is not None:
                await session.delete(existing)
                await session.flush()
            return
        if (
            reponse == Reponse.OUI
            and atelier.capacite is not None
            and await attendance(session, atelier.id, seance.id) >= atelier.capacite
        ):
            raise Conflict(
                N_(
                    "Cette séance est complète ; répondez « oui » à l'atelier entier pour "
                    "rejoindre la liste d'attente."
                )
            )
        if existing is None:
            session.add(
                SeanceReponse(
                    seance_id=seance.id,
                    membre_id=standing.membre_id,
                    reponse=reponse,
                    updated_at=self.now,
                )
            )
        else:
            existing.reponse = reponse
            existing.updated_at = self.now
        await session.flush()

    # --- reading and writing -------------------------------------------------------------------

    async def _upsert_membres(self, answers: Sequence[Answer]) -> dict[int, int]:
        """Each answering user's member id, created on first sight; name and locale refreshed
        when given (later messages use the member's language). One statement (two when some
        answers carry no locale, as in tests)."""
        guild_id = answers[0].guild_id
        if guild_id not in self.known_guilds:
            await repo.ensure_guild(self.session, guild_id, self.now)
            self.guilds_ensured.add(guild_id)
        latest: dict[int, Answer] = {a.user_id: a for a in answers}
        ids: dict[int, int] = {}
        for with_locale in (True, False):
            group = [a for a in latest.values() if (a.locale is not None) == with_locale]
            if not group:
                continue
            stmt = repo.insert_for(self.session, MEMBRE).values(
                [
                    {
                        "guild_id": guild_id,
                        "user_id": a.user_id,
                        "display_name": a.display_name[:100] if a.display_name else None,
                        "locale": a.locale or "fr",
                        "dm_reminders": False,
                        "created_at": self.now,
                    }
                    for a in group
                ]
            )
            refreshed: dict[str, Any] = {
                "display_name": func.coalesce(stmt.excluded.display_name, MEMBRE.c.display_name)
            }
            if with_locale:
                refreshed["locale"] = stmt.excluded.locale
            stmt = stmt.on_conflict_do_update(
                index_elements=["guild_id", "user_id"], set_=refreshed
            ).returning(MEMBRE.c.id, MEMBRE.c.user_id)
            ids.update(
                {user_id: membre_id for membre_id, user_id in await self.session.execute(stmt)}
            )
        return ids

    async def _load(self, atelier_id: int, membre_ids: list[int]) -> None:
        self._atelier_id = atelier_id
        rows = await self.session.execute(
            select(
                INSCRIPTION.c.membre_id,
                INSCRIPTION.c.etat,
                INSCRIPTION.c.rang_attente,
                INSCRIPTION.c.inscrit_at,
            ).where(INSCRIPTION.c.atelier_id == atelier_id, INSCRIPTION.c.membre_id.in_(membre_ids))
        )
        for membre_id, etat, rang, inscrit_at in rows:
            self._standings[membre_id] = _Standing(
                membre_id, EtatInscription(etat), rang, inscrit_at
            )
        totals = await self.session.execute(
            select(INSCRIPTION.c.etat, func.count(), func.max(INSCRIPTION.c.rang_attente))
            .where(INSCRIPTION.c.atelier_id == atelier_id)
            .group_by(INSCRIPTION.c.etat)
        )
        for etat, count, max_rank in totals:
            self._counts[EtatInscription(etat)] = count
            self._max_rank = max(self._max_rank, max_rank or 0)

    async def _flush(self, atelier_id: int) -> None:
        """Write the inscriptions decided so far (one multi-row upsert)."""
        dirty = [s for s in self._standings.values() if s.dirty]
        if not dirty:
            return
        stmt = repo.insert_for(self.session, INSCRIPTION).values(
            [
                {
                    "atelier_id": atelier_id,
                    "membre_id": s.membre_id,
                    "etat": s.etat,
                    "rang_attente": s.rang,
                    "inscrit_at": s.inscrit_at,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
                for s in dirty
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["atelier_id", "membre_id"],
            set_={
                "etat": stmt.excluded.etat,
                "rang_attente": stmt.excluded.rang_attente,
                "inscrit_at": stmt.excluded.inscrit_at,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        await self.session.execute(stmt)
        for s in dirty:
            s.dirty = False

    async def _recipients(self, membre_ids: list[int]) -> dict[int, Recipient]:
        if not membre_ids:
            return {}
        rows = await self.session.execute(
            select(MEMBRE.c.id, MEMBRE.c.user_id, MEMBRE.c.locale).where(
                MEMBRE.c.id.in_(membre_ids), MEMBRE.c.user_id.is_not(None)
            )
        )
        return {
            membre_id: Recipient(
                membre_id=membre_id, user_id=user_id, locale=locale, etat=EtatInscription.INSCRIT
            )
            for membre_id, user_id, locale in rows
        }

    def _result(
        self, base: AtelierInfo, d: _Decided, recipients: dict[int, Recipient]
    ) -> AnswerResult:
        counts = Counts(
            inscrits=d.counts[EtatInscription.INSCRIT],
            attente=d.counts[EtatInscription.ATTENTE],
            peut_etre=d.counts[EtatInscription.PEUT_ETRE],
            non=d.counts[EtatInscription.NON],
            capacite=base.capacite,
        )
        seance_id = d.answer.seance_id
        return AnswerResult(
            atelier=replace(base, counts=counts),
            membre_id=d.membre_id,
            previous=d.previous,
            etat=d.etat,
            position=d.position,
            promoted=tuple(recipients[m] for m in d.promoted if m in recipients),
            seance_id=seance_id,
            seance_reponse=d.answer.reponse if seance_id is not None else None,
        )

    async def _mark(
        self, answers: Sequence[Answer], results: Sequence[AnswerResult | UserError | _Decided]
    ) -> None:
        """The saved clicks are applied, with what to tell each member (one executemany)."""
        params = []
        for a, r in zip(answers, results, strict=True):
            if a.intake_id is None:
                continue
            if isinstance(r, UserError):
                result: dict[str, object] = {"error": r.message_id, "values": r.values}
            else:
                etat = r.etat.value if r.etat else None
                result = {"etat": etat, "position": r.position}
            params.append({"intake": a.intake_id, "outcome": result})
        if not params:
            return
        await self.session.execute(
            update(INTAKE)
            .where(
                INTAKE.c.id == bindparam("intake"),
                INTAKE.c.status == IntakeStatus.RECEIVED,
            )
            .values(status=IntakeStatus.APPLIED, result=bindparam("outcome")),
            params,
        )


async def attendance(session: AsyncSession, atelier_id: int, seance_id: int) -> int:
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
