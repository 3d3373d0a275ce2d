"""The plan of a jumelage round, pure and testable without a database.

A round pairs each participant with someone from another municipality, preferably sharing a
chantier of interest and never paired with them before; with an odd number, one pair becomes a
trio of three municipalities, or, when no such trio exists, one participant is left out. The plan
is deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

REPEAT_PENALTY = 100
SHARED_CHANTIER_BONUS = 10


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
