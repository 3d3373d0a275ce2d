"""The jumelage: regular peer pairing across municipalities, opt-in, with a check-in a week later.

A round pairs each participant with someone from another municipality, preferably sharing a
chantier of interest and never paired with them before; with an odd number, one pair becomes a
trio of three municipalities, or, when no such trio exists, one participant is left out and
reported. The plan is deterministic for a given ``random.Random``. No Discord here.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import JumelageConfig
from bot.errors import N_, Conflict, InvalidInput, NotFound
from cogs.membres.service import CONSENT_FIRST, ConsentRequired, lock_membre, profil_of
from db import repositories as repo
from db.models import (
    Chantier,
    Guild,
    JumelagePair,
    JumelagePairMembre,
    JumelageParticipant,
    JumelageRound,
    Membre,
    MembreDepart,
    Profil,
    ProfilChantier,
)

log = logging.getLogger(__name__)

SNOOZE_MAX = timedelta(days=365)
REPEAT_PENALTY = 100
SHARED_CHANTIER_BONUS = 10

# Conversation starters (msgids; the cog translates them). A pair sharing one of the default
# chantiers gets one of its own; another shared chantier gets the named template; no shared
# chantier, a generic one. The choice depends on the pair id only, so it can be recomputed.
STARTERS_GENERIQUES = (
    N_("Qu'est-ce qui occupe le plus votre équipe ces temps-ci en accueil ou en intégration ?"),
    N_("Quelle initiative de votre municipalité aimeriez-vous faire connaître aux autres ?"),
    N_("Quel défi aimeriez-vous résoudre avec l'aide d'une ou d'un collègue d'ailleurs ?"),
)
STARTERS_PAR_CHANTIER = {
    "gouvernance": (
        N_("Comment votre municipalité travaille-t-elle avec le MIFI et les organismes ?"),
        N_("Votre municipalité a-t-elle une politique d'accueil ? Qu'y trouve-t-on ?"),
    ),
    "accueil-integration": (
        N_("Comment les personnes nouvellement arrivées sont-elles accueillies chez vous ?"),
        N_("Qu'est-ce qui aide le plus les personnes immigrantes à rester dans votre région ?"),
    ),
    "strategies-intervention": (
        N_("Quelle intervention a le mieux fonctionné sur votre territoire, et pourquoi ?"),
        N_("Quelle clientèle aimeriez-vous mieux rejoindre, et comment vous y prenez-vous ?"),
    ),
}
STARTER_CHANTIER = N_(
    "Vous vous intéressez au chantier « {chantier} » : qu'y faites-vous chacun de votre côté ?"
)


@dataclass(frozen=True)
class Starter:
    """A conversation starter: a msgid and its named values."""

    msgid: str
    values: dict[str, Any] = field(default_factory=dict)


def starter_for(pair_id: int, chantier_slug: str | None, chantier_nom: str | None) -> Starter:
    if chantier_slug in STARTERS_PAR_CHANTIER:
        choices = STARTERS_PAR_CHANTIER[chantier_slug]
        return Starter(choices[pair_id % len(choices)])
    if chantier_nom:
        return Starter(STARTER_CHANTIER, {"chantier": chantier_nom})
    return Starter(STARTERS_GENERIQUES[pair_id % len(STARTERS_GENERIQUES)])


# --- the plan (pure, testable without a database) -----------------------------------------------


@dataclass(frozen=True)
class Candidate:
    membre_id: int
    municipalite_cle: str
    chantiers: frozenset[int] = frozenset()
    paired_last_round: bool = False


@dataclass(frozen=True)
class Plan:
    groups: tuple[tuple[int, ...], ...]  # membre ids, pairs and at most a few trios
    left_out: tuple[int, ...]
    repeats: int
    shared: int


def pair_score(a: Candidate, b: Candidate, history: frozenset[frozenset[int]]) -> int | None:
    """None when the two may not be paired (same municipality); higher is better."""
    if a.municipalite_cle == b.municipalite_cle:
        return None
    score = 0
    if frozenset((a.membre_id, b.membre_id)) in history:
        score -= REPEAT_PENALTY
    if a.chantiers & b.chantiers:
        score += SHARED_CHANTIER_BONUS
    return score


class _Planner:
    def __init__(self, candidates: Sequence[Candidate], history: frozenset[frozenset[int]]):
        self.by_id = {c.membre_id: c for c in candidates}
        self.history = history
        self.score: dict[tuple[int, int], int | None] = {}
        for a, b in combinations(candidates, 2):
            s = pair_score(a, b, history)
            self.score[(a.membre_id, b.membre_id)] = self.score[(b.membre_id, a.membre_id)] = s
        self.degree = {
            c.membre_id: sum(
                1
                for d in candidates
                if d is not c and self.score[(c.membre_id, d.membre_id)] is not None
            )
            for c in candidates
        }

    def s(self, a: int, b: int) -> int | None:
        return self.score[(a, b)]

    def greedy(self, order: list[int]) -> tuple[list[list[int]], list[int]]:
        """Most constrained first, each with its best free partner (ties: the shuffled order)."""
        rank = {m: i for i, m in enumerate(order)}
        free = set(order)
        pairs: list[list[int]] = []
        for a in sorted(order, key=lambda m: (self.degree[m], rank[m])):
            if a not in free:
                continue
            options = [b for b in order if b in free and b != a and self.s(a, b) is not None]
            if not options:
                continue
            b = max(options, key=lambda m: (self.s(a, m), -rank[m]))
            free -= {a, b}
            pairs.append([a, b])
        return pairs, [m for m in order if m in free]

    def improve(self, pairs: list[list[int]], free: list[int]) -> None:
        """Local search: augment through a pair (two free people gain partners), give a free
        person's place fairly, and swap partners between two pairs when it scores better."""
        changed = True
        rounds = 0
        while changed and rounds < 50:
            changed, rounds = False, rounds + 1
            # Augment: free u, v and pair (a, b) → (u, a), (v, b).
            for u, v in combinations(list(free), 2):
                if u not in free or v not in free:
                    continue
                for pair in pairs:
                    a, b = pair
                    for x, y in ((a, b), (b, a)):
                        if self.s(u, x) is not None and self.s(v, y) is not None:
                            pair[:] = [u, x]
                            pairs.append([v, y])
                            free.remove(u)
                            free.remove(v)
                            changed = True
                            break
                    if changed:
                        break
                if changed:
                    break
            if changed:
                continue
            # Fairness: someone not paired last round takes the place of someone who was.
            for u in list(free):
                if self.by_id[u].paired_last_round:
                    continue
                for pair in pairs:
                    for keep, drop in ((pair[0], pair[1]), (pair[1], pair[0])):
                        if self.by_id[drop].paired_last_round and self.s(u, keep) is not None:
                            pair[:] = [keep, u]
                            free.remove(u)
                            free.append(drop)
                            changed = True
                            break
                    if changed:
                        break
                if changed:
                    break
            if changed:
                continue
            # Swap partners between two pairs when the total score rises.
            for p, q in combinations(pairs, 2):
                a, b = p
                c, d = q
                current = self._sum(a, b) + self._sum(c, d)
                for (w, x), (y, z) in (((a, c), (b, d)), ((a, d), (b, c))):
                    sw, sy = self.s(w, x), self.s(y, z)
                    if sw is not None and sy is not None and sw + sy > current:
                        p[:] = [w, x]
                        q[:] = [y, z]
                        changed = True
                        break
                if changed:
                    break

    def _sum(self, a: int, b: int) -> int:
        s = self.s(a, b)
        assert s is not None
        return s

    def place_leftovers(
        self, pairs: list[list[int]], free: list[int]
    ) -> tuple[list[list[int]], list[int]]:
        """Each person still free joins a pair whose two members are from two other
        municipalities (a trio of three municipalities); otherwise they are left out."""
        groups = [list(p) for p in pairs]
        left: list[int] = []
        for u in free:
            best, best_score = None, None
            for group in groups:
                if len(group) != 2:
                    continue
                scores = [self.s(u, m) for m in group]
                if any(s is None for s in scores):
                    continue
                total = sum(s for s in scores if s is not None)
                if best_score is None or total > best_score:
                    best, best_score = group, total
            if best is None:
                left.append(u)
            else:
                best.append(u)
        return groups, left

    def value(self, groups: list[list[int]], left: list[int]) -> tuple[int, int, int]:
        """(people placed, − unfairly left out, total score): higher is better."""
        total = sum(self._sum(a, b) for g in groups for a, b in combinations(g, 2))
        unfair = sum(1 for m in left if not self.by_id[m].paired_last_round)
        return (sum(len(g) for g in groups), -unfair, total)


