"""Privacy (Québec's Loi 25): access (export), erasure, departures, retention.

``REGISTRY`` names every table of the schema: either it holds data about a member (and how to
select that member's rows) or it holds no personal data (and why). A test fails when a table is
in neither list, so a new table cannot be forgotten by the export.

Erasure deletes what exists for the member only (profile, directory, jumelage, proposals,
departure, deliveries, inscriptions and answers in ateliers that have not begun) and
pseudonymizes the rest: the ``membre`` row of someone with inscriptions in ateliers that have
begun keeps its id, so those ateliers' counts stay right, but loses its Discord id and name. Their
Discord id is removed from the audit log and the ateliers they organized. No Discord here.
"""

from __future__ import annotations

import calendar
import enum
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import PrivacyConfig
from cogs.ateliers.info import Recipient
from cogs.inscriptions import waitlist
from cogs.membres.queries import delete_profile_data, lock_membre
from cogs.questions.service import erase_membre as erase_questions_data
from cogs.questions.service import purge_before as purge_questions_before
from db import repositories as repo
from db.models import (
    Atelier,
    AuditLog,
    Base,
    CalendrierJeton,
    Chantier,
    Coanimateur,
    ConversationProposal,
    Document,
    EtatAtelier,
    Inscription,
    Intake,
    JumelagePairMembre,
    JumelageRound,
    Livraison,
    Membre,
    MembreDepart,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Presence,
    Profil,
    Rappel,
    Seance,
    SeanceReponse,
)
from db.outbox import enqueue

log = logging.getLogger(__name__)

OUTBOX_KEEP = timedelta(days=30)  # delivered messages, for the operators' inquiries
INTAKE_KEEP = timedelta(days=1)  # saved answers: their token lives 15 minutes


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberKeys:
    """Who an export or an erasure is about: a Discord user on a server, and their member row
    (none if Partage never stored anything about them)."""

    guild_id: int
    user_id: int
    membre_ids: tuple[int, ...]


Selector = Callable[[Table, MemberKeys], ColumnElement[bool]]


@dataclass(frozen=True)
class HoldsMemberData:
    """A table with rows about a member; ``where`` selects one member's rows."""

    table: str
    how: str
    where: Selector


@dataclass(frozen=True)
class NoPersonalData:
    table: str
    reason: str


def _by(column: str) -> Selector:
    return lambda t, k: t.c[column].in_(k.membre_ids)


def _by_user(column: str) -> Selector:
    return lambda t, k: (t.c.guild_id == k.guild_id) & (t.c[column] == k.user_id)


