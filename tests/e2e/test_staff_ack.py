"""The acknowledgement rule for staff commands: acknowledged only once the change is saved. A
change held up past Discord's deadline (here by another transaction holding the atelier's row)
is rolled back and never acknowledged; trying again works and tells each member once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select, update

from db.models import Atelier, EtatAtelier
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_manage import atelier_id_of
from tests.e2e.test_ateliers_support import (
    announcements,
    answered,
    chantier_channel,
    create_atelier,
    text_of,
)
from tests.fakediscord import FakeDiscord

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

HOLD = 3.2  # seconds the row stays locked: past the 2.4 s a command has to be ready


async def test_a_cancellation_held_past_the_deadline_is_rolled_back_then_retried(
    fake_discord: FakeDiscord, server: Server, settings, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.bob, locale="fr"))
        await settle(fake, bot)
        fake.interaction_deadline = 3.0  # as Discord: a late acknowledgement is refused
        locked = asyncio.Event()

        async def hold_the_atelier() -> None:
            async with bot.sessions.begin() as session:
                await session.execute(
                    update(Atelier).where(Atelier.id == atelier_id).values(titre=Atelier.titre)
                )
                locked.set()
                await asyncio.sleep(HOLD)

        holder = asyncio.create_task(hold_the_atelier())
        await locked.wait()
        options = {"atelier": str(atelier_id), "raison": "Tempête"}
        with caplog.at_level(logging.WARNING, logger="bot.interactions"):
            late = fake.slash(
                "atelier annuler",
                user=server.staff,
                channel=server.general,
                options=options,
                locale="fr",
            )
            await holder
            await asyncio.sleep(0.5)
            await settle(fake, bot)
        async with bot.sessions() as session:
            etat_after_late = (
                await session.execute(select(Atelier.etat).where(Atelier.id == atelier_id))
            ).scalar_one()
        dms_after_late = len(fake.dms(server.bob))
        done = await text_of(
            fake.slash(
                "atelier annuler",
                user=server.staff,
                channel=server.general,
                options=options,
                locale="fr",
            )
        )
        await settle(fake, bot)
    assert not late.responded  # never acknowledged: the staff member saw "did not respond"
    assert etat_after_late == EtatAtelier.PLANIFIE and dms_after_late == 0
    assert any("rolled back, not acknowledged" in r.getMessage() for r in caplog.records)
    assert "annulé. 1 personne prévenue." in done
    assert sum("est annulé" in m.content for m in fake.dms(server.bob)) == 1
