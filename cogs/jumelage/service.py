"""The jumelage: regular peer pairing across municipalities, opt-in, with a check-in a week later.

Participation, rounds (planned by ``planner.plan_round``: another municipality, a shared chantier
if possible, no repeated pair, a trio or one left out with an odd number), the pairs' threads and
check-ins. Conversation starters are in ``starters.py``, the queries in ``queries.py``. No Discord
here.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import JumelageConfig
from bot.errors import N_, Conflict, InvalidInput, NotFound
from cogs.jumelage.planner import Candidate, plan_round, shared_chantier
from cogs.jumelage.queries import PairInfo, PairMember, aware, pair_info, pairable, past_pairs
from cogs.membres.queries import lock_membre, profil_of
from cogs.membres.service import CONSENT_FIRST, ConsentRequired
from db import repositories as repo
from db.models import (
    Guild,
    JumelagePair,
    JumelagePairMembre,
    JumelageParticipant,
    JumelageRound,
)

log = logging.getLogger(__name__)

SNOOZE_MAX = timedelta(days=365)


# --- data returned ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Participation:
    participe: bool
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class RoundResult:
    round_id: int
    guild_id: int
    ran_at: datetime
    pairs: tuple[PairInfo, ...]
    left_out: tuple[PairMember, ...]
    repeats: int = 0


# --- the service --------------------------------------------------------------------------------


class JumelageService:
    """Participation, rounds, threads and check-ins."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: JumelageConfig | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config or JumelageConfig()

    # -- participation --

    async def set_participation(
        self, guild_id: int, user_id: int, participer: bool
    ) -> Participation:
        """Join (needs a profile, hence consent, with a municipality) or leave (at any time;
        leaving deletes the participation)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            if not participer:
                if membre is not None:
                    await session.execute(
                        delete(JumelageParticipant).where(
                            JumelageParticipant.membre_id == membre.id
                        )
                    )
                    log.info("guild %s: membre %s left the jumelage", guild_id, membre.id)
                return Participation(False)
            profil = await profil_of(session, membre.id) if membre is not None else None
            if membre is None or profil is None:
                raise ConsentRequired(CONSENT_FIRST)
            if profil.municipalite_cle is None:
                raise Conflict(
                    N_(
                        "Indiquez d'abord votre municipalité dans votre profil : le jumelage "
                        "réunit des collègues de municipalités différentes."
                    )
                )
            await lock_membre(session, membre.id)
            row = await self._participant(session, membre.id)
            if row is None:
                session.add(
                    JumelageParticipant(
                        guild_id=guild_id, membre_id=membre.id, joined_at=now, updated_at=now
                    )
                )
                log.info("guild %s: membre %s joined the jumelage", guild_id, membre.id)
            else:
                row.snoozed_until, row.updated_at = None, now
        return Participation(True)

    async def participation(self, guild_id: int, user_id: int) -> Participation:
        async with self.sessions() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            row = await self._participant(session, membre.id) if membre else None
            if row is None:
                return Participation(False)
            return Participation(True, row.snoozed_until)

    async def snooze(self, guild_id: int, user_id: int, until: datetime | None) -> Participation:
        """Skip rounds until ``until`` (``None`` resumes at once)."""
        now = self.clock.now()
        if until is not None and until <= now:
            raise InvalidInput(N_("La pause doit se terminer dans le futur."))
        if until is not None and until > now + SNOOZE_MAX:
            raise InvalidInput(N_("Une pause dure au plus {max} jours."), max=SNOOZE_MAX.days)
        async with self.sessions.begin() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            row = await self._participant(session, membre.id) if membre else None
            if row is None:
                raise Conflict(N_("Vous ne participez pas au jumelage."))
            row.snoozed_until, row.updated_at = until, now
        return Participation(True, until)

    # -- rounds --

    async def next_round_due(self, guild_id: int) -> datetime | None:
        """The last round plus the cadence; before the first round, the first participant's
        arrival plus the cadence (time for others to join); None without participants."""
        async with self.sessions() as session:
            return await self._next_due(session, guild_id)

    async def run_round_if_due(
        self, guild_id: int, *, rng: random.Random | None = None
    ) -> RoundResult | None:
        """For the scheduler: runs the round only if it is due (checked under the server's
        lock, so two processes never both run it)."""
        return await self._run(guild_id, rng, only_if_due=True)

    async def run_round(self, guild_id: int, *, rng: random.Random | None = None) -> RoundResult:
        result = await self._run(guild_id, rng, only_if_due=False)
        assert result is not None
        return result

    async def _run(
        self, guild_id: int, rng: random.Random | None, *, only_if_due: bool
    ) -> RoundResult | None:
        rng = rng or random.Random()
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await repo.ensure_guild(session, guild_id, now)
            await session.execute(select(Guild.id).where(Guild.id == guild_id).with_for_update())
            if only_if_due:
                due = await self._next_due(session, guild_id)
                if due is None or due > now:
                    return None
            candidates, info = await pairable(session, guild_id, now)
            history, last_round = await past_pairs(session, guild_id)
            candidates = [
                Candidate(c.membre_id, c.municipalite_cle, c.chantiers, c.membre_id in last_round)
                for c in candidates
            ]
            plan = plan_round(candidates, history, rng)
            by_id = {c.membre_id: c for c in candidates}
            round_ = JumelageRound(
                guild_id=guild_id,
                ran_at=now,
                n_participants=len(candidates),
                n_left_out=len(plan.left_out),
            )
            session.add(round_)
            await session.flush()
            checkin = now + timedelta(days=self.config.checkin_days)
            pairs: list[tuple[JumelagePair, tuple[int, ...]]] = []
            for group in plan.groups:
                pair = JumelagePair(
                    round_id=round_.id,
                    chantier_id=shared_chantier([by_id[m] for m in group], rng),
                    checkin_due_at=checkin,
                    created_at=now,
                )
                session.add(pair)
                pairs.append((pair, group))
            await session.flush()
            for pair, group in pairs:
                for membre_id in group:
                    session.add(JumelagePairMembre(pair_id=pair.id, membre_id=membre_id))
            await session.flush()
            infos = [await pair_info(session, pair, guild_id) for pair, _ in pairs]
        log.info(
            "guild %s: jumelage round %s, %d participants, %d groups, %d left out, %d repeats",
            guild_id,
            round_.id,
            len(candidates),
            len(plan.groups),
            len(plan.left_out),
            plan.repeats,
        )
        return RoundResult(
            round_id=round_.id,
            guild_id=guild_id,
            ran_at=now,
            pairs=tuple(infos),
            left_out=tuple(info[m] for m in plan.left_out),
            repeats=plan.repeats,
        )

    # -- threads and check-ins --

    async def set_thread(self, pair_id: int, thread_id: int) -> None:
        async with self.sessions.begin() as session:
            pair = await session.get(JumelagePair, pair_id)
            if pair is None:
                raise NotFound(N_("Jumelage n° {id} introuvable."), id=pair_id)
            pair.thread_id = thread_id

    async def pairs_without_thread(self, guild_id: int) -> list[PairInfo]:
        """Pairs of the latest round whose thread is not opened yet (after a restart)."""
        async with self.sessions() as session:
            last = (
                await session.execute(
                    select(func.max(JumelageRound.id)).where(JumelageRound.guild_id == guild_id)
                )
            ).scalar()
            if last is None:
                return []
            rows = (
                await session.execute(
                    select(JumelagePair)
                    .where(JumelagePair.round_id == last, JumelagePair.thread_id.is_(None))
                    .order_by(JumelagePair.id)
                )
            ).scalars()
            return [await pair_info(session, p, guild_id) for p in rows]

    async def due_checkins(self, now: datetime | None = None) -> list[PairInfo]:
        """Pairs, on every server, whose check-in is due and not done."""
        now = now or self.clock.now()
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(JumelagePair, JumelageRound.guild_id)
                    .join(JumelageRound, JumelageRound.id == JumelagePair.round_id)
                    .where(JumelagePair.checkin_due_at <= now, JumelagePair.checked_in_at.is_(None))
                    .order_by(JumelagePair.checkin_due_at, JumelagePair.id)
                )
            ).all()
            out = [await pair_info(session, pair, guild_id) for pair, guild_id in rows]
        return [p for p in out if p.members]

    async def mark_checked_in(self, pair_id: int) -> bool:
        """Claim a pair's check-in (claim, then send): False if it was already claimed."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(JumelagePair)
                .where(JumelagePair.id == pair_id, JumelagePair.checked_in_at.is_(None))
                .values(checked_in_at=now)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- queries --

    @staticmethod
    async def _participant(session: AsyncSession, membre_id: int) -> JumelageParticipant | None:
        return (
            await session.execute(
                select(JumelageParticipant).where(JumelageParticipant.membre_id == membre_id)
            )
        ).scalar_one_or_none()

    async def _next_due(self, session: AsyncSession, guild_id: int) -> datetime | None:
        cadence = timedelta(days=self.config.cadence_days)
        last = (
            await session.execute(
                select(func.max(JumelageRound.ran_at)).where(JumelageRound.guild_id == guild_id)
            )
        ).scalar()
        if last is not None:
            return aware(last) + cadence
        first = (
            await session.execute(
                select(func.min(JumelageParticipant.joined_at)).where(
                    JumelageParticipant.guild_id == guild_id
                )
            )
        ).scalar()
        return None if first is None else aware(first) + cadence