REGISTRY: tuple[HoldsMemberData | NoPersonalData, ...] = (
    HoldsMemberData("membre", "id (Discord id, name, language, reminder choice)", _by("id")),
    HoldsMemberData("profil", "membre_id", _by("membre_id")),
    HoldsMemberData(
        "profil_chantier",
        "profil_id of the member's profile",
        lambda t, k: t.c.profil_id.in_(select(Profil.id).where(Profil.membre_id.in_(k.membre_ids))),
    ),
    HoldsMemberData("inscription", "membre_id", _by("membre_id")),
    HoldsMemberData("seance_reponse", "membre_id", _by("membre_id")),
    HoldsMemberData("livraison", "membre_id (direct-message deliveries)", _by("membre_id")),
    HoldsMemberData(
        "conversation_proposal",
        "from_membre_id or to_membre_id",
        lambda t, k: or_(t.c.from_membre_id.in_(k.membre_ids), t.c.to_membre_id.in_(k.membre_ids)),
    ),
    HoldsMemberData("jumelage_participant", "membre_id", _by("membre_id")),
    HoldsMemberData(
        "jumelage_pair",
        "pairs the member belongs to",
        lambda t, k: t.c.id.in_(
            select(JumelagePairMembre.pair_id).where(JumelagePairMembre.membre_id.in_(k.membre_ids))
        ),
    ),
    HoldsMemberData("jumelage_pair_membre", "membre_id", _by("membre_id")),
    HoldsMemberData("membre_depart", "membre_id", _by("membre_id")),
    HoldsMemberData(
        "audit_log", "actor_user_id (what they did as staff)", _by_user("actor_user_id")
    ),
    HoldsMemberData("atelier", "organizer_user_id", _by_user("organizer_user_id")),
    HoldsMemberData(
        "outbox", "user_id (messages to or about them, kept 30 days)", _by_user("user_id")
    ),
    HoldsMemberData("intake", "user_id (answers being saved, kept a day)", _by_user("user_id")),
    HoldsMemberData(
        "calendrier_jeton", "membre_id (the hash of their private feed address)", _by("membre_id")
    ),
    NoPersonalData("seance_retiree", "dates of séances a modification removed"),
    # Attendance and co-hosts (cogs/presences): the member's own rows, and what they did as
    # staff (marked someone present, named a co-host).
    HoldsMemberData(
        "presence",
        "membre_id (séances they came to), or marked_by_user_id (who they marked)",
        lambda t, k: or_(
            t.c.membre_id.in_(k.membre_ids),
            (t.c.guild_id == k.guild_id) & (t.c.marked_by_user_id == k.user_id),
        ),
    ),
    HoldsMemberData(
        "coanimateur",
        "membre_id (ateliers they co-host), or added_by_user_id (co-hosts they named)",
        lambda t, k: or_(
            t.c.membre_id.in_(k.membre_ids),
            (t.c.guild_id == k.guild_id) & (t.c.added_by_user_id == k.user_id),
        ),
    ),
    # Between the ateliers (issue 13)
    HoldsMemberData("personne_ressource", "membre_id", _by("membre_id")),
    HoldsMemberData("question", "asker_membre_id (questions they asked)", _by("asker_membre_id")),
    HoldsMemberData("question_mention", "membre_id (questions they were asked)", _by("membre_id")),
    HoldsMemberData("relance", "membre_id (« peut-être » nudges sent)", _by("membre_id")),
    HoldsMemberData("document", "added_by_user_id", _by_user("added_by_user_id")),
    NoPersonalData(
        "atelier_suivi", "an atelier's poll and follow-up thread ids, and the poll's counts"
    ),
    NoPersonalData("guild", "the server's id, name and channels"),
    NoPersonalData("chantier", "work streams and their channels and role"),
    NoPersonalData("seance", "dates of ateliers"),
    NoPersonalData("rappel", "the reminder plan of séances (deliveries are in livraison)"),
    NoPersonalData("jumelage_round", "a round's date and counts; who took part is in its pairs"),
    NoPersonalData("bot_state", "the bot's own key/value facts"),
    NoPersonalData("annonce", "where an atelier's further announcements were posted"),
)


def member_tables() -> list[HoldsMemberData]:
    return [e for e in REGISTRY if isinstance(e, HoldsMemberData)]


def unregistered_tables() -> set[str]:
    """Tables of the schema the registry forgets (must be empty), and names it has wrong."""
    named = [e.table for e in REGISTRY]
    return set(Base.metadata.tables).symmetric_difference(named) | {
        n for n in named if named.count(n) > 1
    }


# --- data returned ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class MemberExport:
    """Everything stored about a member on a server: one list of rows per table (values as
    the database gives them; ``as_dict`` writes them for JSON), and the titles of the ateliers
    and chantiers those rows refer to."""

    guild_id: int
    user_id: int
    generated_at: datetime
    tables: dict[str, list[dict[str, Any]]]
    context: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "guild_id": str(self.guild_id),
            "user_id": str(self.user_id),
            "generated_at": self.generated_at.isoformat(),
            "tables": {
                name: [{k: _jsonable(v) for k, v in row.items()} for row in rows]
                for name, rows in self.tables.items()
            },
            "context": self.context,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=False)


@dataclass(frozen=True)
class Promotion:
    """Someone who got the place an erased member held (told through the outbox)."""

    atelier_id: int
    recipient: Recipient


@dataclass(frozen=True)
class Welcome:
    """A new member's welcome: their name, the server's language, and where to mention them
    when their DMs are closed (the server's system channel)."""

    name: str
    locale: str
    fallback_channel_id: int | None


@dataclass(frozen=True)
class EraseResult:
    guild_id: int
    found: bool
    pseudonymized: bool = False
    membre_deleted: bool = False
    inscriptions_deleted: int = 0
    inscriptions_kept: int = 0
    promoted: tuple[Promotion, ...] = ()


