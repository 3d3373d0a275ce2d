"""What members see: /ateliers with their own status, /rappels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import select

from bot.core import PartageBot
from cogs.ateliers.service import AtelierDraft
from db.models import Membre, Reponse
from tests.cogs.helpers import seance
from tests.dbutil import statements
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import (
    announcements,
    answered,
    chantier_channel,
    create_atelier,
    text_of,
)
from tests.fakediscord import FakeDiscord
from tests.french import fr


async def test_ateliers_lists_upcoming_with_places_and_own_status(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, first = await create_atelier(fake, server, capacite=1)
        _, second = await create_atelier(
            fake,
            server,
            titre="Accueillir en région",
            chantier="accueil-integration",
            dates="8 janvier 2031 10 h",
        )
        first_id, second_id = (
            int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]
            for text in (first, second)
        )
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        await answered(fake.click(message, f"rsvp:{first_id}:oui", user=server.bob))
        await answered(fake.click(message, f"rsvp:{first_id}:oui", user=server.alice))
        await text_of(
            fake.slash(
                "rsvp",
                user=server.alice,
                channel=server.general,
                options={"atelier": str(second_id), "reponse": "non"},
            )
        )
        everything = fake.slash("ateliers", user=server.alice, channel=server.general, locale="fr")
        only = fake.slash(
            "ateliers",
            user=server.alice,
            channel=server.general,
            options={"chantier": "accueil-integration"},
            locale="fr",
        )
        listed = (await everything.response()).data["embeds"][0]  # type: ignore[index]
        filtered = (await only.response()).data["embeds"][0]  # type: ignore[index]
        await settle(fake, bot)
    assert everything.callbacks[0].ephemeral
    names = [f["name"] for f in listed["fields"]]
    assert names == [
        fr(f"Territoire et immigration (n° {first_id})"),
        fr(f"Accueillir en région (n° {second_id})"),
    ]
    value = listed["fields"][0]["value"]
    assert re.search(r"<t:\d+:F> \(<t:\d+:R>\)", value)
    assert "Complet (1 place)" in value
    assert fr("Vous êtes n° 1 sur la liste d'attente.") in value
    assert "Vous avez répondu non." in listed["fields"][1]["value"]
    assert [f["name"] for f in filtered["fields"]] == names[1:]


async def test_rappels_turns_direct_message_reminders_on_and_off(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:

        async def dm_reminders() -> bool:
            async with bot.sessions() as session:
                membre = (
                    await session.execute(select(Membre).where(Membre.user_id == server.alice.id))
                ).scalar_one()
                return membre.dm_reminders

        on = await text_of(
            fake.slash(
                "rappels",
                user=server.alice,
                channel=server.general,
                options={"messages-prives": True},
                locale="fr",
            )
        )
        assert await dm_reminders() is True
        off = await text_of(
            fake.slash(
                "rappels",
                user=server.alice,
                channel=server.general,
                options={"messages-prives": False},
                locale="fr",
            )
        )
        assert await dm_reminders() is False
    assert on.startswith("Rappels par message privé activés")
    assert off == "Rappels par message privé désactivés."


@contextmanager
def statements_about_ateliers(bot: PartageBot) -> Iterator[list[str]]:
    """The statements that read ateliers, séances, inscriptions or members (the outbox's and
    the scheduler's own polling, which may run meanwhile, are left out), filled in when the
    block ends."""
    tables = ("ATELIER", "SEANCE", "INSCRIPTION", "MEMBRE")
    with statements(bot.engine) as seen:
        about: list[str] = []
        yield about
    about += [text for text in seen if any(f"FROM {t}" in text for t in tables)]


async def test_chantiers_and_mes_inscriptions_cost_the_same_with_3_or_15_ateliers(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    costs: list[tuple[int, int]] = []
    async with partage(fake, settings) as bot:
        ateliers = bot.services.ateliers
        inscriptions = bot.services.inscriptions
        made = 0
        for total in (3, 15):
            while made < total:
                day = date(2031, 1, 6) + timedelta(days=made)
                info = await ateliers.create(
                    server.guild.id,
                    AtelierDraft(
                        titre=f"Atelier {made}",
                        seances=[seance(day), seance(day + timedelta(days=7))],
                        capacite=1,
                    ),
                    announce=False,
                )
                await inscriptions.answer(server.guild.id, info.id, server.bob.id, Reponse.OUI)
                await inscriptions.answer(server.guild.id, info.id, server.alice.id, Reponse.OUI)
                await inscriptions.answer(
                    server.guild.id,
                    info.id,
                    server.alice.id,
                    Reponse.NON,
                    seance_id=info.seances[1].id,
                )
                made += 1
            await settle(fake, bot)
            with statements_about_ateliers(bot) as chantiers:
                listed = await fake.slash(
                    "chantiers", user=server.alice, channel=server.general, locale="fr"
                ).response()
            with statements_about_ateliers(bot) as mine:
                own = await fake.slash(
                    "mes-inscriptions", user=server.alice, channel=server.general, locale="fr"
                ).response()
            costs.append((len(chantiers), len(mine)))
            fields = own.data["embeds"][0]["fields"]  # type: ignore[index]
            assert len(fields) == total
            assert all(fr("n° 1 sur la liste d'attente") in f["value"] for f in fields)
            assert all("vous n'y serez pas" in f["value"] for f in fields)
            assert listed.data["embeds"]  # type: ignore[index]
    assert costs[0] == costs[1], costs
    assert costs[0][1] <= 8, costs