def plan_round(
    candidates: Sequence[Candidate],
    history: Iterable[frozenset[int]],
    rng: random.Random,
    *,
    tries: int | None = None,
) -> Plan:
    """Pairs (and trios) for a round: several randomized greedy passes improved by local
    search, the best kept. Deterministic for a given ``rng`` state."""
    ordered = sorted(candidates, key=lambda c: c.membre_id)
    past = frozenset(history)
    planner = _Planner(ordered, past)
    if tries is None:
        tries = 40 if len(ordered) <= 60 else 10 if len(ordered) <= 200 else 3
    best: tuple[tuple[int, int, int], list[list[int]], list[int]] | None = None
    for _ in range(max(tries, 1)):
        order = [c.membre_id for c in ordered]
        rng.shuffle(order)
        pairs, free = planner.greedy(order)
        planner.improve(pairs, free)
        groups, left = planner.place_leftovers(pairs, free)
        value = planner.value(groups, left)
        if best is None or value > best[0]:
            best = (value, groups, left)
    assert best is not None
    _, groups, left = best
    repeats = sum(1 for g in groups for a, b in combinations(g, 2) if frozenset((a, b)) in past)
    shared = sum(
        1 for g in groups if frozenset.intersection(*(planner.by_id[m].chantiers for m in g))
    )
    return Plan(
        groups=tuple(tuple(sorted(g)) for g in groups),
        left_out=tuple(sorted(left)),
        repeats=repeats,
        shared=shared,
    )


