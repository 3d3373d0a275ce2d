"""Attendance: « Je suis là » only while a séance is open, the staff's checklist (registered
members, walk-ins, pages), co-hosts, and attendance in the participants export."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.errors import Conflict, NotFound
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.service import InscriptionService
from cogs.presences.service import PAGE_SIZE, PresenceService
from db.models import AuditLog, Coanimateur, Membre, Presence, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, user
from tests.dbutil import queries, statements

DAYS = [date(2026, 12, 3), date(2026, 12, 10)]


@pytest.fixture
def presences(sessions, clock: ManualClock) -> PresenceService:
    return PresenceService(sessions, clock)


async def _atelier(sessions, clock, capacite=None):
    return await ateliers_service(sessions, clock).create(
        GUILD,
        AtelierDraft(
            titre="Territoire et immigration",
            seances=[seance(d) for d in DAYS],
            capacite=capacite,
        ),
    )


async def test_here_is_accepted_only_while_the_seance_is_open(sessions, clock, presences) -> None:
    info = await _atelier(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.OUI)
    first = info.seances[0]
    # Too early: the day before.
    clock.set(first.starts_at - timedelta(days=1))
    with pytest.raises(Conflict) as early:
        await presences.mark_self(GUILD, first.id, user(1))
    assert "n'a pas encore commencé" in early.value.message_id
    # A little before the start: accepted, registered.
    clock.set(first.starts_at - timedelta(minutes=10))
    result = await presences.mark_self(GUILD, first.id, user(1), display_name="Alice")
    assert (result.already, result.inscrit) == (False, True)
    # Clicked again: recorded once.
    again = await presences.mark_self(GUILD, first.id, user(1))
    assert again.already
    # Someone who did not register: a walk-in.
    clock.set(first.starts_at + timedelta(minutes=45))
    walk_in = await presences.mark_self(GUILD, first.id, user(2), display_name="Bob")
    assert (walk_in.already, walk_in.inscrit) == (False, False)
    # After the end (90 min) and its grace (30 min): closed.
    clock.set(first.ends_at + timedelta(minutes=31))
    with pytest.raises(Conflict) as late:
        await presences.mark_self(GUILD, first.id, user(3))
    assert "est terminée" in late.value.message_id
    async with sessions() as s:
        rows = (await s.execute(select(Presence).order_by(Presence.id))).scalars().all()
    assert [(r.seance_id, r.inscrit, r.marked_by_user_id) for r in rows] == [
        (first.id, True, None),
        (first.id, False, None),
    ]
    with pytest.raises(NotFound):
        await presences.mark_self(GUILD + 1, first.id, user(1))


async def test_a_member_who_skips_a_seance_is_not_expected_at_it(
    sessions, clock, presences
) -> None:
    info = await _atelier(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.OUI)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.NON, seance_id=info.seances[1].id)
    second = info.seances[1]
    clock.set(second.starts_at)
    result = await presences.mark_self(GUILD, second.id, user(1))
    assert not result.inscrit


async def test_checklist_pages_marks_and_walk_ins(sessions, clock, presences) -> None:
    info = await _atelier(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    for n in range(PAGE_SIZE + 5):
        await rsvp.answer(GUILD, info.id, user(n), Reponse.OUI, display_name=f"membre{n:02}")
    first = info.seances[0]
    clock.set(first.starts_at + timedelta(minutes=5))
    checklist = await presences.checklist(GUILD, info.id)
    assert checklist.seance.id == first.id  # the séance under way
    assert (checklist.pages, checklist.expected, checklist.present) == (2, PAGE_SIZE + 5, 0)
    assert [r.name for r in checklist.rows][:2] == ["membre00", "membre01"]
    shown = [r.membre_id for r in checklist.rows]
    # Staff tick three on the first page, then untick one.
    marked = await presences.record_page(GUILD, first.id, shown, shown[:3], actor_user_id=user(900))
    assert marked.present == 3 and [r.present for r in marked.rows[:4]] == [True] * 3 + [False]
    marked = await presences.record_page(GUILD, first.id, shown, shown[:2], actor_user_id=user(900))
    assert marked.present == 2
    # A walk-in, added by staff, is listed on the last page after those expected.
    last = await presences.add_walk_ins(
        GUILD, first.id, [(user(500), "Visiteuse")], actor_user_id=user(900)
    )
    assert last.page == 1 and last.walk_ins == 1
    assert (last.rows[-1].name, last.rows[-1].expected, last.rows[-1].present) == (
        "Visiteuse",
        False,
        True,
    )
    # Ticking on page 2 does not touch page 1.
    page2 = [r.membre_id for r in last.rows]
    after = await presences.record_page(
        GUILD, first.id, page2, page2, actor_user_id=user(900), page=1
    )
    assert after.present == 2 + len(page2)
    async with sessions() as s:
        marked_by = set((await s.execute(select(Presence.marked_by_user_id))).scalars())
        audit = (
            (await s.execute(select(AuditLog.action).where(AuditLog.action == "presence.mark")))
            .scalars()
            .all()
        )
    assert marked_by == {user(900)}
    assert len(audit) == 4
    # A later séance chosen by id; one of another atelier refused.
    second = await presences.checklist(GUILD, info.id, info.seances[1].id)
    assert second.number == 2 and second.present == 0
    other = await _atelier(sessions, clock)
    with pytest.raises(NotFound):
        await presences.checklist(GUILD, info.id, other.seances[0].id)


async def test_cohosts_are_per_atelier(sessions, clock, presences) -> None:
    info = await _atelier(sessions, clock)
    other = await _atelier(sessions, clock)
    async with sessions.begin() as s:
        membre = Membre(guild_id=GUILD, user_id=user(7), locale="fr", created_at=clock.now())
        s.add(membre)
        await s.flush()
        s.add(
            Coanimateur(
                guild_id=GUILD, atelier_id=info.id, membre_id=membre.id, created_at=clock.now()
            )
        )
    assert await presences.is_cohost(GUILD, info.id, user(7))
    assert not await presences.is_cohost(GUILD, other.id, user(7))
    assert not await presences.is_cohost(GUILD, info.id, user(8))


async def test_attendance_in_the_participants_export(sessions, clock, presences) -> None:
    info = await _atelier(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    await rsvp.answer(GUILD, info.id, user(1), Reponse.OUI, display_name="Alice")
    await rsvp.answer(GUILD, info.id, user(2), Reponse.OUI, display_name="Bruno")
    first = info.seances[0]
    clock.set(first.starts_at)
    await presences.mark_self(GUILD, first.id, user(1))
    await presences.mark_self(GUILD, first.id, user(3), display_name="Chloé")
    export = await ateliers_service(sessions, clock).participants(
        GUILD, info.id, actor_user_id=user(900)
    )
    came = {r.display_name: r.presences for r in export.rows}
    assert came == {"Alice": (first.id,), "Bruno": (), "Chloé": (first.id,)}
    from bot.i18n import I18n
    from cogs.ateliers.export import participants_table

    tr = I18n.load().for_locale("fr")
    header, rows = participants_table(tr, export)
    column = header.index("Présences")
    by_name = {r[0]: r for r in rows}
    assert by_name["Alice"][column] == "2026-12-03 13:30"
    assert by_name["Bruno"][column] == ""
    assert by_name["Chloé"][2] == "venu·e sans inscription"


async def test_the_checklist_costs_the_same_for_two_people_or_a_page(
    engine: AsyncEngine, sessions, clock, presences
) -> None:
    """Ticking, adding walk-ins and reading the checklist: as many statements for a page of
    members as for two (no statement per person)."""
    info = await _atelier(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    for n in range(PAGE_SIZE):
        await rsvp.answer(GUILD, info.id, user(n), Reponse.OUI, display_name=f"membre{n:02}")
    first = info.seances[0]
    clock.set(first.starts_at + timedelta(minutes=5))
    shown = [r.membre_id for r in (await presences.checklist(GUILD, info.id)).rows]
    await presences.add_walk_ins(GUILD, first.id, [(user(499), "Visiteuse")], actor_user_id=1)
    costs = []
    for ticked, walk_ins in ((shown[:2], 2), (shown, PAGE_SIZE)):
        people = [(user(500 + n + len(costs) * 100), f"Visiteur {n}") for n in range(walk_ins)]
        with statements(engine) as ticking:
            await presences.record_page(GUILD, first.id, shown, ticked, actor_user_id=user(900))
        with statements(engine) as adding:
            last = await presences.add_walk_ins(GUILD, first.id, people, actor_user_id=user(900))
        with statements(engine) as reading:
            await presences.checklist(GUILD, info.id, first.id, page=last.page)
        costs.append((len(queries(ticking)), len(queries(adding)), len(queries(reading))))
    assert costs[0] == costs[1], costs
    final = await presences.checklist(GUILD, info.id, first.id)
    assert (final.present, final.walk_ins) == (1 + PAGE_SIZE + 2 + PAGE_SIZE, 1 + 2 + PAGE_SIZE)
