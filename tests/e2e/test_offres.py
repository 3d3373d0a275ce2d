"""Offers end to end, with the real bot stopped and started again: a freed place is offered by
DM with two buttons and the deadline; an offer that expires while the bot is stopped passes to
the next member at start-up, exactly once (a second start sends nothing more); the next member
takes the place with the DM's button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from tests.e2e.harness import Server, partage, settings_for, settle
from tests.e2e.test_ateliers_rsvp import atelier_id_of
from tests.e2e.test_ateliers_support import (
    announcements,
    answered,
    chantier_channel,
    create_atelier,
)
from tests.fakediscord import FakeDiscord
from tests.french import fr


async def test_an_offer_expired_while_stopped_passes_on_once_at_start_up(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    carole = fake.add_member(server.guild, "carole")
    settings = settings_for(fake, server, db_url, ateliers={"offer_hours": 2})
    clock = ManualClock(datetime.now(UTC))
    async with partage(fake, settings, clock=clock) as bot:
        _, text = await create_atelier(fake, server, capacite=1)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        for member in (server.alice, server.bob, carole):
            await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=member, locale="fr"))
        await answered(
            fake.click(message, f"rsvp:{atelier_id}:non", user=server.alice, locale="fr")
        )
        await settle(fake, bot)
        [offer] = fake.dms(server.bob)
        deadline = int((clock.now() + timedelta(hours=2)).timestamp())
        assert fr("elle vous est offerte jusqu'au") in offer.content
        assert f"<t:{deadline}:F>" in offer.content and f"<t:{deadline}:R>" in offer.content
        [inscription_id] = {c.split(":")[1] for c in offer.custom_ids()}
        assert offer.custom_ids() == [f"offre:{inscription_id}:oui", f"offre:{inscription_id}:non"]
        assert fake.dms(carole) == []
        assert bot.scheduler.job_ids("offre:") == [f"offre:{inscription_id}"]

    clock.advance(timedelta(hours=2, minutes=1))  # the deadline passes while the bot is stopped
    async with partage(fake, settings, clock=clock) as bot:
        await settle(fake, bot)
        assert len(fake.dms(server.bob)) == 2
        assert fr("Le délai pour prendre la place offerte") in fake.dms(server.bob)[1].content
        [carole_offer] = fake.dms(carole)
        assert fr("elle vous est offerte jusqu'au") in carole_offer.content
        counts = await bot.services.inscriptions.counts(atelier_id)
        assert (counts.inscrits, counts.attente) == (1, 0)  # the place, held for Carole

    async with partage(fake, settings, clock=clock) as bot:  # a second start: nothing more
        await settle(fake, bot)
        assert len(fake.dms(server.bob)) == 2 and len(fake.dms(carole)) == 1
        # Bob's old button no longer works; Carole takes the place from her DM.
        [bob_id] = {c.split(":")[1] for c in fake.dms(server.bob)[0].custom_ids()}
        stale = await answered(
            fake.click(fake.dms(server.bob)[0], f"offre:{bob_id}:oui", user=server.bob, locale="fr")
        )
        assert "n'est plus valable" in stale.content
        [carole_id] = {c.split(":")[1] for c in carole_offer.custom_ids()}
        taken = await answered(
            fake.click(carole_offer, f"offre:{carole_id}:oui", user=carole, locale="fr")
        )
        assert fr("La place à « Territoire et immigration » est à vous") in taken.content
        await settle(fake, bot)
        assert bot.scheduler.job_ids("offre:") == []
        assert await bot.services.offres.pending() == []
