"""Attendance: « Je suis là » during a séance, the staff's checklist (registered members and
walk-ins), and who co-hosts an atelier (staff rights on that atelier only). No Discord here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, NotFound
from cogs.ateliers.info import AtelierInfo, SeanceInfo, atelier_info
from cogs.presences import queries
from db import repositories as repo
from db.models import Atelier, Coanimateur, EtatAtelier, Membre, Presence, Seance
from db.session import notify_after_commit

log = logging.getLogger(__name__)

PAGE_SIZE = 25  # options in one Discord select menu
#: The topic of this service's writes (the announcement is refreshed by the ateliers feature).
PRESENCES = "presences"


@dataclass(frozen=True)
class MarkResult:
    """A member's « Je suis là »: ``already`` when it was recorded before; ``inscrit`` when
    they were expected at the séance (otherwise they came without registering)."""

    atelier_id: int
    titre: str
    seance_id: int
    already: bool
    inscrit: bool


@dataclass(frozen=True)
class ChecklistRow:
    membre_id: int
    user_id: int | None
    name: str | None
    expected: bool  # registered for the séance (else: came without registering)
    present: bool


@dataclass(frozen=True)
class Checklist:
    """One page of a séance's checklist: those expected, then those who came unexpected."""

    atelier: AtelierInfo
    seance: SeanceInfo
    number: int  # 1-based, among the atelier's séances
    rows: tuple[ChecklistRow, ...]  # this page's rows
    page: int  # 0-based
    pages: int
    present: int  # on every page
    expected: int
    walk_ins: int


