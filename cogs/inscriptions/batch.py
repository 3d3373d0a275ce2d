"""Answers to one atelier applied together, in one transaction holding the atelier's lock
(group commit). Each answer is decided in the order it came, exactly as if it had its own
transaction: the places, the ranks and the counts are kept in memory from one query at the
start, so a batch of fifty answers costs about the statements of one:

1. lock the atelier and read, in the same round trip, its séances, its counts and last rank,
   and the answering members with their inscriptions (PostgreSQL: ``_Function``);
2. create the members seen for the first time (one statement);
3. decide every answer in memory;
4. write the inscriptions that changed (one executemany per kind: new rows, changed rows), the
   outbox rows, and mark the saved clicks applied (one executemany).

A single answer is then two statements (read, write) between ``BEGIN`` and ``COMMIT``, from a
member already known or from a newcomer, whose member row is written with their inscription
(``_Sql.create_with_inscription``).

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

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    any_,
    bindparam,
    column,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.errors import N_, Conflict, NotFound, UserError
from cogs.ateliers import closing, notices
from cogs.ateliers.info import AtelierInfo, Recipient, SeanceInfo, counts_of
from cogs.inscriptions import offres, waitlist
from db import repositories as repo
from db.models import (
    Atelier,
    EtatAtelier,
    EtatInscription,
    Genre,
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
ATELIER = Atelier.__table__
SEANCE = Seance.__table__
MEMBRE = Membre.__table__
INTAKE = Intake.__table__


#: The columns read for ``AtelierInfo`` and ``SeanceInfo`` (in this order).
_ATELIER = (
    "id",
    "guild_id",
    "chantier_id",
    "genre",
    "titre",
    "description",
    "lieu",
    "lien",
    "capacite",
    "duree_minutes",
    "etat",
    "raison_annulation",
    "organizer_user_id",
    "announcement_channel_id",
    "announcement_message_id",
    "thread_id",
    "version",
    # Staff operations (issue 12)
    "serie_id",
    "cloture",
    "publie_le",
)
_SEANCE = (
    "id",
    "starts_at",
    "ends_at",
    "local_date",
    "local_time",
    "timezone",
    "scheduled_event_id",
)


@dataclass(frozen=True)
class _Sql:
    """The hot path's statements, built once per dialect (SQLAlchemy then compiles each once:
    building and compiling a statement costs more CPU than running it)."""

    read: Any  # the atelier, its séances and counts, the members already there
    #: PostgreSQL: the atelier locked, then ``read``, in one round trip (see ``_Function``)
    locked_read: _Function | None
    rename: Any  # name and locale refreshed (executemany)
    create: Any  # new members, RETURNING their ids (see ``_sql``)
    create_one: Any  # one new member (see ``_sql``)
    #: PostgreSQL: a newcomer's member row and inscription in one statement (see ``_membres``)
    create_with_inscription: Any
    update: Any  # inscriptions already there (executemany)
    insert: Any  # new inscriptions (executemany; the atelier's lock makes them new)
    insert_one: Any  # one new inscription (its id from the driver, no RETURNING on SQLite)
    first_waiting: Any
    ahead: Any
    recipients: Any
    applied: Any


#: One new member, their id back (PostgreSQL: another transaction may create them meanwhile).
_UPSERT_MEMBRE = (
    "INSERT INTO membre (guild_id, user_id, display_name, locale, dm_reminders, created_at)"
    " VALUES (:guild_id, :user_id, :display_name, :locale, :dm_reminders, :created_at)"
    " ON CONFLICT (guild_id, user_id) DO UPDATE SET display_name ="
    " coalesce(excluded.display_name, membre.display_name), locale = excluded.locale"
    " RETURNING id"
)
#: The parameters of the statements written as text whose type is not the driver's default.
_TYPES = {
    "user_id": MEMBRE.c.user_id.type,
    "dm_reminders": MEMBRE.c.dm_reminders.type,
    "created_at": MEMBRE.c.created_at.type,
    "etat": INSCRIPTION.c.etat.type,
    "rang_attente": INSCRIPTION.c.rang_attente.type,
    "inscrit_at": INSCRIPTION.c.inscrit_at.type,
}


def _typed(sql: str) -> Any:
    """A statement written as text, its parameters typed as the columns they fill."""
    return text(sql).bindparams(
        *(bindparam(name, type_=type_) for name, type_ in _TYPES.items() if f":{name}" in sql)
    )


@cache
def _sql(dialect: str) -> _Sql:
    """Members seen for the first time. On SQLite the batch holds the database's write lock
    from ``BEGIN IMMEDIATE`` on and has just read that they do not exist, so a plain insert is
    safe (its id comes from the driver: no RETURNING, one round trip less). On PostgreSQL
    another transaction may create them meanwhile: an upsert. SQLAlchemy (2.0) does not cache
    the compiled form of ``ON CONFLICT`` statements, and compiling one costs more than running
    it: one newcomer takes the upsert written as text, which is cached; several (a burst) take
    the multi-row construct, compiled once for the batch. Everything else is a plain statement
    compiled once.

    A newcomer answering alone (the common case: one click) gets their member row and their
    inscription in one statement, ``create_with_inscription``: on PostgreSQL a data-modifying
    ``WITH``; on SQLite an insert into the view ``reponse_nouveau_membre`` (its ``INSTEAD OF``
    trigger writes both rows; ``db.models.ateliers``), with the member's id read under the
    write lock by ``read`` (``next``)."""
    create = insert_for_dialect(dialect, MEMBRE)
    create = create.on_conflict_do_update(
        index_elements=["guild_id", "user_id"],
        set_={
            "display_name": func.coalesce(create.excluded.display_name, MEMBRE.c.display_name),
            "locale": create.excluded.locale,
        },
    ).returning(MEMBRE.c.id, MEMBRE.c.user_id)
    create_one: Any = _typed(_UPSERT_MEMBRE).columns(MEMBRE.c.id)
    create_with_inscription: Any = _typed(
        f"WITH m AS ({_UPSERT_MEMBRE})"
        " INSERT INTO inscription (atelier_id, membre_id, etat, rang_attente, inscrit_at,"
        " created_at, updated_at) SELECT :atelier_id, m.id, :etat, :rang_attente,"
        " :inscrit_at, :created_at, :created_at FROM m RETURNING id, membre_id"
    ).columns(INSCRIPTION.c.id, INSCRIPTION.c.membre_id)
    #: SQLite: the member's id is given (the batch holds the write lock and read the next id).
    next_membre: list[Any] = []
    if dialect == "sqlite":
        create, create_one = insert(MEMBRE).returning(MEMBRE.c.id, MEMBRE.c.user_id), insert(MEMBRE)
        create_with_inscription = _typed(
            "INSERT INTO reponse_nouveau_membre (membre_id, guild_id, user_id, display_name,"
            " locale, dm_reminders, created_at, atelier_id, etat, rang_attente, inscrit_at)"
            " VALUES (:membre_id, :guild_id, :user_id, :display_name, :locale, :dm_reminders,"
            " :created_at, :atelier_id, :etat, :rang_attente, :inscrit_at)"
        )
        next_membre = [
            select(func.coalesce(func.max(MEMBRE.c.id), 0) + 1).scalar_subquery().label("next")
        ]
    atelier = INSCRIPTION.c.atelier_id == bindparam("atelier_id")
    waiting = INSCRIPTION.c.etat == EtatInscription.ATTENTE
    every = INSCRIPTION.alias("every")

    def state(etat: EtatInscription) -> Any:
        # Written in the SQL (our own constants): the statement's only parameters are the
        # atelier and the users, as in the PostgreSQL function that runs it (``_Function``).
        return literal_column(f"'{etat.value}'", INSCRIPTION.c.etat.type)

    def of_atelier(column: Any, etat: EtatInscription) -> Any:
        # One scalar subquery per state: each walks only its own range of the index on
        # (atelier_id, etat, rang_attente), and the last rank is one index lookup (a single
        # pass with four FILTERed counts costs four times more on SQLite).
        return (
            select(column)
            .where(every.c.atelier_id == bindparam("atelier_id"), every.c.etat == state(etat))
            .scalar_subquery()
        )

    counts = [
        of_atelier(func.count(), etat).label(etat.name.lower())
        for etat in (
            EtatInscription.INSCRIT,
            EtatInscription.ATTENTE,
            EtatInscription.PEUT_ETRE,
            EtatInscription.NON,
        )
    ]
    # The last rank: the end of the index's range, read backwards (``max()`` walks the whole
    # range on PostgreSQL whenever its statistics are stale, as they are during a burst).
    last_rank = func.coalesce(
        select(every.c.rang_attente)
        .where(
            every.c.atelier_id == bindparam("atelier_id"),
            every.c.etat == state(EtatInscription.ATTENTE),
            every.c.rang_attente.is_not(None),
        )
        .order_by(every.c.rang_attente.desc())
        .limit(literal_column("1"))
        .scalar_subquery(),
        literal_column("0", Integer),
    ).label("last_rank")
    # Each member's inscription: by the unique (atelier, member) key, then by its id. Joined on
    # both columns, PostgreSQL with stale statistics read every inscription of the atelier.
    own = (
        select(every.c.id)
        .where(every.c.atelier_id == bindparam("atelier_id"), every.c.membre_id == MEMBRE.c.id)
        .scalar_subquery()
    )
    read = (
        select(
            *(ATELIER.c[name] for name in _ATELIER),
            *(SEANCE.c[name].label(f"seance_{name}") for name in _SEANCE),
            *counts,
            last_rank,
            MEMBRE.c.id,
            MEMBRE.c.user_id,
            MEMBRE.c.display_name,
            MEMBRE.c.locale,
            INSCRIPTION.c.id,
            INSCRIPTION.c.etat,
            INSCRIPTION.c.rang_attente,
            INSCRIPTION.c.inscrit_at,
            *next_membre,
        )
        .select_from(ATELIER)
        .outerjoin(SEANCE, SEANCE.c.atelier_id == ATELIER.c.id)
        # The members found (none: each séance's row alone), with their inscription. Joined
        # one after the other (not nested), so that SQLite looks them up by index.
        .outerjoin(
            MEMBRE,
            (MEMBRE.c.guild_id == ATELIER.c.guild_id)
            & (
                MEMBRE.c.user_id.in_(bindparam("users", expanding=True))
                if dialect == "sqlite"
                else MEMBRE.c.user_id == any_(bindparam("users", type_=ARRAY(BigInteger)))
            ),
        )
        .outerjoin(INSCRIPTION, INSCRIPTION.c.id == own)
        # No ORDER BY: SQLite would walk every séance in date order to avoid a sort; the few
        # séances of one atelier are put in order here.
        .where(ATELIER.c.id == bindparam("atelier_id"))
    )
    return _Sql(
        read=read,
        locked_read=None if dialect == "sqlite" else _Function(read),
        rename=update(MEMBRE)
        .where(MEMBRE.c.id == bindparam("membre"))
        .values(display_name=bindparam("name"), locale=bindparam("lang")),
        create=create,
        create_one=create_one,
        create_with_inscription=create_with_inscription,
        update=update(INSCRIPTION)
        .where(INSCRIPTION.c.id == bindparam("inscription"))
        .values(
            etat=bindparam("etat"),
            rang_attente=bindparam("rang"),
            inscrit_at=bindparam("depuis"),
            updated_at=bindparam("now"),
        ),
        insert=insert(INSCRIPTION).returning(INSCRIPTION.c.id, INSCRIPTION.c.membre_id),
        insert_one=insert(INSCRIPTION),
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


class _Function:
    """PostgreSQL: lock the atelier, then read (``_Sql.read``), in one round trip.

    The read must begin after the lock is held: a statement that waited for a row lock still
    sees the other tables (the counts) as they were when it began (READ COMMITTED), so the lock
    cannot be taken in the read itself. A PL/pgSQL function can: each statement inside it
    takes a fresh snapshot, and ``RETURN QUERY`` runs after ``PERFORM … FOR UPDATE``.

    The function is made from the read itself (SQLAlchemy compiles it; its result types are
    asked of PostgreSQL once per process), in ``pg_temp``: it belongs to its connection, needs
    no migration and cannot drift from the read. It is created on a connection's first answer
    and recreated if that transaction rolled back (``AnswerBatch.committed``)."""

    NAME = "pg_temp.partage_lecture_reponses"

    def __init__(self, read: Any) -> None:
        self.read = read
        self._create: str | None = None
        self.call: Any = None

    async def ensure(self, conn: AsyncConnection) -> dict[str, Any] | None:
        """Create the function on this connection unless it is there. Returns the
        connection's ``info`` to mark once the transaction committed (None: nothing to do)."""
        info = conn.info
        if info.get(self.NAME):
            return None
        if self._create is None:
            await self._prepare(conn)
        assert self._create is not None
        await conn.exec_driver_sql(self._create)
        return info

    async def _prepare(self, conn: AsyncConnection) -> None:
        compiled = self.read.compile(dialect=conn.dialect)
        names = list(compiled.positiontup or ())
        assert sorted(names) == ["atelier_id", "users"], names
        body = str(compiled)
        raw = await conn.get_raw_connection()
        attributes = (await raw.driver_connection.prepare(body)).get_attributes()
        returns = ", ".join(f"c{i} {a.type.schema}.{a.type.name}" for i, a in enumerate(attributes))
        types = {"atelier_id": "integer", "users": "bigint[]"}
        self._create = (
            f"CREATE OR REPLACE FUNCTION {self.NAME}"
            f"({', '.join(types[n] for n in names)}) RETURNS TABLE ({returns})"
            " LANGUAGE plpgsql VOLATILE AS $partage$ BEGIN"
            f" PERFORM 1 FROM atelier WHERE id = ${names.index('atelier_id') + 1} FOR UPDATE;"
            f" RETURN QUERY {body}; END $partage$"
        )
        self.call = (
            text(f"SELECT * FROM {self.NAME}({', '.join(f':{n}' for n in names)})")
            .bindparams(
                bindparam("atelier_id", type_=Integer()),
                bindparam("users", type_=ARRAY(BigInteger)),
            )
            .columns(*(column(f"c{i}", c.type) for i, c in enumerate(self.read.selected_columns)))
        )


