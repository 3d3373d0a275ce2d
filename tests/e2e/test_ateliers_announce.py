"""Creating an atelier: the announcement, its buttons and thread, the scheduled events."""

from __future__ import annotations

import re

from sqlalchemy import update

from db.models import Atelier
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import (
    announcements,
    chantier_channel,
    create_atelier,
    field,
)
from tests.fakediscord import FakeDiscord
from tests.french import fr, frh


async def test_two_seance_atelier_is_announced_with_buttons_thread_and_events(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        handle, text = await create_atelier(
            fake,
            server,
            capacite=30,
            lien="https://us02web.zoom.us/j/123456",
            description="Échanges entre municipalités",
        )
        await settle(fake, bot)
    assert handle.callbacks[0].ephemeral
    assert fr("créé (n° ") in text and "annonce publiée dans <#" in text
    channel = chantier_channel(fake, server)
    [message] = announcements(fake, channel)
    atelier_id = int(re.search(r"n°\s(\d+)", text).group(1))
    assert message.custom_ids() == [
        f"rsvp:{atelier_id}:oui",
        f"rsvp:{atelier_id}:peut-etre",
        f"rsvp:{atelier_id}:non",
        f"lien:{atelier_id}",
    ]
    embed = message.embeds[0]
    assert embed["title"] == "Territoire et immigration"
    assert embed["author"]["name"].startswith("Atelier · ")
    seances = field(message, "Séances")
    assert frh("mardi 3 décembre 2030 à 13 h 30") in seances
    assert frh("mardi 10 décembre 2030 à 13 h 30") in seances
    assert len(re.findall(r"<t:\d+:F>", seances)) == 2
    assert len(re.findall(r"<t:\d+:R>", seances)) == 2
    assert "30 places restantes sur 30" in field(message, "Places")
    assert "zoom" not in field(message, "Lieu").lower()  # the link is for registered members
    # Nobody is pinged by what staff typed; only the chantier's role is.
    assert message.mention_everyone is False
    assert message.allowed_mentions["parse"] == []
    role_ids = message.mention_role_ids
    assert len(role_ids) == 1 and server.guild.roles[role_ids[0]].name.startswith("Politiques")
    # Its discussion thread.
    assert message.thread_id is not None
    thread = fake.channels[message.thread_id]
    assert thread.name == "Territoire et immigration"
    # Two scheduled events, external, at the séances' times, without the link.
    events = sorted(fake.scheduled_events(server.guild), key=lambda e: e.scheduled_start_time)
    assert len(events) == 2
    assert [e.entity_type for e in events] == [3, 3]
    assert events[0].name == "Territoire et immigration (séance 1 sur 2)"
    assert events[0].location == "visioconférence (Zoom)"
    assert "zoom.us/j" not in (events[0].description or "")
    assert fr("« Intéressé » ne vous inscrit pas") in (events[0].description or "")
    assert int(events[0].scheduled_start_time.timestamp()) == int(
        re.search(r"<t:(\d+):F>", seances).group(1)
    )


async def test_text_from_staff_never_pings(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    """Mention syntax is refused in new text (``bot/shown_text.py``); text saved before that
    rule (here written straight into the database) is still announced pinging nobody."""
    fake = fake_discord
    staff_role = server.staff_role.id
    titre = f"Réunion @everyone @here <@&{staff_role}> <@{server.alice.id}>"
    async with partage(fake, settings) as bot:
        _, refused = await create_atelier(fake, server, titre=titre)
        _, text = await create_atelier(fake, server, titre="Réunion")
        atelier_id = int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]
        await settle(fake, bot)
        async with bot.sessions.begin() as session:
            await session.execute(
                update(Atelier)
                .where(Atelier.id == atelier_id)
                .values(titre=titre, description="@everyone, venez !")
            )
        await fake.slash(
            "atelier annoncer",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(atelier_id), "salon": server.general},
            locale="fr",
        ).wait_followups(1, timeout=10)
        await settle(fake, bot)
    assert "s'afficherait comme une mention" in refused
    [message] = announcements(fake, server.general)
    assert titre in message.content  # shown as typed…
    assert message.mention_everyone is False  # …but pinging nobody but the chantier's role
    assert message.mention_user_ids == []
    assert staff_role not in message.mention_role_ids and len(message.mention_role_ids) == 1