class PresenceService:
    """Attendance and co-hosts, one transaction per use case."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    # --- co-hosts ----------------------------------------------------------------------------

    async def is_cohost(self, guild_id: int, atelier_id: int, user_id: int) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(Coanimateur.id)
                .join(Membre, Membre.id == Coanimateur.membre_id)
                .where(
                    Coanimateur.atelier_id == atelier_id,
                    Coanimateur.guild_id == guild_id,
                    Membre.user_id == user_id,
                )
            )
        return found is not None

    async def atelier_of_seance(self, guild_id: int, seance_id: int) -> int:
        async with self.sessions() as session:
            _, atelier = await _seance(session, guild_id, seance_id)
            return atelier.id

    # --- the member's button -----------------------------------------------------------------

    async def mark_self(
        self,
        guild_id: int,
        seance_id: int,
        user_id: int,
        *,
        display_name: str | None = None,
        locale: str | None = None,
    ) -> MarkResult:
        """Record that the member came (« Je suis là »), only while the séance is open: from a
        little before its start to a little after its end."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, PRESENCES)
            seance, atelier = await _seance(session, guild_id, seance_id)
            opens, closes = queries.window(seance, atelier)
            if now < opens:
                raise Conflict(
                    N_(
                        "La séance de « {titre} » n'a pas encore commencé : revenez au début "
                        "de la séance pour dire que vous êtes là."
                    ),
                    titre=atelier.titre,
                )
            if now > closes:
                raise Conflict(
                    N_("La séance de « {titre} » est terminée : la présence est close."),
                    titre=atelier.titre,
                )
            membre = await repo.upsert_membre(
                session, guild_id, user_id, now, display_name=display_name, locale=locale
            )
            expected = {m.id for m in await queries.expected(session, atelier.id, seance.id)}
            already, inscrit = await _mark(
                session, guild_id, seance.id, membre.id, membre.id in expected, None, now
            )
        if not already:
            log.info("séance %s: membre %s is here (inscrit: %s)", seance_id, membre.id, inscrit)
        return MarkResult(atelier.id, atelier.titre, seance_id, already, inscrit)

    # --- the staff's checklist ---------------------------------------------------------------

    async def checklist(
        self, guild_id: int, atelier_id: int, seance_id: int | None = None, page: int = 0
    ) -> Checklist:
        """A page of the checklist of a séance (by default the one under way, else the last
        one begun, else the first)."""
        now = self.clock.now()
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            seances = list(await repo.seances_of(session, atelier_id))
            if not seances:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            if seance_id is None:
                seance = _default_seance(seances, atelier, now)
            else:
                seance = next((s for s in seances if s.id == seance_id), None)
                if seance is None:
                    raise NotFound(
                        N_("Cette séance n'est pas une séance de « {titre} »."), titre=atelier.titre
                    )
            return await _checklist(session, atelier, seances, seance, page)

    async def record_page(
        self,
        guild_id: int,
        seance_id: int,
        shown: Sequence[int],
        present: Sequence[int],
        *,
        actor_user_id: int,
        page: int = 0,
    ) -> Checklist:
        """Staff ticked ``present`` among the members ``shown`` on a page: those are marked
        present, the others shown are not. Returns the page again."""
        now = self.clock.now()
        wanted, shown_set = set(present) & set(shown), set(shown)
        async with self.sessions.begin() as session:
            notify_after_commit(session, PRESENCES)
            seance, atelier = await _seance(session, guild_id, seance_id)
            attending = await queries.expected(session, atelier.id, seance.id)
            expected = {m.id for m in attending}
            ours = await session.scalars(
                select(Membre.id).where(Membre.id.in_(sorted(wanted)), Membre.guild_id == guild_id)
            )
            added = await _mark_many(
                session, guild_id, seance.id, {m: m in expected for m in ours}, actor_user_id, now
            )
            removed = (
                await session.execute(
                    delete(Presence).where(
                        Presence.seance_id == seance.id,
                        Presence.membre_id.in_(sorted(shown_set - wanted)),
                    )
                )
            ).rowcount or 0
            if added or removed:
                await repo.audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=actor_user_id,
                    action="presence.mark",
                    atelier_id=atelier.id,
                    details={"seance_id": seance.id, "presents": added, "absents": removed},
                    at=now,
                )
            seances = list(await repo.seances_of(session, atelier.id))
            result = await _checklist(session, atelier, seances, seance, page, attending)
        log.info(
            "séance %s: attendance by %s, %d marked present, %d unmarked",
            seance_id,
            actor_user_id,
            added,
            removed,
        )
        return result

    async def add_walk_ins(
        self,
        guild_id: int,
        seance_id: int,
        people: Sequence[tuple[int, str | None]],
        *,
        actor_user_id: int,
    ) -> Checklist:
        """Staff mark members present who came (registered or not): ``people`` are (Discord
        id, name) pairs. Returns the checklist's last page (where walk-ins are)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, PRESENCES)
            seance, atelier = await _seance(session, guild_id, seance_id)
            attending = await queries.expected(session, atelier.id, seance.id)
            expected = {m.id for m in attending}
            membres = await repo.upsert_membres(session, guild_id, dict(people), now)
            added = await _mark_many(
                session,
                guild_id,
                seance.id,
                {m.id: m.id in expected for m in membres.values()},
                actor_user_id,
                now,
            )
            if added:
                await repo.audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=actor_user_id,
                    action="presence.mark",
                    atelier_id=atelier.id,
                    details={"seance_id": seance.id, "presents": added, "absents": 0},
                    at=now,
                )
            seances = list(await repo.seances_of(session, atelier.id))
            result = await _checklist(session, atelier, seances, seance, 10**6, attending)
        log.info("séance %s: %d added present by %s", seance_id, added, actor_user_id)
        return result


async def _seance(session: AsyncSession, guild_id: int, seance_id: int) -> tuple[Seance, Atelier]:
    seance = await session.get(Seance, seance_id)
    atelier = await session.get(Atelier, seance.atelier_id) if seance is not None else None
    if seance is None or atelier is None or atelier.guild_id != guild_id:
        raise NotFound(N_("Séance introuvable."))
    if atelier.etat == EtatAtelier.ANNULE:
        raise Conflict(N_("L'atelier « {titre} » est annulé."), titre=atelier.titre)
    return seance, atelier


async def _mark(
    session: AsyncSession,
    guild_id: int,
    seance_id: int,
    membre_id: int,
    inscrit: bool,
    marked_by: int | None,
    now: datetime,
) -> tuple[bool, bool]:
    """Record one presence once. Returns (already, inscrit as recorded)."""
    if await _mark_many(session, guild_id, seance_id, {membre_id: inscrit}, marked_by, now):
        return False, inscrit
    row = await session.scalar(
        select(Presence.inscrit).where(
            Presence.seance_id == seance_id, Presence.membre_id == membre_id
        )
    )
    return True, bool(row)


async def _mark_many(
    session: AsyncSession,
    guild_id: int,
    seance_id: int,
    inscrits: dict[int, bool],
    marked_by: int | None,
    now: datetime,
) -> int:
    """Record several presences (membre id → registered), each once: one statement. Returns
    how many were new."""
    if not inscrits:
        return 0
    stmt = (
        repo.insert_for(session, Presence)
        .values(
            [
                dict(
                    guild_id=guild_id,
                    seance_id=seance_id,
                    membre_id=membre_id,
                    inscrit=inscrit,
                    marked_by_user_id=marked_by,
                    at=now,
                )
                for membre_id, inscrit in inscrits.items()
            ]
        )
        .on_conflict_do_nothing(index_elements=["seance_id", "membre_id"])
        .returning(Presence.membre_id)
    )
    return len((await session.execute(stmt)).all())


def _default_seance(seances: list[Seance], atelier: Atelier, now: datetime) -> Seance:
    for s in seances:
        opens, closes = queries.window(s, atelier)
        if opens <= now <= closes:
            return s
    begun = [s for s in seances if s.starts_at <= now]
    return begun[-1] if begun else seances[0]


async def _checklist(
    session: AsyncSession,
    atelier: Atelier,
    seances: list[Seance],
    seance: Seance,
    page: int,
    expected: Sequence[Membre] | None = None,
) -> Checklist:
    """The checklist's page; ``seances`` and ``expected`` as the caller's transaction just read
    them (``expected`` is read here when not given)."""
    if expected is None:
        expected = await queries.expected(session, atelier.id, seance.id)
    presences = await queries.presences_of(session, [seance.id])
    here = {p.membre_id for p in presences}
    expected_ids = {m.id for m in expected}
    rows = [ChecklistRow(m.id, m.user_id, m.display_name, True, m.id in here) for m in expected]
    others = [p.membre_id for p in presences if p.membre_id not in expected_ids]
    walk_ins = [
        ChecklistRow(m.id, m.user_id, m.display_name, False, True)
        for m in (
            await session.scalars(select(Membre).where(Membre.id.in_(others))) if others else ()
        )
    ]
    walk_ins.sort(key=lambda r: ((r.name or "").casefold(), r.membre_id))
    rows += walk_ins
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    info = atelier_info(atelier, seances, await repo.etat_counts(session, atelier.id))
    number = next(i for i, s in enumerate(seances, 1) if s.id == seance.id)
    return Checklist(
        atelier=info,
        seance=info.seances[number - 1],
        number=number,
        rows=tuple(rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]),
        page=page,
        pages=pages,
        present=len(here),
        expected=len(expected),
        walk_ins=len(walk_ins),
    )
