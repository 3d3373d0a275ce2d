"""By hand: staff register a member (a place, or the waiting list when full) and remove one
(the place goes to the first in line), each time the member is told through the outbox and the
audit log names who did it; co-hosts named and removed, per atelier."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.errors import Conflict
from cogs.ateliers.service import AtelierDraft
from cogs.gestion.service import GestionService
from cogs.gestion.text import INSCRIPTION_MAIN, RETRAIT_MAIN
from cogs.presences.service import PresenceService
from db.models import AuditLog, EtatInscription, OutboxKind, OutboxMessage
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

STAFF = user(900)


@pytest.fixture
def gestion(sessions, clock: ManualClock) -> GestionService:
    return GestionService(sessions, clock)


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


async def _audit(sessions) -> list[tuple[str, int | None, str | None]]:
    async with sessions() as s:
        rows = (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars()
        return [
            (a.action, a.actor_user_id, a.details.get("etat"))
            for a in rows
            if a.action.startswith("inscription.")
        ]


async def test_register_and_remove_by_hand_follow_the_waiting_list(
    sessions, clock, gestion
) -> None:
    info = await ateliers_service(sessions, clock).create(
        GUILD, AtelierDraft(titre="Petite enfance", seances=[seance(date(2026, 12, 3))], capacite=1)
    )
    first = await gestion.inscrire(
        GUILD, info.id, user(1), display_name="Alice", actor_user_id=STAFF
    )
    assert (first.etat, first.changed) == (EtatInscription.INSCRIT, True)
    second = await gestion.inscrire(
        GUILD, info.id, user(2), display_name="Bruno", actor_user_id=STAFF
    )
    assert (second.etat, second.position) == (EtatInscription.ATTENTE, 1)
    again = await gestion.inscrire(GUILD, info.id, user(1), display_name=None, actor_user_id=STAFF)
    assert not again.changed
    assert await _notices(sessions) == [(INSCRIPTION_MAIN, user(1)), (INSCRIPTION_MAIN, user(2))]

    removed = await gestion.retirer(GUILD, info.id, user(1), actor_user_id=STAFF)
    assert removed.promoted == 1
    notices = await _notices(sessions)
    assert notices[2:] == [("promotion", user(2)), (RETRAIT_MAIN, user(1))]
    with pytest.raises(Conflict):
        await gestion.retirer(GUILD, info.id, user(1), actor_user_id=STAFF)
    assert await _audit(sessions) == [
        ("inscription.by_hand", STAFF, "oui"),
        ("inscription.by_hand", STAFF, "attente"),
        ("inscription.remove_by_hand", STAFF, "oui"),
    ]


async def test_cohosts_named_and_removed_per_atelier(sessions, clock, gestion) -> None:
    ateliers = ateliers_service(sessions, clock)
    info = await ateliers.create(
        GUILD, AtelierDraft(titre="Accueil", seances=[seance(date(2026, 12, 3))])
    )
    other = await ateliers.create(
        GUILD, AtelierDraft(titre="Logement", seances=[seance(date(2026, 12, 4))])
    )
    presences = PresenceService(sessions, clock)
    named = await gestion.coanimer(GUILD, info.id, user(7), display_name="Co", actor_user_id=STAFF)
    assert (named.added, named.changed) == (True, True)
    twice = await gestion.coanimer(GUILD, info.id, user(7), display_name="Co", actor_user_id=STAFF)
    assert not twice.changed
    assert await gestion.cohosts(info.id) == [user(7)]
    assert await presences.is_cohost(GUILD, info.id, user(7))
    assert not await presences.is_cohost(GUILD, other.id, user(7))
    gone = await gestion.coanimer(
        GUILD, info.id, user(7), display_name=None, actor_user_id=STAFF, retirer=True
    )
    assert (gone.added, gone.changed) == (False, True)
    assert await gestion.cohosts(info.id) == []
    assert not await presences.is_cohost(GUILD, info.id, user(7))
