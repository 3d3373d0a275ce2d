"""Inscriptions: capacity, the ordered waiting list and promotion, also under concurrency."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.errors import Conflict, NotFound
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.service import InscriptionService
from db.models import EtatInscription, Inscription, Membre, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, set_dm_reminders, user


@pytest.fixture
def rsvp(sessions, clock: ManualClock) -> InscriptionService:
    return InscriptionService(sessions, clock)


async def _atelier(sessions, clock, capacite=30, n_seances=1) -> int:
    days = [date(2026, 12, 3) + timedelta(days=7 * i) for i in range(n_seances)]
    info = await ateliers_service(sessions, clock).create(
        GUILD,
        AtelierDraft(
            titre="Territoire et immigration", seances=[seance(d) for d in days], capacite=capacite
        ),
    )
    return info.id


async def _state(sessions, atelier_id: int) -> tuple[list[int], list[tuple[int, int]]]:
    """(registered user ids, [(user id, rank)] of the waiting list in order)."""
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Membre.user_id, Inscription.etat, Inscription.rang_attente)
                .join(Membre, Membre.id == Inscription.membre_id)
                .where(Inscription.atelier_id == atelier_id)
            )
        ).all()
    registered = sorted(u for u, e, _ in rows if e == EtatInscription.INSCRIT)
    waiting = sorted(
        ((u, r) for u, e, r in rows if e == EtatInscription.ATTENTE), key=lambda x: x[1]
    )
    return registered, waiting


async def test_200_concurrent_oui_on_30_places_then_10_non(sessions, clock, rsvp) -> None:
    atelier_id = await _atelier(sessions, clock, capacite=30)
    results = await asyncio.gather(
        *(rsvp.answer(GUILD, atelier_id, user(n), Reponse.OUI) for n in range(200))
    )
    registered = [r for r in results if r.etat == EtatInscription.INSCRIT]
    waiting = [r for r in results if r.etat == EtatInscription.ATTENTE]
    assert len(registered) == 30 and len(waiting) == 170
    assert sorted(r.position for r in waiting) == list(range(1, 171))
    db_registered, db_waiting = await _state(sessions, atelier_id)
    assert len(db_registered) == 30 and len(db_waiting) == 170
    counts = await rsvp.counts(atelier_id)
    assert (counts.inscrits, counts.attente, counts.places_restantes) == (30, 170, 0)

    # The first ten in line, in order (ranks were handed out in commit order).
    first_ten = [u for u, _ in db_waiting[:10]]
    leaving = db_registered[:10]
    promoted: list[int] = []
    for u in leaving:
        result = await rsvp.answer(GUILD, atelier_id, u, Reponse.NON)
        assert result.etat == EtatInscription.NON
        promoted.extend(p.user_id for p in result.promoted)
    assert promoted == first_ten
    db_registered, db_waiting = await _state(sessions, atelier_id)
    assert len(db_registered) == 30 and set(first_ten) <= set(db_registered)
    assert len(db_waiting) == 160
    after = await asyncio.gather(
        *(rsvp.answer(GUILD, atelier_id, u, Reponse.OUI) for u, _ in db_waiting[:3])
    )
    assert [r.position for r in after] == [1, 2, 3]


async def test_concurrent_non_promote_each_waiting_once(sessions, clock, rsvp) -> None:
    atelier_id = await _atelier(sessions, clock, capacite=5)
    for n in range(12):
        await rsvp.answer(GUILD, atelier_id, user(n), Reponse.OUI)
    results = await asyncio.gather(
        *(rsvp.answer(GUILD, atelier_id, user(n), Reponse.NON) for n in range(5))
    )
    promoted = [p.user_id for r in results for p in r.promoted]
    assert sorted(promoted) == [user(n) for n in range(5, 10)]
    assert len(set(promoted)) == 5
    registered, waiting = await _state(sessions, atelier_id)
    assert registered == [user(n) for n in range(5, 10)]
    assert [u for u, _ in waiting] == [user(10), user(11)]


async def test_peut_etre_holds_no_place_and_leaving_waiting_shifts_positions(
    sessions, clock, rsvp
) -> None:
    atelier_id = await _atelier(sessions, clock, capacite=1)
    maybe = await rsvp.answer(GUILD, atelier_id, user(0), Reponse.PEUT_ETRE)
    assert maybe.etat == EtatInscription.PEUT_ETRE and maybe.atelier.counts.places_restantes == 1
    await rsvp.answer(GUILD, atelier_id, user(1), Reponse.OUI)
    await rsvp.answer(GUILD, atelier_id, user(2), Reponse.OUI)
    third = await rsvp.answer(GUILD, atelier_id, user(3), Reponse.OUI)
    assert third.position == 2
    await rsvp.answer(GUILD, atelier_id, user(2), Reponse.PEUT_ETRE)
    mine = await rsvp.of_member(GUILD, user(3))
    assert [(m.etat, m.position) for m in mine] == [(EtatInscription.ATTENTE, 1)]
    # Saying oui again after leaving the line puts you at its end.
    back = await rsvp.answer(GUILD, atelier_id, user(2), Reponse.OUI)
    assert back.position == 2


async def test_unlimited_capacity(sessions, clock, rsvp) -> None:
    atelier_id = await _atelier(sessions, clock, capacite=None)
    results = await asyncio.gather(
        *(rsvp.answer(GUILD, atelier_id, user(n), Reponse.OUI) for n in range(20))
    )
    assert all(r.etat == EtatInscription.INSCRIT for r in results)
    assert results[-1].atelier.counts.places_restantes is None


async def test_skip_one_seance(sessions, clock, rsvp) -> None:
    atelier_id = await _atelier(sessions, clock, capacite=2, n_seances=2)
    info = (await rsvp.answer(GUILD, atelier_id, user(1), Reponse.OUI)).atelier
    await rsvp.answer(GUILD, atelier_id, user(2), Reponse.OUI)
    first, second = info.seances
    skip = await rsvp.answer(GUILD, atelier_id, user(1), Reponse.NON, seance_id=second.id)
    assert skip.etat == EtatInscription.INSCRIT  # keeps the place in the cycle
    assert skip.seance_reponse == Reponse.NON
    assert await rsvp.seance_attendance(atelier_id) == {first.id: 2, second.id: 1}
    # A member without a place may come to the séance with room, not to the full one.
    await rsvp.answer(GUILD, atelier_id, user(3), Reponse.OUI, seance_id=second.id)
    with pytest.raises(Conflict):
        await rsvp.answer(GUILD, atelier_id, user(4), Reponse.OUI, seance_id=first.id)
    assert await rsvp.seance_attendance(atelier_id) == {first.id: 2, second.id: 2}
    mine = await rsvp.of_member(GUILD, user(1))
    assert mine[0].seance_reponses == {second.id: Reponse.NON}
    # Coming back to the skipped séance removes the exception.
    await rsvp.answer(GUILD, atelier_id, user(1), Reponse.OUI, seance_id=second.id)
    assert (await rsvp.of_member(GUILD, user(1)))[0].seance_reponses == {}


async def test_unknown_seance(sessions, clock, rsvp) -> None:
    atelier_id = await _atelier(sessions, clock)
    with pytest.raises(NotFound):
        await rsvp.answer(GUILD, atelier_id, user(1), Reponse.OUI, seance_id=999_999)


async def test_dm_reminders_toggle_creates_member(sessions, clock) -> None:
    assert await set_dm_reminders(sessions, clock, GUILD, user(5), True) is True
    async with sessions() as s:
        membre = (await s.execute(select(Membre).where(Membre.user_id == user(5)))).scalar_one()
    assert membre.dm_reminders is True
