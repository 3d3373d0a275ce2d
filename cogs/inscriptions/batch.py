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
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import N_, Conflict, NotFound, UserError
from cogs.ateliers import notices
from cogs.ateliers.info import AtelierInfo, Counts, Recipient, atelier_info
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
from db.repositories import insert_for_dialect

INSCRIPTION = Inscription.__table__
MEMBRE = Membre.__table__
INTAKE = Intake.__table__


@dataclass(frozen=True)
class _Sql:
    """The hot path's statements, built once per dialect (SQLAlchemy then compiles each once:
    building and compiling a statement costs more CPU than running it)."""

    known: Any  # the atelier's counts; the members already there, with their inscription
    rename: Any  # name and locale refreshed (executemany)
    create: Any  # new members (upsert RETURNING: another transaction may create them too)
    update: Any  # inscriptions already there (executemany)
    insert: Any  # new inscriptions (executemany; the atelier's lock makes them new)
    first_waiting: Any
    ahead: Any
    recipients: Any
    applied: Any


@cache
def _sql(dialect: str) -> _Sql:
    """SQLAlchemy does not cache the compiled form of ``ON CONFLICT`` statements (2.0): they
    are used only for members seen for the first time; everything else is a plain statement
    compiled once."""
    create = insert_for_dialect(dialect, MEMBRE)
    create = create.on_conflict_do_update(
        index_elements=["guild_id", "user_id"],
        set_={
            "display_name": func.coalesce(create.excluded.display_name, MEMBRE.c.display_name),
            "locale": create.excluded.locale,
        },
    ).returning(MEMBRE.c.id, MEMBRE.c.user_id)
    atelier = INSCRIPTION.c.atelier_id == bindparam("atelier_id")
    waiting = INSCRIPTION.c.etat == EtatInscription.ATTENTE
    every = INSCRIPTION.alias("every")

    def count(etat: EtatInscription) -> Any:
        return func.count().filter(every.c.etat == etat)

    totals = (
        select(
            count(EtatInscription.INSCRIT).label("inscrits"),
            count(EtatInscription.ATTENTE).label("attente"),
            count(EtatInscription.PEUT_ETRE).label("peut_etre"),
            count(EtatInscription.NON).label("non"),
            func.coalesce(func.max(every.c.rang_attente), 0).label("last_rank"),
        )
        .where(every.c.atelier_id == bindparam("atelier_id"))
        .subquery("totals")
    )
    return _Sql(
        known=select(
            totals.c.inscrits,
            totals.c.attente,
            totals.c.peut_etre,
            totals.c.non,
            totals.c.last_rank,
            MEMBRE.c.id,
            MEMBRE.c.user_id,
            MEMBRE.c.display_name,
            MEMBRE.c.locale,
            INSCRIPTION.c.id,
            INSCRIPTION.c.etat,
            INSCRIPTION.c.rang_attente,
            INSCRIPTION.c.inscrit_at,
        ).select_from(
            # The counts' one row, joined to the members found (none: the row alone).
            totals.outerjoin(
                MEMBRE.outerjoin(INSCRIPTION, (INSCRIPTION.c.membre_id == MEMBRE.c.id) & atelier),
                (MEMBRE.c.guild_id == bindparam("guild_id"))
                & MEMBRE.c.user_id.in_(bindparam("users", expanding=True)),
            )
        ),
        rename=update(MEMBRE)
        .where(MEMBRE.c.id == bindparam("membre"))
        .values(display_name=bindparam("name"), locale=bindparam("lang")),
        create=create,
        update=update(INSCRIPTION)
        .where(INSCRIPTION.c.id == bindparam("inscription"))
        .values(
            etat=bindparam("etat"),
            rang_attente=bindparam("rang"),
            inscrit_at=bindparam("depuis"),
            updated_at=bindparam("now"),
        ),
        insert=insert(INSCRIPTION).returning(INSCRIPTION.c.id, INSCRIPTION.c.membre_id),
        first_waiting=select(INSCRIPTION.c.id, INSCRIPTION.c.membre_id)
        .where(atelier, waiting)
        .order_by(INSCRIPTION.c.rang_attente, INSCRIPTION.c.id)
        .limit(bindparam("free")),
        ahead=select(func.count()).where(
            atelier, waiting, INSCRIPTION.c.rang_attente <= bindparam("rang")
        ),
        recipients=select(MEMBRE.c.id, MEMBRE.c.user_id, MEMBRE.c.locale).where(
            MEMBRE.c.id.in_(bindparam("membres", expanding=True)), MEMBRE.c.user_id.is_not(None)
        ),
        applied=update(INTAKE)
        .where(INTAKE.c.id == bindparam("intake"), INTAKE.c.status == IntakeStatus.RECEIVED)
        .values(status=IntakeStatus.APPLIED, result=bindparam("outcome")),
    )


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