def shared_chantier(members: Sequence[Candidate], rng: random.Random) -> int | None:
    """A chantier all members share; for a trio without one, one shared by two of them."""
    common = frozenset.intersection(*(m.chantiers for m in members))
    if common:
        return rng.choice(sorted(common))
    counts: dict[int, int] = {}
    for m in members:
        for c in m.chantiers:
            counts[c] = counts.get(c, 0) + 1
    pairs = sorted(c for c, n in counts.items() if n >= 2)
    return rng.choice(pairs) if pairs else None


# --- data returned ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Participation:
    participe: bool
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class PairMember:
    membre_id: int
    user_id: int
    municipalite: str | None
    locale: str


@dataclass(frozen=True)
class PairInfo:
    id: int
    guild_id: int
    round_id: int
    members: tuple[PairMember, ...]
    chantier_id: int | None
    starter: Starter
    checkin_due_at: datetime
    checked_in_at: datetime | None
    thread_id: int | None


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
            candidates, info = await self._candidates(session, guild_id, now)
            history, last_round = await self._history(session, guild_id)
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
            infos = [await self._pair_info(session, pair, guild_id) for pair, _ in pairs]
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
            return [await self._pair_info(session, p, guild_id) for p in rows]

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
            out = [await self._pair_info(session, pair, guild_id) for pair, guild_id in rows]
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
            return _aware(last) + cadence
        first = (
            await session.execute(
                select(func.min(JumelageParticipant.joined_at)).where(
                    JumelageParticipant.guild_id == guild_id
                )
            )
        ).scalar()
        return None if first is None else _aware(first) + cadence

    async def _candidates(
        self, session: AsyncSession, guild_id: int, now: datetime
    ) -> tuple[list[Candidate], dict[int, PairMember]]:
        """Participants who can be paired now: consented profile with a municipality, not
        snoozed, still on the server, not erased."""
        rows = (
            await session.execute(
                select(Membre, Profil)
                .join(JumelageParticipant, JumelageParticipant.membre_id == Membre.id)
                .join(Profil, Profil.membre_id == Membre.id)
                .where(
                    JumelageParticipant.guild_id == guild_id,
                    Membre.user_id.is_not(None),
                    Profil.municipalite_cle.is_not(None),
                    (JumelageParticipant.snoozed_until.is_(None))
                    | (JumelageParticipant.snoozed_until <= now),
                    ~exists().where(MembreDepart.membre_id == Membre.id),
                )
                .order_by(Membre.id)
            )
        ).all()
        interests: dict[int, set[int]] = {}
        if rows:
            links = await session.execute(
                select(ProfilChantier.profil_id, ProfilChantier.chantier_id)
                .join(Chantier, Chantier.id == ProfilChantier.chantier_id)
                .where(
                    ProfilChantier.profil_id.in_([p.id for _, p in rows]),
                    Chantier.archived.is_(False),
                )
            )
            for profil_id, chantier_id in links:
                interests.setdefault(profil_id, set()).add(chantier_id)
        candidates, info = [], {}
        for membre, profil in rows:
            assert membre.user_id is not None and profil.municipalite_cle is not None
            candidates.append(
                Candidate(
                    membre.id, profil.municipalite_cle, frozenset(interests.get(profil.id, ()))
                )
            )
            info[membre.id] = PairMember(
                membre.id, membre.user_id, profil.municipalite, membre.locale
            )
        return candidates, info

    @staticmethod
    async def _history(
        session: AsyncSession, guild_id: int
    ) -> tuple[set[frozenset[int]], set[int]]:
        """Every pair of members already grouped on this server, and who was in the last
        round."""
        rows = await session.execute(
            select(JumelagePair.id, JumelagePair.round_id, JumelagePairMembre.membre_id)
            .join(JumelagePairMembre, JumelagePairMembre.pair_id == JumelagePair.id)
            .join(JumelageRound, JumelageRound.id == JumelagePair.round_id)
            .where(JumelageRound.guild_id == guild_id)
        )
        groups: dict[int, list[int]] = {}
        round_of: dict[int, int] = {}
        for pair_id, round_id, membre_id in rows:
            groups.setdefault(pair_id, []).append(membre_id)
            round_of[pair_id] = round_id
        history = {frozenset(p) for g in groups.values() for p in combinations(g, 2)}
        last_round_id = max(round_of.values(), default=None)
        last = {m for pid, g in groups.items() if round_of[pid] == last_round_id for m in g}
        return history, last

    @staticmethod
    async def _pair_info(session: AsyncSession, pair: JumelagePair, guild_id: int) -> PairInfo:
        rows = await session.execute(
            select(Membre, Profil.municipalite)
            .join(JumelagePairMembre, JumelagePairMembre.membre_id == Membre.id)
            .outerjoin(Profil, Profil.membre_id == Membre.id)
            .where(JumelagePairMembre.pair_id == pair.id, Membre.user_id.is_not(None))
            .order_by(Membre.id)
        )
        members = tuple(
            PairMember(m.id, m.user_id, municipalite, m.locale) for m, municipalite in rows
        )
        chantier = await session.get(Chantier, pair.chantier_id) if pair.chantier_id else None
        return PairInfo(
            id=pair.id,
            guild_id=guild_id,
            round_id=pair.round_id,
            members=members,
            chantier_id=pair.chantier_id,
            starter=starter_for(
                pair.id, chantier.slug if chantier else None, chantier.nom if chantier else None
            ),
            checkin_due_at=pair.checkin_due_at,
            checked_in_at=pair.checked_in_at,
            thread_id=pair.thread_id,
        )


def _aware(value: datetime) -> datetime:
    """Aggregates may bypass the column type: SQLite can hand back naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