@dataclass(frozen=True)
class Departure:
    guild_id: int
    user_id: int
    left_at: datetime


@dataclass(frozen=True)
class PurgeResult:
    ateliers: int = 0
    inscriptions: int = 0
    seance_reponses: int = 0
    livraisons: int = 0
    rounds: int = 0
    proposals: int = 0
    membres: int = 0
    outbox: int = 0
    intake: int = 0
    presences: int = 0


def months_before(moment: datetime, months: int) -> datetime:
    years, month0 = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month0 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


# --- the service --------------------------------------------------------------------------------


class PrivacyService:
    """Export, erasure, departures and retention."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: PrivacyConfig | None = None,
        *,
        offer_hours: int = 0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config or PrivacyConfig()
        #: ``ateliers.offer_hours``: above 0, a place an erasure frees is offered.
        self.offer_hours = offer_hours

    async def export(self, guild_id: int, user_id: int) -> MemberExport:
        """Everything stored about the member on this server (``/mes-donnees``)."""
        now = self.clock.now()
        async with self.sessions() as session:
            keys = await _keys(session, guild_id, user_id)
            tables: dict[str, list[dict[str, Any]]] = {}
            for entry in member_tables():
                table = Base.metadata.tables[entry.table]
                rows = (
                    await session.execute(
                        select(table)
                        .where(entry.where(table, keys))
                        .order_by(*table.primary_key.columns)
                    )
                ).mappings()
                tables[entry.table] = [dict(r) for r in rows]
            context = await _context(session, tables)
        log.info(
            "guild %s: export for membre(s) %s, %d rows",
            guild_id,
            list(keys.membre_ids),
            sum(len(r) for r in tables.values()),
        )
        return MemberExport(guild_id, user_id, now, tables, context)

    async def erase(self, guild_id: int, user_id: int) -> EraseResult:
        """Erase a member from this server (``/profil supprimer``, or after a departure)."""
        async with self.sessions.begin() as session:
            return await self._erase(session, guild_id, user_id, departed_before=None)

    # -- departures --

    async def member_left(self, guild_id: int, user_id: int) -> bool:
        """Record a departure (the first one counts); False if nothing is stored about them."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            if membre is None:
                return False
            found = (
                await session.execute(
                    select(MembreDepart.id).where(MembreDepart.membre_id == membre.id)
                )
            ).scalar_one_or_none()
            if found is None:
                session.add(MembreDepart(guild_id=guild_id, membre_id=membre.id, left_at=now))
                log.info("guild %s: membre %s left the server", guild_id, membre.id)
            return True

    async def member_returned(
        self, guild_id: int, user_id: int, *, welcome: Welcome | None = None
    ) -> bool:
        """A member joined: cancel a pending erasure (True if there was one) and, with
        ``welcome``, queue their welcome message in the same transaction (outbox)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            if welcome is not None:
                enqueue(
                    session,
                    OutboxKind.WELCOME,
                    {
                        "user_id": user_id,
                        "name": welcome.name[:100],
                        "locale": welcome.locale,
                        "fallback_channel_id": welcome.fallback_channel_id,
                    },
                    now=now,
                    guild_id=guild_id,
                    topic=f"welcome:{user_id}",
                    user_id=user_id,
                )
            membre = await repo.find_membre(session, guild_id, user_id)
            if membre is None:
                return False
            deleted = await _rows(
                session, delete(MembreDepart).where(MembreDepart.membre_id == membre.id)
            )
        return bool(deleted)

    async def due_departures(self, now: datetime | None = None) -> list[Departure]:
        """Members, on every server, gone for longer than the grace period."""
        cutoff = (now or self.clock.now()) - timedelta(days=self.config.departure_grace_days)
        async with self.sessions() as session:
            rows = await session.execute(
                select(MembreDepart.guild_id, Membre.user_id, MembreDepart.left_at)
                .join(Membre, Membre.id == MembreDepart.membre_id)
                .where(MembreDepart.left_at <= cutoff, Membre.user_id.is_not(None))
                .order_by(MembreDepart.left_at, MembreDepart.id)
            )
            return [Departure(g, u, at) for g, u, at in rows]

    async def erase_departed(self, now: datetime | None = None) -> list[EraseResult]:
        """Erase every member whose grace period is over. Each erasure re-checks, in its own
        transaction, that the member has not come back in the meantime."""
        now = now or self.clock.now()
        cutoff = now - timedelta(days=self.config.departure_grace_days)
        results = []
        for departure in await self.due_departures(now):
            async with self.sessions.begin() as session:
                result = await self._erase(
                    session, departure.guild_id, departure.user_id, departed_before=cutoff
                )
            if result.found:
                results.append(result)
        return results

    # -- retention --

    async def purge_retention(self, now: datetime | None = None) -> PurgeResult:
        """Delete inscriptions, per-séance answers and deliveries of ateliers whose last séance
        is older than the retention period, jumelage rounds and proposals as old, then member
        rows left with nothing (no profile, no reminder choice, nothing referring to them)."""
        now = now or self.clock.now()
        cutoff = months_before(now, self.config.retention_months)
        async with self.sessions.begin() as session:
            last_end = (
                select(Seance.atelier_id)
                .group_by(Seance.atelier_id)
                .having(func.max(func.coalesce(Seance.ends_at, Seance.starts_at)) < cutoff)
            )
            old = list((await session.execute(last_end)).scalars())
            result = PurgeResult(ateliers=len(old))
            if old:
                seances = select(Seance.id).where(Seance.atelier_id.in_(old))
                result = PurgeResult(
                    ateliers=len(old),
                    seance_reponses=await _rows(
                        session, delete(SeanceReponse).where(SeanceReponse.seance_id.in_(seances))
                    ),
                    presences=await _rows(
                        session, delete(Presence).where(Presence.seance_id.in_(seances))
                    ),
                    livraisons=await _rows(
                        session,
                        delete(Livraison).where(
                            Livraison.membre_id.is_not(None),
                            Livraison.rappel_id.in_(
                                select(Rappel.id).where(Rappel.seance_id.in_(seances))
                            ),
                        ),
                    ),
                    inscriptions=await _rows(
                        session, delete(Inscription).where(Inscription.atelier_id.in_(old))
                    ),
                )
            rounds = await _rows(
                session, delete(JumelageRound).where(JumelageRound.ran_at < cutoff)
            )
            proposals = await _rows(
                session,
                delete(ConversationProposal).where(ConversationProposal.created_at < cutoff),
            )
            await purge_questions_before(session, cutoff)  # between the ateliers
            membres = await _rows(
                session,
                delete(Membre).where(
                    Membre.dm_reminders.is_(False),
                    Membre.pseudonymized_at.is_not(None) | (Membre.created_at < cutoff),
                    *_unreferenced(Membre),
                ),
            )
            done = OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED))
            outbox = await _rows(
                session,
                delete(OutboxMessage).where(done, OutboxMessage.created_at < now - OUTBOX_KEEP),
            )
            intake = await _rows(
                session, delete(Intake).where(Intake.received_at < now - INTAKE_KEEP)
            )
        result = PurgeResult(
            ateliers=result.ateliers,
            inscriptions=result.inscriptions,
            seance_reponses=result.seance_reponses,
            presences=result.presences,
            livraisons=result.livraisons,
            rounds=rounds,
            proposals=proposals,
            membres=membres,
            outbox=outbox,
            intake=intake,
        )
        log.info("retention purge before %s: %s", cutoff.date(), result)
        return result

    # -- erasure --

    async def _erase(
        self,
        session: AsyncSession,
        guild_id: int,
        user_id: int,
        *,
        departed_before: datetime | None,
    ) -> EraseResult:
        now = self.clock.now()
        membre = await repo.find_membre(session, guild_id, user_id)
        if membre is not None:
            await lock_membre(session, membre.id)
        if departed_before is not None:
            left_at = (
                await session.execute(
                    select(MembreDepart.left_at).where(
                        MembreDepart.membre_id == (membre.id if membre else -1)
                    )
                )
            ).scalar_one_or_none()
            if left_at is None or left_at > departed_before:
                return EraseResult(guild_id, found=False)  # came back meanwhile
        # What holds their Discord id outside the member row.
        await session.execute(
            update(AuditLog)
            .where(AuditLog.guild_id == guild_id, AuditLog.actor_user_id == user_id)
            .values(actor_user_id=None)
        )
        await self._scrub_audit_details(
            session, guild_id, user_id, membre.display_name if membre else None
        )
        await session.execute(
            update(Atelier)
            .where(Atelier.guild_id == guild_id, Atelier.organizer_user_id == user_id)
            .values(organizer_user_id=None)
        )
        await _forget_staff_acts(session, guild_id, user_id)
        await session.execute(
            update(Document)
            .where(Document.guild_id == guild_id, Document.added_by_user_id == user_id)
            .values(added_by_user_id=None)
        )
        if membre is None:
            return EraseResult(guild_id, found=False)

        await delete_profile_data(session, membre.id)
        await erase_questions_data(session, membre.id)
        await session.execute(delete(MembreDepart).where(MembreDepart.membre_id == membre.id))
        await session.execute(delete(Livraison).where(Livraison.membre_id == membre.id))
        await session.execute(delete(CalendrierJeton).where(CalendrierJeton.membre_id == membre.id))
        deleted, promoted = await self._drop_future_inscriptions(
            session, membre.id, now, self.offer_hours
        )
        await session.execute(
            delete(Intake).where(Intake.guild_id == guild_id, Intake.user_id == user_id)
        )
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.guild_id == guild_id, OutboxMessage.user_id == user_id
            )
        )
        kept = (
            await session.execute(select(func.count()).where(Inscription.membre_id == membre.id))
        ).scalar_one()
        answers = (
            await session.execute(select(func.count()).where(SeanceReponse.membre_id == membre.id))
        ).scalar_one()
        await session.execute(delete(Coanimateur).where(Coanimateur.membre_id == membre.id))
        # Séances they came to stay counted (pseudonymized), as their inscriptions do.
        answers += (
            await session.execute(select(func.count()).where(Presence.membre_id == membre.id))
        ).scalar_one()
        membre_id = membre.id
        if kept or answers:
            membre.user_id = None
            membre.display_name = None
            membre.locale = "fr"
            membre.dm_reminders = False
            membre.pseudonymized_at = now
        else:
            await session.delete(membre)
        await session.flush()
        await repo.audit(
            session,
            guild_id=guild_id,
            actor_user_id=None,
            action="membre.erase",
            details={
                "inscriptions_conservees": kept,
                "inscriptions_supprimees": deleted,
                "pseudonymise": bool(kept or answers),
            },
            at=now,
        )
        log.info(
            "guild %s: membre %s erased (%d inscriptions deleted, %d kept pseudonymized)",
            guild_id,
            membre_id,
            deleted,
            kept,
        )
        return EraseResult(
            guild_id,
            found=True,
            pseudonymized=bool(kept or answers),
            membre_deleted=not (kept or answers),
            inscriptions_deleted=deleted,
            inscriptions_kept=kept,
            promoted=tuple(promoted),
        )

    @staticmethod
    async def _drop_future_inscriptions(
        session: AsyncSession, membre_id: int, now: datetime, offer_hours: int = 0
    ) -> tuple[int, list[Promotion]]:
        """Delete inscriptions and per-séance answers in ateliers not begun yet (a place held
        by nobody would be lost); a freed place goes to the waiting list."""
        first_start = (
            select(Seance.atelier_id, func.min(Seance.starts_at).label("first"))
            .group_by(Seance.atelier_id)
            .subquery()
        )
        future = select(first_start.c.atelier_id).where(first_start.c.first > now)
        inscriptions = (
            (
                await session.execute(
                    select(Inscription)
                    .where(Inscription.membre_id == membre_id, Inscription.atelier_id.in_(future))
                    .order_by(Inscription.atelier_id)
                )
            )
            .scalars()
            .all()
        )
        await session.execute(
            delete(SeanceReponse).where(
                SeanceReponse.membre_id == membre_id,
                SeanceReponse.seance_id.in_(select(Seance.id).where(Seance.atelier_id.in_(future))),
            )
        )
        promoted: list[Promotion] = []
        for inscription in inscriptions:
            atelier = await repo.lock_atelier(session, inscription.atelier_id)
            await session.delete(inscription)
            await session.flush()
            if atelier is not None and atelier.etat == EtatAtelier.PLANIFIE:
                # The waiting list's rule; the promoted are told and the announcement shows
                # the freed place, through the outbox, with this erasure's commit.
                promoted += [
                    Promotion(atelier.id, r)
                    for r in await waitlist.place_freed(
                        session, atelier, now, offer_hours=offer_hours
                    )
                ]
        return len(inscriptions), promoted

    @staticmethod
    async def _scrub_audit_details(
        session: AsyncSession, guild_id: int, user_id: int, display_name: str | None
    ) -> None:
        """Remove the member's Discord id (and name) from the details of audit entries."""
        targets: set[Any] = {user_id, str(user_id)}
        if display_name:
            targets.add(display_name)

        def scrub(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: scrub(v) for k, v in value.items()}
            if isinstance(value, list):
                return [scrub(v) for v in value]
            if isinstance(value, bool):
                return value
            if value in targets:
                return None
            if isinstance(value, str) and str(user_id) in value:
                return value.replace(str(user_id), "")
            return value

        rows = await session.execute(select(AuditLog).where(AuditLog.guild_id == guild_id))
        for entry in rows.scalars():
            cleaned = scrub(entry.details)
            if cleaned != entry.details:
                entry.details = cleaned


