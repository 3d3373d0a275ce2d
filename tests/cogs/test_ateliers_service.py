"""Ateliers: create, modify, cancel, list; validation leaves the database unchanged."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.errors import Conflict, InvalidInput, NotFound
from cogs.ateliers.service import AtelierChanges, AtelierDraft, AtelierService
from cogs.chantiers.service import ChantierService
from cogs.inscriptions.service import InscriptionService
from db.models import Atelier, AuditLog, EtatInscription, Genre, Reponse, Seance
from tests.cogs.helpers import GUILD, ateliers_service, seance, user


@pytest.fixture
def ateliers(sessions, clock: ManualClock) -> AtelierService:
    return ateliers_service(sessions, clock)


async def _count(sessions, model) -> int:
    async with sessions() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_create_two_seances(ateliers: AtelierService, sessions) -> None:
    chantier = await ChantierService(sessions, ateliers.clock).create(GUILD, "Petite enfance")
    info = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Petite enfance et immigration",
            seances=[seance(date(2026, 12, 10)), seance(date(2026, 12, 3))],
            chantier_id=chantier.id,
            capacite=30,
            genre=Genre.ECHANGE,
            organizer_user_id=user(1),
        ),
        actor_user_id=user(1),
    )
    assert [s.local_date for s in info.seances] == [date(2026, 12, 3), date(2026, 12, 10)]
    assert info.counts.places_restantes == 30
    assert info.lieu == "visioconférence"
    assert await _count(sessions, AuditLog) == 2  # chantier + atelier


@pytest.mark.parametrize(
    ("draft_kwargs", "part"),
    [
        ({"titre": " "}, "titre"),
        ({"titre": "x" * 201}, "titre"),
        ({"capacite": 0}, "capacit"),
        ({"duree_minutes": 5}, "durée"),
        ({"lien": "javascript:alert(1)"}, "lien"),
        ({"description": "d" * 2001}, "description"),
        ({"seances": []}, "séance"),
    ],
)
async def test_bad_input_saves_nothing(
    ateliers: AtelierService, sessions, draft_kwargs, part
) -> None:
    base = {"titre": "Titre", "seances": [seance(date(2026, 12, 3))]}
    base.update(draft_kwargs)
    with pytest.raises(InvalidInput) as err:
        await ateliers.create(GUILD, AtelierDraft(**base))
    assert part in err.value.message_id.lower()
    assert await _count(sessions, Atelier) == 0
    assert await _count(sessions, Seance) == 0


async def test_archived_chantier_refuses(ateliers: AtelierService, sessions) -> None:
    chantiers = ChantierService(sessions, ateliers.clock)
    c = await chantiers.create(GUILD, "Territoire")
    await chantiers.archive(GUILD, c.id)
    with pytest.raises(Conflict):
        await ateliers.create(
            GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3))], chantier_id=c.id)
        )


async def test_modify_capacity_promotes_and_refuses_below_registered(
    ateliers: AtelierService, sessions
) -> None:
    a = await ateliers.create(
        GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3))], capacite=2)
    )
    rsvp = InscriptionService(sessions, ateliers.clock)
    for n in range(4):
        await rsvp.answer(GUILD, a.id, user(n), Reponse.OUI)
    with pytest.raises(InvalidInput):
        await ateliers.modify(GUILD, a.id, AtelierChanges(capacite=1))
    result = await ateliers.modify(GUILD, a.id, AtelierChanges(capacite=3))
    assert [p.user_id for p in result.promoted] == [user(2)]
    assert result.atelier.counts.inscrits == 3 and result.atelier.counts.attente == 1
    assert {r.user_id for r in result.notify} == {user(n) for n in range(4)}
    assert "capacite" in result.changed


async def test_modify_dates_keeps_seance_ids(ateliers: AtelierService) -> None:
    a = await ateliers.create(
        GUILD,
        AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 10))]),
    )
    result = await ateliers.modify(
        GUILD,
        a.id,
        AtelierChanges(seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 17), time(9))]),
    )
    assert result.changed == ("dates",)
    assert [s.id for s in result.atelier.seances] == [s.id for s in a.seances]
    assert result.atelier.seances[1].local_date == date(2026, 12, 17)
    assert result.atelier.version == a.version + 1


async def test_modify_nothing_refused(ateliers: AtelierService) -> None:
    a = await ateliers.create(GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3))]))
    with pytest.raises(InvalidInput):
        await ateliers.modify(GUILD, a.id, AtelierChanges())
    with pytest.raises(InvalidInput):
        await ateliers.modify(GUILD, a.id, AtelierChanges(titre="T"))


async def test_cancel_then_answers_refused(ateliers: AtelierService, sessions) -> None:
    a = await ateliers.create(GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3))]))
    rsvp = InscriptionService(sessions, ateliers.clock)
    await rsvp.answer(GUILD, a.id, user(1), Reponse.OUI)
    result = await ateliers.cancel(GUILD, a.id, raison="Tempête", actor_user_id=user(9))
    assert result.atelier.cancelled and result.atelier.raison_annulation == "Tempête"
    assert [r.user_id for r in result.notify] == [user(1)]
    with pytest.raises(Conflict):
        await rsvp.answer(GUILD, a.id, user(2), Reponse.OUI)
    with pytest.raises(Conflict):
        await ateliers.cancel(GUILD, a.id)


async def test_unknown_or_foreign_atelier(ateliers: AtelierService) -> None:
    a = await ateliers.create(GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3))]))
    with pytest.raises(NotFound):
        await ateliers.get(a.id + 100)
    with pytest.raises(NotFound):
        await ateliers.modify(GUILD + 1, a.id, AtelierChanges(titre="X"))


async def test_upcoming_order_and_past(ateliers: AtelierService, clock: ManualClock) -> None:
    late = await ateliers.create(GUILD, AtelierDraft(titre="B", seances=[seance(date(2027, 1, 5))]))
    soon = await ateliers.create(
        GUILD, AtelierDraft(titre="A", seances=[seance(date(2026, 12, 1))])
    )
    cancelled = await ateliers.create(
        GUILD, AtelierDraft(titre="C", seances=[seance(date(2026, 12, 2))])
    )
    await ateliers.cancel(GUILD, cancelled.id)
    assert [a.id for a in await ateliers.upcoming(GUILD)] == [soon.id, late.id]
    clock.advance(timedelta(days=20))
    assert [a.id for a in await ateliers.upcoming(GUILD)] == [late.id]


async def test_answer_after_start_refused(ateliers: AtelierService, sessions, clock) -> None:
    a = await ateliers.create(GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 11, 25))]))
    clock.advance(timedelta(days=4))
    with pytest.raises(Conflict):
        await InscriptionService(sessions, clock).answer(GUILD, a.id, user(1), Reponse.OUI)


async def test_waiting_state_values(ateliers: AtelierService, sessions) -> None:
    a = await ateliers.create(
        GUILD, AtelierDraft(titre="T", seances=[seance(date(2026, 12, 3))], capacite=1)
    )
    rsvp = InscriptionService(sessions, ateliers.clock)
    first = await rsvp.answer(GUILD, a.id, user(1), Reponse.OUI)
    second = await rsvp.answer(GUILD, a.id, user(2), Reponse.OUI)
    again = await rsvp.answer(GUILD, a.id, user(2), Reponse.OUI)
    assert (first.etat, first.position) == (EtatInscription.INSCRIT, None)
    assert (second.etat, second.position) == (EtatInscription.ATTENTE, 1)
    assert (again.etat, again.position) == (EtatInscription.ATTENTE, 1)


async def test_next_by_chantier_is_the_soonest_planned_atelier_of_each(
    sessions, clock: ManualClock, ateliers: AtelierService
) -> None:
    chantiers = ChantierService(sessions, clock)
    a = await chantiers.create(GUILD, "Accueil")
    b = await chantiers.create(GUILD, "Petite enfance")
    c = await chantiers.create(GUILD, "Gouvernance")

    async def make(titre: str, chantier_id: int, *days: date) -> int:
        draft = AtelierDraft(
            titre=titre, seances=[seance(d) for d in days], chantier_id=chantier_id
        )
        return (await ateliers.create(GUILD, draft, announce=False)).id

    await make("Plus tard", a.id, date(2027, 3, 1))
    await make("Bientôt", a.id, date(2027, 2, 1), date(2027, 4, 1))
    annule = await make("Annulé", b.id, date(2027, 1, 5))
    await ateliers.cancel(GUILD, annule)
    await make("Fini", c.id, date(2026, 10, 1))  # before the clock's now
    found = await ateliers.next_by_chantier(GUILD)
    assert set(found) == {a.id}
    titre, starts = found[a.id]
    assert titre == "Bientôt" and starts.date() == date(2027, 2, 1)

    # Served from this service's copy until one of its writes commits, then read again.
    assert await ateliers.next_by_chantier(GUILD) == found
    assert ateliers.next_loads == 1
    soon = await make("Tout de suite", a.id, date(2027, 1, 10))
    assert (await ateliers.next_by_chantier(GUILD))[a.id][0] == "Tout de suite"
    await ateliers.cancel(GUILD, soon)
    assert (await ateliers.next_by_chantier(GUILD))[a.id][0] == "Bientôt"
    assert ateliers.next_loads == 3
