"""The jumelage: opt-in, rounds across municipalities, odd numbers, no repeats, check-ins."""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import combinations

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import JumelageConfig
from bot.errors import Conflict, InvalidInput
from cogs.chantiers.service import ChantierService
from cogs.jumelage.planner import Candidate, plan_round
from cogs.jumelage.service import JumelageService, RoundResult
from cogs.jumelage.starters import STARTER_CHANTIER, STARTERS_GENERIQUES
from cogs.membres.service import ConsentRequired, ProfilChanges, ProfilService
from cogs.privacy.service import PrivacyService
from db.models import JumelagePair, JumelageRound
from tests.cogs.helpers import GUILD, user


@pytest.fixture
def jumelage(sessions, clock: ManualClock) -> JumelageService:
    return JumelageService(sessions, clock, JumelageConfig(cadence_days=14, checkin_days=7))


@pytest.fixture
def profils(sessions, clock: ManualClock) -> ProfilService:
    return ProfilService(sessions, clock)


async def _participant(
    profils: ProfilService,
    jumelage: JumelageService,
    n: int,
    municipalite: str,
    chantiers: list[int] | None = None,
) -> int:
    await profils.give_consent(GUILD, user(n), display_name=f"Membre {n}")
    await profils.update(
        GUILD, user(n), ProfilChanges(municipalite=municipalite, chantier_ids=chantiers or [])
    )
    await jumelage.set_participation(GUILD, user(n), True)
    return user(n)


def _groups(result: RoundResult) -> list[set[int]]:
    return [{m.user_id for m in p.members} for p in result.pairs]


def _edges(result: RoundResult) -> set[frozenset[int]]:
    return {frozenset(e) for g in _groups(result) for e in combinations(sorted(g), 2)}


async def test_joining_needs_consent_and_a_municipality(
    jumelage: JumelageService, profils: ProfilService, sessions
) -> None:
    with pytest.raises(ConsentRequired):
        await jumelage.set_participation(GUILD, user(1), True)
    await profils.give_consent(GUILD, user(1))
    with pytest.raises(Conflict) as caught:
        await jumelage.set_participation(GUILD, user(1), True)
    assert "municipalité" in caught.value.message_id
    await profils.update(GUILD, user(1), ProfilChanges(municipalite="Laval"))
    assert (await jumelage.set_participation(GUILD, user(1), True)).participe
    assert (await jumelage.participation(GUILD, user(1))).participe
    assert not (await jumelage.set_participation(GUILD, user(1), False)).participe
    assert not (await jumelage.participation(GUILD, user(1))).participe
    assert not (await jumelage.set_participation(GUILD, user(2), False)).participe  # no-op


async def test_round_of_seven_from_four_municipalities_then_no_repeat(
    jumelage: JumelageService, profils: ProfilService, sessions, clock: ManualClock
) -> None:
    chantiers = ChantierService(sessions, clock)
    enfance = (await chantiers.create(GUILD, "Petite enfance")).id
    territoire = (await chantiers.create(GUILD, "Territoire")).id
    towns = {
        1: ("Montréal", [enfance]),
        2: ("Montréal", [territoire]),
        3: ("Laval", [enfance]),
        4: ("Laval", [territoire]),
        5: ("Québec", [enfance, territoire]),
        6: ("Québec", []),
        7: ("Gatineau", [territoire]),
    }
    for n, (town, interests) in towns.items():
        await _participant(profils, jumelage, n, town, interests)
    town_of = {user(n): town for n, (town, _) in towns.items()}

    first = await jumelage.run_round(GUILD, rng=random.Random(7))
    placed = [u for g in _groups(first) for u in g]
    assert len(placed) == len(set(placed))
    assert len(placed) + len(first.left_out) == 7
    for group in _groups(first):
        assert len({town_of[u] for u in group}) == len(group)  # nobody with their own town
    sizes = sorted(len(g) for g in _groups(first))
    # The odd one: a trio of three municipalities, or left out and reported.
    assert sizes == [2, 2, 3] or (sizes == [2, 2, 2] and len(first.left_out) == 1)
    assert all(p.checkin_due_at == clock.now() + timedelta(days=7) for p in first.pairs)
    # Pairs sharing a chantier carry it for the conversation starter.
    for pair in first.pairs:
        if pair.chantier_id is not None:
            assert pair.starter.msgid == STARTER_CHANTIER
            assert pair.starter.values["chantier"] in ("Petite enfance", "Territoire")
        else:
            assert pair.starter.msgid in STARTERS_GENERIQUES

    clock.advance(timedelta(days=14))
    second = await jumelage.run_round(GUILD, rng=random.Random(7))
    assert second.repeats == 0
    assert not (_edges(first) & _edges(second)), "a pair of the first round came back"
    for group in _groups(second):
        assert len({town_of[u] for u in group}) == len(group)
    assert sum(len(g) for g in _groups(second)) + len(second.left_out) == 7
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(JumelageRound))).scalar() == 2
        stored = (await s.execute(select(func.count()).select_from(JumelagePair))).scalar()
    assert stored == len(first.pairs) + len(second.pairs)