async def _keys(session: AsyncSession, guild_id: int, user_id: int) -> MemberKeys:
    ids = (
        await session.execute(
            select(Membre.id).where(Membre.guild_id == guild_id, Membre.user_id == user_id)
        )
    ).scalars()
    return MemberKeys(guild_id, user_id, tuple(ids))


async def _context(
    session: AsyncSession, tables: dict[str, list[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Titles of the ateliers and names of the chantiers the exported rows refer to."""
    atelier_ids = {r["atelier_id"] for r in tables.get("inscription", [])}
    seance_ids = {r["seance_id"] for r in tables.get("seance_reponse", [])}
    seance_ids |= {r["seance_id"] for r in tables.get("presence", [])}
    atelier_ids |= {r["atelier_id"] for r in tables.get("coanimateur", [])}
    if seance_ids:
        atelier_ids |= set(
            (
                await session.execute(select(Seance.atelier_id).where(Seance.id.in_(seance_ids)))
            ).scalars()
        )
    chantier_ids = {r["chantier_id"] for r in tables.get("profil_chantier", [])} | {
        r["chantier_id"] for r in tables.get("jumelage_pair", []) if r.get("chantier_id")
    }
    ateliers: dict[str, Any] = {}
    if atelier_ids:
        seances = await repo.seances_of_many(session, list(atelier_ids))
        for a in (
            await session.execute(select(Atelier).where(Atelier.id.in_(atelier_ids)))
        ).scalars():
            ateliers[str(a.id)] = {
                "titre": a.titre,
                "dates": [s.local_date.isoformat() for s in seances[a.id]],
            }
    chantiers: dict[str, Any] = {}
    if chantier_ids:
        for c in (
            await session.execute(select(Chantier).where(Chantier.id.in_(chantier_ids)))
        ).scalars():
            chantiers[str(c.id)] = c.nom
    return {"ateliers": ateliers, "chantiers": chantiers}


async def _forget_staff_acts(session: AsyncSession, guild_id: int, user_id: int) -> None:
    """Remove the member's Discord id from the presences they marked and the co-hosts they
    named as staff (the rows stay: they are about others)."""
    await session.execute(
        update(Presence)
        .where(Presence.guild_id == guild_id, Presence.marked_by_user_id == user_id)
        .values(marked_by_user_id=None)
    )
    await session.execute(
        update(Coanimateur)
        .where(Coanimateur.guild_id == guild_id, Coanimateur.added_by_user_id == user_id)
        .values(added_by_user_id=None)
    )


async def _rows(session: AsyncSession, statement: Any) -> int:
    return int((await session.execute(statement)).rowcount or 0)


def _unreferenced(model: type[Base]) -> list[ColumnElement[bool]]:
    """One ``NOT EXISTS`` per foreign key of the schema pointing at ``model``'s id: true for
    rows nothing refers to (so a new table referring to members is taken into account)."""
    target = model.__table__  # type: ignore[attr-defined]
    conditions = []
    for table in Base.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.column.table is target:
                conditions.append(~exists().where(fk.parent == fk.column))
    return conditions