@dataclass
class _Standing:
    """One member's inscription as this batch sees it (``etat`` None: no row yet)."""

    membre_id: int
    etat: EtatInscription | None = None
    rang: int | None = None
    inscrit_at: datetime | None = None
    dirty: bool = False
    #: The row's id once it exists.
    id: int | None = None


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
        self._sql = _sql(session.bind.dialect.name)

    async def run(
        self, atelier_id: int, answers: Sequence[Answer]
    ) -> list[AnswerResult | UserError]:
        session = self.session
        outcome: list[_Decided | UserError] = []
        atelier, seances = await self._lock(atelier_id)
        if atelier is None:
            missing = NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            await self._mark(answers, [missing] * len(answers))
            return [missing] * len(answers)
        closed = self._closed(atelier, seances)
        valid = [a for a in answers if a.guild_id == atelier.guild_id and closed is None]
        self._atelier_id = atelier.id
        membres = await self._upsert_membres(valid) if valid else {}
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
        """``waitlist.allocation``, on the counts kept in memory."""
        etat, rang = waitlist.allocation(
            atelier.capacite, self._counts[EtatInscription.INSCRIT], self._max_rank
        )
        if rang is not None:
            self._max_rank = rang
        self._set(standing, etat, rang=rang, inscrit_at=self.now if rang is None else None)

    async def _promote(self, atelier: Atelier) -> list[int]:
        """Freed places to the first in line, in order (``waitlist.free_places``)."""
        free = waitlist.free_places(
            atelier.capacite,
            self._counts[EtatInscription.INSCRIT],
            self._counts[EtatInscription.ATTENTE],
        )
        if free == 0:
            return []
        await self._flush(atelier.id)
        rows = await self.session.execute(
            self._sql.first_waiting, {"atelier_id": atelier.id, "free": free}
        )
        promoted = []
        for row_id, membre_id in rows:
            standing = self._standings.setdefault(
                membre_id, _Standing(membre_id, etat=EtatInscription.ATTENTE, id=row_id)
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
                self._sql.ahead, {"atelier_id": atelier_id, "rang": standing.rang}
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
        when they changed (later messages use the member's language)."""
        guild_id = answers[0].guild_id
        if guild_id not in self.known_guilds:
            await repo.ensure_guild(self.session, guild_id, self.now)
            self.guilds_ensured.add(guild_id)
        latest: dict[int, Answer] = {a.user_id: a for a in answers}
        ids: dict[int, int] = {}
        renamed = []
        known = await self.session.execute(
            self._sql.known,
            {"guild_id": guild_id, "users": list(latest), "atelier_id": self._atelier_id},
        )
        for row in known:
            inscrits, attente, peut_etre, non, self._max_rank = row[:5]
            self._counts = {
                EtatInscription.INSCRIT: inscrits,
                EtatInscription.ATTENTE: attente,
                EtatInscription.PEUT_ETRE: peut_etre,
                EtatInscription.NON: non,
            }
            membre_id, user_id, name, lang, row_id, etat, rang, inscrit_at = row[5:]
            if membre_id is None:
                continue
            ids[user_id] = membre_id
            if row_id is not None:
                self._standings[membre_id] = _Standing(
                    membre_id, EtatInscription(etat), rang, inscrit_at, id=row_id
                )
            a = latest[user_id]
            new_name = a.display_name[:100] if a.display_name else name
            new_lang = a.locale or lang
            if (new_name, new_lang) != (name, lang):
                renamed.append({"membre": membre_id, "name": new_name, "lang": new_lang})
        if renamed:
            await self.session.execute(self._sql.rename, renamed)
        new = [a for user_id, a in latest.items() if user_id not in ids]
        if new:
            rows = await self.session.execute(
                self._sql.create,
                [
                    {
                        "guild_id": guild_id,
                        "user_id": a.user_id,
                        "display_name": a.display_name[:100] if a.display_name else None,
                        "locale": a.locale or "fr",
                        "dm_reminders": False,
                        "created_at": self.now,
                    }
                    for a in new
                ],
            )
            ids.update({user_id: membre_id for membre_id, user_id in rows})
        return ids

    async def _lock(self, atelier_id: int) -> tuple[Atelier | None, list[Seance]]:
        """The atelier, locked until the transaction ends (PostgreSQL ``FOR UPDATE``; on
        SQLite a write transaction holds the database lock), with its séances: one query."""
        rows = (
            await self.session.execute(
                select(Atelier, Seance)
                .outerjoin(Seance, Seance.atelier_id == Atelier.id)
                .where(Atelier.id == atelier_id)
                .order_by(Seance.starts_at, Seance.id)
                .with_for_update(of=Atelier)
            )
        ).all()
        if not rows:
            return None, []
        return rows[0][0], [seance for _, seance in rows if seance is not None]

    async def _flush(self, atelier_id: int) -> None:
        """Write the inscriptions decided so far: one executemany for the rows already there,
        one for the new ones."""
        dirty = [s for s in self._standings.values() if s.dirty]
        if not dirty:
            return
        known = [s for s in dirty if s.id is not None]
        if known:
            await self.session.execute(
                self._sql.update,
                [
                    {
                        "inscription": s.id,
                        "etat": s.etat,
                        "rang": s.rang,
                        "depuis": s.inscrit_at,
                        "now": self.now,
                    }
                    for s in known
                ],
            )
        new = [s for s in dirty if s.id is None]
        if new:
            rows = await self.session.execute(
                self._sql.insert,
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
                    for s in new
                ],
            )
            for row_id, membre_id in rows:
                self._standings[membre_id].id = row_id
        for s in dirty:
            s.dirty = False

    async def _recipients(self, membre_ids: list[int]) -> dict[int, Recipient]:
        if not membre_ids:
            return {}
        rows = await self.session.execute(self._sql.recipients, {"membres": membre_ids})
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
            self._sql.applied,
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