def test_plan_is_deterministic_for_a_seed_and_prefers_shared_chantiers() -> None:
    people = [
        Candidate(1, "montreal", frozenset({10})),
        Candidate(2, "laval", frozenset({20})),
        Candidate(3, "quebec", frozenset({10})),
        Candidate(4, "gatineau", frozenset({20})),
    ]
    a = plan_round(people, [], random.Random(3))
    b = plan_round(people, [], random.Random(3))
    assert a == b
    assert set(a.groups) == {(1, 3), (2, 4)}  # both pairs share a chantier
    assert a.shared == 2
    # With (1, 3) already made, the plan avoids it even at the cost of shared chantiers.
    c = plan_round(people, [frozenset({1, 3})], random.Random(3))
    assert (1, 3) not in c.groups and c.repeats == 0


async def test_odd_one_without_a_valid_trio_is_left_out_then_served_first(
    jumelage: JumelageService, profils: ProfilService, clock: ManualClock
) -> None:
    await _participant(profils, jumelage, 1, "Montréal")
    await _participant(profils, jumelage, 2, "Laval")
    await _participant(profils, jumelage, 3, "laval")  # same municipality as 2
    first = await jumelage.run_round(GUILD, rng=random.Random(1))
    assert len(first.pairs) == 1 and len(first.pairs[0].members) == 2
    assert len(first.left_out) == 1
    left = first.left_out[0].user_id
    assert left in (user(2), user(3))
    assert first.left_out[0].municipalite == "Laval"

    clock.advance(timedelta(days=14))
    second = await jumelage.run_round(GUILD, rng=random.Random(1))
    assert left in _groups(second)[0]  # the one left out gets the next place
    assert second.left_out[0].user_id != left


async def test_only_consenting_present_unsnoozed_participants_are_paired(
    jumelage: JumelageService, profils: ProfilService, sessions, clock: ManualClock
) -> None:
    for n, town in enumerate(["Alma", "Blainville", "Chambly", "Dolbeau"], start=1):
        await _participant(profils, jumelage, n, town)
    await profils.withdraw_consent(GUILD, user(2))
    await PrivacyService(sessions, clock).member_left(GUILD, user(3))
    with pytest.raises(InvalidInput):
        await jumelage.snooze(GUILD, user(4), clock.now() - timedelta(days=1))
    with pytest.raises(Conflict):
        await jumelage.snooze(GUILD, user(2), clock.now() + timedelta(days=3))  # gone
    await jumelage.snooze(GUILD, user(4), clock.now() + timedelta(days=20))

    result = await jumelage.run_round(GUILD, rng=random.Random(2))
    assert result.pairs == ()
    assert [m.user_id for m in result.left_out] == [user(1)]  # alone: reported
    clock.advance(timedelta(days=21))
    again = await jumelage.run_round(GUILD, rng=random.Random(2))
    assert _groups(again) == [{user(1), user(4)}]


async def test_checkins_are_due_a_week_later_and_claimed_once(
    jumelage: JumelageService, profils: ProfilService, clock: ManualClock
) -> None:
    await _participant(profils, jumelage, 1, "Sherbrooke")
    await _participant(profils, jumelage, 2, "Rimouski")
    result = await jumelage.run_round(GUILD, rng=random.Random(0))
    (pair,) = result.pairs
    assert await jumelage.pairs_without_thread(GUILD) == [pair]
    await jumelage.set_thread(pair.id, 888_000_000_000_000_001)
    assert await jumelage.pairs_without_thread(GUILD) == []

    assert await jumelage.due_checkins(clock.now() + timedelta(days=6, hours=23)) == []
    due = await jumelage.due_checkins(clock.now() + timedelta(days=7))
    assert [p.id for p in due] == [pair.id]
    assert due[0].thread_id == 888_000_000_000_000_001
    assert {m.user_id for m in due[0].members} == {user(1), user(2)}
    assert await jumelage.mark_checked_in(pair.id) is True
    assert await jumelage.mark_checked_in(pair.id) is False  # claimed once
    assert await jumelage.due_checkins(clock.now() + timedelta(days=8)) == []


async def test_next_round_due_follows_the_cadence(
    jumelage: JumelageService, profils: ProfilService, clock: ManualClock
) -> None:
    assert await jumelage.next_round_due(GUILD) is None
    start = clock.now()
    await _participant(profils, jumelage, 1, "Sherbrooke")
    clock.advance(timedelta(days=2))
    await _participant(profils, jumelage, 2, "Rimouski")
    assert await jumelage.next_round_due(GUILD) == start + timedelta(days=14)
    assert await jumelage.run_round_if_due(GUILD, rng=random.Random(0)) is None
    clock.set(start + timedelta(days=14))
    ran = await jumelage.run_round_if_due(GUILD, rng=random.Random(0))
    assert ran is not None and len(ran.pairs) == 1
    assert await jumelage.run_round_if_due(GUILD) is None  # not twice
    assert await jumelage.next_round_due(GUILD) == clock.now() + timedelta(days=14)
