"""Offers (``ateliers.offer_hours``): a freed place is offered to the first in line, held for
them until the deadline; « oui » takes it, « non » or the deadline passes it to the next, once;
without offers, the first in line gets the place at once (unchanged)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.errors import Conflict, NotFound
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.offres import OFFRE, OFFRE_EXPIREE, OffreService
from cogs.inscriptions.service import InscriptionService
from db.models import EtatInscription, Inscription, Membre, OutboxKind, OutboxMessage, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

HOURS = 24


@pytest.fixture
def offres(sessions, clock: ManualClock) -> OffreService:
    return OffreService(sessions, clock, HOURS)


async def _world(sessions, clock, hours: int = HOURS):
    info = await ateliers_service(sessions, clock).create(
        GUILD, AtelierDraft(titre="Logement", seances=[seance(date(2026, 12, 3))], capacite=1)
    )
    rsvp = InscriptionService(sessions, clock, offer_hours=hours)
    for n in (1, 2, 3):
        await rsvp.answer(GUILD, info.id, user(n), Reponse.OUI)
    return info, rsvp


async def _states(sessions) -> dict[int, tuple[str, bool]]:
    async with sessions() as s:
        rows = await s.execute(
            select(Membre.user_id, Inscription.etat, Inscription.offre_expire_le).join(
                Membre, Membre.id == Inscription.membre_id
            )
        )
        return {u: (EtatInscription(e).value, at is not None) for u, e, at in rows}


async def _notices(sessions) -> list[tuple[str, int]]:
    async with sessions() as s:
        rows = (
            await s.execute(
                select(OutboxMessage)
                .where(OutboxMessage.kind == OutboxKind.NOTICE)
                .order_by(OutboxMessage.id)
            )
        ).scalars()
        return [(r.payload["what"], r.user_id) for r in rows]


async def _offer_id(sessions, user_id: int) -> int:
    async with sessions() as s:
        return (
            await s.execute(
                select(Inscription.id)
                .join(Membre, Membre.id == Inscription.membre_id)
                .where(Membre.user_id == user_id)
            )
        ).scalar_one()


async def test_a_freed_place_is_offered_then_passed_on_when_declined_or_expired(
    sessions, clock, offres
) -> None:
    info, rsvp = await _world(sessions, clock)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.NON)
    assert await _states(sessions) == {
        user(1): ("non", False),
        user(2): ("oui", True),  # held for them: an offer
        user(3): ("attente", False),
    }
    assert await _notices(sessions) == [(OFFRE, user(2))]
    [pending] = await offres.pending()
    assert pending.expires_at == clock.now() + timedelta(hours=HOURS)
    async with sessions() as s:
        notice = (
            await s.execute(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.NOTICE))
        ).scalar_one()
    assert notice.payload["inscription_id"] == pending.inscription_id

    # Someone else may not answer it; the member declines: the next one gets it offered.
    with pytest.raises(NotFound):
        await offres.answer(GUILD, pending.inscription_id, user(3), take=False)
    declined = await offres.answer(GUILD, pending.inscription_id, user(2), take=False)
    assert not declined.taken
    assert await _states(sessions) == {
        user(1): ("non", False),
        user(2): ("non", False),
        user(3): ("oui", True),
    }
    # Nothing due yet; after the deadline it passes on, once (nobody is left in line).
    assert await offres.expire_due() == 0
    clock.advance(timedelta(hours=HOURS, seconds=1))
    assert await offres.expire_due() == 1
    assert await offres.expire_due() == 0
    third = await _offer_id(sessions, user(3))
    assert not await offres.expire(third)
    assert (await _states(sessions))[user(3)] == ("non", False)
    assert await _notices(sessions) == [
        (OFFRE, user(2)),
        (OFFRE, user(3)),
        (OFFRE_EXPIREE, user(3)),
    ]
    with pytest.raises(Conflict):
        await offres.answer(GUILD, third, user(3), take=True)


async def test_taking_the_offer_keeps_the_place(sessions, clock, offres) -> None:
    info, rsvp = await _world(sessions, clock)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.NON)
    offer = await _offer_id(sessions, user(2))
    taken = await offres.answer(GUILD, offer, user(2), take=True)
    assert taken.taken and await offres.pending() == []
    clock.advance(timedelta(hours=HOURS + 1))
    assert await offres.expire_due() == 0
    assert (await _states(sessions))[user(2)] == ("oui", False)


async def test_answering_oui_in_the_announcement_takes_the_offer(sessions, clock, offres) -> None:
    info, rsvp = await _world(sessions, clock)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.NON)
    await rsvp.answer(GUILD, info.id, user(2), Reponse.OUI)
    assert (await _states(sessions))[user(2)] == ("oui", False)
    assert await offres.pending() == []


async def test_without_offers_the_first_in_line_gets_the_place_at_once(sessions, clock) -> None:
    info, rsvp = await _world(sessions, clock, hours=0)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.NON)
    assert (await _states(sessions))[user(2)] == ("oui", False)
    assert await _notices(sessions) == [("promotion", user(2))]