def seance_started(seance: SeanceInfo, now: datetime) -> bool:
    """A séance with a time has started at that time; one without a time, on its day."""
    if seance.local_time is not None:
        return seance.starts_at <= now
    return seance.local_date <= now.astimezone(ZoneInfo(seance.zone)).date()


#: The member id of a newcomer whose row is not written yet (``AnswerBatch._membres``).
_NEWCOMER = -1


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

    def __init__(
        self,
        session: AsyncSession,
        now: datetime,
        known_guilds: set[int],
        *,
        offer_hours: int = 0,
    ) -> None:
        self.session = session
        self.now = now
        #: Above 0, freed places are offered that many hours (``offres``), not given.
        self.offer_hours = offer_hours
        #: Guilds whose row is known to exist (the caller adds them once the batch committed).
        self.known_guilds = known_guilds
        self.guilds_ensured: set[int] = set()
        self._standings: dict[int, _Standing] = {}
        self._counts: dict[EtatInscription, int] = {e: 0 for e in EtatInscription}
        self._max_rank = 0
        self._atelier_id = 0
        self._sql = _sql(session.bind.dialect.name)
        self._conn: AsyncConnection | None = None
        #: PostgreSQL, one answer by a newcomer: their member row, written with the inscription.
        self._newcomer: dict[str, Any] | None = None
        self._newcomer_id = _NEWCOMER
        #: SQLite: the id a member created by this batch gets (read under the write lock).
        self._next_membre: int | None = None
        #: PostgreSQL: the connection on which this batch created the read function.
        self._created: dict[str, Any] | None = None

    async def run(
        self, atelier_id: int, answers: Sequence[Answer]
    ) -> list[AnswerResult | UserError]:
        session = self.session
        outcome: list[_Decided | UserError] = []
        atelier, known = await self._read(atelier_id, answers)
        if atelier is None:
            missing = NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            await self._mark(answers, [missing] * len(answers))
            return [missing] * len(answers)
        closed = self._closed(atelier)
        valid = [a for a in answers if a.guild_id == atelier.guild_id and closed is None]
        self._atelier_id = atelier.id
        membres = await self._membres(atelier.guild_id, valid, known) if valid else {}
        for a in answers:
            if a.guild_id != atelier.guild_id:
                outcome.append(NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id))
            elif closed is not None:
                outcome.append(closed)
            else:
                try:
                    outcome.append(await self._decide(atelier, membres[a.user_id], a))
                except UserError as err:
                    outcome.append(err)
        await self._flush(atelier.id)
        if self._newcomer is not None:  # their member row now exists (``_membres``)
            for d in outcome:
                if isinstance(d, _Decided) and d.membre_id == _NEWCOMER:
                    d.membre_id = self._newcomer_id
        recipients = await self._recipients(
            [m for d in outcome if isinstance(d, _Decided) for m in d.promoted]
        )
        if self.offer_hours:
            await self._offers(atelier, outcome)
        elif recipients:
            notices.tell(session, atelier, list(recipients.values()), notices.PROMOTION, self.now)
        if any(
            isinstance(d, _Decided) and (d.etat != d.previous or d.answer.seance_id)
            for d in outcome
        ):
            notices.refresh(session, atelier, self.now)
        base = replace(atelier, counts=counts_of(self._counts, atelier.capacite))
        results: list[AnswerResult | UserError] = [
            d if isinstance(d, UserError) else self._result(base, d, recipients) for d in outcome
        ]
        await self._mark(answers, results)
        return results

    def committed(self) -> None:
        """Tell the batch its transaction committed: a read function it created stays on its
        connection (after a rollback it would be gone, and the next batch creates it)."""
        if self._created is not None:
            self._created[_Function.NAME] = True

    async def _offers(self, atelier: AtelierInfo, outcome: Sequence[_Decided | UserError]) -> None:
        """Offers (``offres``): whoever answered the whole atelier holds no offer any more (a
        « oui » takes an offered place); the places freed are offered, not given."""
        decided = [d for d in outcome if isinstance(d, _Decided)]
        await offres.settle_answers(
            self.session,
            atelier.id,
            [d.membre_id for d in decided if d.answer.seance_id is None],
        )
        promoted = [m for d in decided for m in d.promoted]
        ids = [i for m in promoted if (i := self._standings[m].id) is not None]
        await offres.make_offers(self.session, atelier, ids, self.now, self.offer_hours)

    # --- deciding ------------------------------------------------------------------------------

    def _closed(self, atelier: AtelierInfo) -> UserError | None:
        if atelier.etat == EtatAtelier.ANNULE:
            return Conflict(
                N_("L'atelier « {titre} » est annulé : il n'accepte plus de réponses."),
                titre=atelier.titre,
            )
        if all(seance_started(s, self.now) for s in atelier.seances):
            return Conflict(
                N_("L'atelier « {titre} » a déjà commencé : les réponses sont closes."),
                titre=atelier.titre,
            )
        return None

    async def _decide(self, atelier: AtelierInfo, membre_id: int, a: Answer) -> _Decided:
        refusal = closing.answer_refusal(atelier, a.reponse, self.now)  # cloture, publier-le
        if refusal is not None:
            raise refusal
        standing = self._standings.setdefault(membre_id, _Standing(membre_id))
        previous = standing.etat
        promoted: list[int] = []
        if a.seance_id is not None:
            seance = next((s for s in atelier.seances if s.id == a.seance_id), None)
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

    def _allocate(self, atelier: AtelierInfo, standing: _Standing) -> None:
        """``waitlist.allocation``, on the counts kept in memory."""
        etat, rang = waitlist.allocation(
            atelier.capacite, self._counts[EtatInscription.INSCRIT], self._max_rank
        )
        if rang is not None:
            self._max_rank = rang
        self._set(standing, etat, rang=rang, inscrit_at=self.now if rang is None else None)

    async def _promote(self, atelier: AtelierInfo) -> list[int]:
        """Freed places to the first in line, in order (``waitlist.free_places``); none once
        answers are closed (``cloture``)."""
        if closing.closed(atelier.cloture, self.now):
            return []
        free = waitlist.free_places(
            atelier.capacite,
            self._counts[EtatInscription.INSCRIT],
            self._counts[EtatInscription.ATTENTE],
        )
        if free == 0:
            return []
        await self._flush(atelier.id)
        rows = await self._execute(
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
            await self._execute(self._sql.ahead, {"atelier_id": atelier_id, "rang": standing.rang})
        ).scalar_one()

    async def _answer_seance(
        self, atelier: AtelierInfo, seance: SeanceInfo, standing: _Standing, reponse: Reponse
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

    async def _execute(self, statement: Any, params: Any) -> Any:
        """A Core statement on the session's connection (no ORM on the hot path)."""
        return await (await self._connection()).execute(statement, params)

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            self._conn = await self.session.connection()
        return self._conn

    async def _read(
        self, atelier_id: int, answers: Sequence[Answer]
    ) -> tuple[AtelierInfo | None, dict[int, tuple[int, str | None, str]]]:
        """The atelier, locked until the transaction ends, with its séances, its counts and
        last rank, and the answering users already known with their inscription: one query, a
        row per séance and member, read as plain rows (no ORM objects on this path). Returns
        the known users' ``(membre id, name, locale)``.

        The lock: on SQLite the write transaction holds the database's lock from ``BEGIN
        IMMEDIATE`` on. On PostgreSQL ``SELECT … FOR UPDATE`` comes first, alone: a statement
        that waited for a row lock sees the other tables (the counts) as they were when it
        began, before the transaction it waited for had committed (READ COMMITTED), so the
        counts are read by the next statement."""
        params = {"atelier_id": atelier_id, "users": list({a.user_id for a in answers})}
        function = self._sql.locked_read
        if function is None:  # SQLite: locked since ``BEGIN IMMEDIATE``
            rows = (await self._execute(self._sql.read, params)).all()
        else:
            self._created = await function.ensure(await self._connection())
            rows = (await self._execute(function.call, params)).all()
        if not rows:
            return None, {}
        seances: dict[int, SeanceInfo] = {}
        known: dict[int, tuple[int, str | None, str]] = {}
        na, ns = len(_ATELIER), len(_SEANCE)
        for row in rows:
            seance = row[na : na + ns]
            if seance[0] is not None and seance[0] not in seances:
                seances[seance[0]] = SeanceInfo(*seance)
            membre_id, user_id, name, lang, row_id, etat, rang, inscrit_at = row[
                na + ns + 5 : na + ns + 13
            ]
            if membre_id is None or user_id in known:
                continue
            known[user_id] = (membre_id, name, lang)
            if row_id is not None:
                self._standings[membre_id] = _Standing(
                    membre_id, EtatInscription(etat), rang, inscrit_at, id=row_id
                )
        first = rows[0]
        if len(first) > na + ns + 13:  # SQLite: the id the next new member gets
            self._next_membre = first[na + ns + 13]
        inscrits, attente, peut_etre, non, self._max_rank = first[na + ns : na + ns + 5]
        self._counts = {
            EtatInscription.INSCRIT: inscrits,
            EtatInscription.ATTENTE: attente,
            EtatInscription.PEUT_ETRE: peut_etre,
            EtatInscription.NON: non,
        }
        fields = dict(zip(_ATELIER, first[:na], strict=True))
        atelier = AtelierInfo(
            **fields | {"genre": Genre(fields["genre"]), "etat": EtatAtelier(fields["etat"])},
            seances=tuple(sorted(seances.values(), key=lambda s: (s.starts_at, s.id))),
            counts=counts_of(self._counts, fields["capacite"]),
        )
        return atelier, known

    async def _membres(
        self,
        guild_id: int,
        answers: Sequence[Answer],
        known: dict[int, tuple[int, str | None, str]],
    ) -> dict[int, int]:
        """Each answering user's member id, created on first sight; name and locale refreshed
        when they changed (later messages use the member's language)."""
        latest: dict[int, Answer] = {a.user_id: a for a in answers}
        ids: dict[int, int] = {}
        renamed = []
        for user_id, a in latest.items():
            if user_id not in known:
                continue
            membre_id, name, lang = known[user_id]
            ids[user_id] = membre_id
            new_name = a.display_name[:100] if a.display_name else name
            new_lang = a.locale or lang
            if (new_name, new_lang) != (name, lang):
                renamed.append({"membre": membre_id, "name": new_name, "lang": new_lang})
        if renamed:
            await self._execute(self._sql.rename, renamed)
        new = [a for user_id, a in latest.items() if user_id not in ids]
        if not new:
            return ids
        if guild_id not in self.known_guilds:
            await repo.ensure_guild(self.session, guild_id, self.now)
            self.guilds_ensured.add(guild_id)
        params = [
            {
                "guild_id": guild_id,
                "user_id": a.user_id,
                "display_name": a.display_name[:100] if a.display_name else None,
                "locale": a.locale or "fr",
                "dm_reminders": False,
                "created_at": self.now,
            }
            for a in new
        ]
        if len(answers) == 1 and new[0].seance_id is None:
            # Written with the inscription, in one statement (``_flush``): nothing reads the
            # member's row before, and a refused answer creates no member.
            self._newcomer = params[0]
            ids[new[0].user_id] = _NEWCOMER
            return ids
        if len(params) == 1:
            result = await self._execute(self._sql.create_one, params[0])
            ids[new[0].user_id] = (
                result.scalar_one() if result.returns_rows else result.inserted_primary_key[0]
            )
        else:
            rows = await self._execute(self._sql.create, params)
            ids.update({user_id: membre_id for membre_id, user_id in rows})
        return ids

    async def _flush(self, atelier_id: int) -> None:
        """Write the inscriptions decided so far: one executemany for the rows already there,
        one for the new ones."""
        dirty = [s for s in self._standings.values() if s.dirty]
        if not dirty:
            return
        known = [s for s in dirty if s.id is not None]
        if known:
            await self._execute(
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
        newcomer = next((s for s in new if s.membre_id == _NEWCOMER), None)
        if newcomer is not None:
            assert self._newcomer is not None
            values = self._newcomer | {
                "atelier_id": atelier_id,
                "etat": newcomer.etat,
                "rang_attente": newcomer.rang,
                "inscrit_at": newcomer.inscrit_at,
            }
            if self._next_membre is not None:  # SQLite: through the view, the member's id given
                await self._execute(
                    self._sql.create_with_inscription, values | {"membre_id": self._next_membre}
                )
                newcomer.membre_id = self._next_membre  # the inscription's id is not needed
            else:
                result = await self._execute(self._sql.create_with_inscription, values)
                newcomer.id, newcomer.membre_id = result.one()
            self._newcomer_id = newcomer.membre_id
            self._standings[newcomer.membre_id] = self._standings.pop(_NEWCOMER)
            new.remove(newcomer)
        params = [
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
        ]
        if len(params) == 1:
            result = await self._execute(self._sql.insert_one, params[0])
            new[0].id = result.inserted_primary_key[0]
        elif params:
            rows = await self._execute(self._sql.insert, params)
            for row_id, membre_id in rows:
                self._standings[membre_id].id = row_id
        for s in dirty:
            s.dirty = False

    async def _recipients(self, membre_ids: list[int]) -> dict[int, Recipient]:
        if not membre_ids:
            return {}
        rows = await self._execute(self._sql.recipients, {"membres": membre_ids})
        return {
            membre_id: Recipient(
                membre_id=membre_id, user_id=user_id, locale=locale, etat=EtatInscription.INSCRIT
            )
            for membre_id, user_id, locale in rows
        }

    def _result(
        self, base: AtelierInfo, d: _Decided, recipients: dict[int, Recipient]
    ) -> AnswerResult:
        counts = counts_of(d.counts, base.capacite)
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
        await self._execute(
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
