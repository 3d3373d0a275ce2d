"""Answering: a burst on the buttons, the waiting list and its promotions, a restart, /rsvp."""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import (
    announcements,
    answered,
    chantier_channel,
    create_atelier,
    field,
    text_of,
)
from tests.fakediscord import FakeDiscord
from tests.french import fr, frh

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

REGISTERED = "votre place est réservée"
WAITING = re.compile(r"vous êtes n°\s(\d+) sur la liste d'attente")


def atelier_id_of(text: str) -> int:
    return int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]


async def test_forty_clicks_at_once_on_thirty_places(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    members = [fake.add_member(server.guild, f"membre{i:02}") for i in range(40)]
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=30)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        edits_before = message.edits
        handles = [
            fake.click(message, f"rsvp:{atelier_id}:oui", user=m, locale="fr") for m in members
        ]
        replies = [(await answered(h)).content for h in handles]
        await settle(fake, bot)
        counts = await bot.services.inscriptions.counts(atelier_id)
    # Every click acknowledged at once, privately.
    assert all(h.callbacks[0].type == 5 and h.callbacks[0].ephemeral for h in handles)
    # Exactly 30 places given, in the order of the clicks; 10 waiting, positions 1..10.
    assert all(REGISTERED in r for r in replies[:30])
    positions = [int(WAITING.search(r).group(1)) for r in replies[30:]]  # type: ignore[union-attr]
    assert positions == list(range(1, 11))
    assert (counts.inscrits, counts.attente) == (30, 10)
    # The announcement shows the final counts after only a few edits.
    places = field(message, "Places")
    assert "Complet (30 places)" in places
    assert "30 personnes inscrites" in places
    assert "10 personnes en liste d'attente" in places
    edits = message.edits - edits_before
    assert 1 <= edits <= 4, edits


async def test_a_freed_place_goes_to_the_first_waiting_by_dm_or_in_the_thread(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    first, second, third, fourth = (fake.add_member(server.guild, f"m{i}") for i in range(4))
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=2)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        for member in (first, second, third, fourth):
            await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=member, locale="fr"))
        # The first registered gives up their place: the first waiting gets it, by DM.
        gave_up = await answered(
            fake.click(message, f"rsvp:{atelier_id}:non", user=first, locale="fr")
        )
        assert "vous ne participerez pas" in gave_up.content
        await settle(fake, bot)
        [dm] = fake.dms(third)
        assert fr("une place s'est libérée pour « Territoire et immigration »") in dm.content
        assert fake.dms(fourth) == []
        # Now the fourth (first waiting) has closed DMs: told by a mention in the thread.
        fake.close_dms(fourth)
        await answered(fake.click(message, f"rsvp:{atelier_id}:non", user=second, locale="fr"))
        await settle(fake, bot)
        counts = await bot.services.inscriptions.counts(atelier_id)
    assert (counts.inscrits, counts.attente) == (2, 0)
    [notice] = fake.channel_messages(message.thread_id)
    assert notice.content.startswith(f"<@{fourth.id}>")
    assert "une place s'est libérée" in notice.content
    assert notice.mention_user_ids == [fourth.id]  # it pings them, and only them
    assert [int(u) for u in notice.allowed_mentions["users"]] == [fourth.id]
    assert notice.allowed_mentions["parse"] == []
    assert "2 personnes inscrites" in field(message, "Places")


async def test_old_buttons_work_after_a_restart(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=5)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
    [message] = announcements(fake, chantier_channel(fake, server))
    async with partage(fake, settings) as bot:
        reply = await answered(
            fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice, locale="fr")
        )
        maybe = await answered(
            fake.click(message, f"rsvp:{atelier_id}:peut-etre", user=server.bob, locale="en-US")
        )
        await settle(fake, bot)
        counts = await bot.services.inscriptions.counts(atelier_id)
    assert REGISTERED in reply.content
    assert maybe.content  # answered in the member's language
    assert (counts.inscrits, counts.peut_etre) == (1, 1)
    assert "4 places restantes sur 5" in field(message, "Places")


async def test_meeting_link_only_for_registered_members(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    lien = "https://meet.google.com/abc-defg-hij"
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=1, lien=lien)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        before = await text_of(fake.click(message, f"lien:{atelier_id}", user=server.alice))
        registered = await answered(
            fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice, locale="fr")
        )
        shown = fake.click(message, f"lien:{atelier_id}", user=server.alice, locale="fr")
        shown_text = await text_of(shown)
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.bob))
        waiting = await text_of(
            fake.click(message, f"lien:{atelier_id}", user=server.bob, locale="fr")
        )
        await settle(fake, bot)
    assert lien not in before and "for registered people only" in before
    assert lien in registered.content  # the answer to "oui" gives it too
    assert shown.callbacks[0].ephemeral and lien in shown_text
    assert lien not in waiting and fr("n° 1 sur la liste d'attente") in waiting
    assert all(lien not in m.content for m in fake.channel_messages(message.channel_id))


async def test_rsvp_skips_one_seance_and_autocompletes(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=10)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        found = await fake.autocomplete(
            "rsvp", user=server.alice, channel=server.general, focused="atelier", value="territ"
        ).response()
        assert [c["value"] for c in found.data["choices"]] == [str(atelier_id)]
        seances = await fake.autocomplete(
            "rsvp",
            user=server.alice,
            channel=server.general,
            focused="seance",
            options={"atelier": str(atelier_id), "reponse": "non"},
            locale="fr",
        ).response()
        choices = seances.data["choices"]
        assert [c["name"] for c in choices] == [
            frh("1. mardi 3 décembre 2030 à 13 h 30"),
            frh("2. mardi 10 décembre 2030 à 13 h 30"),
        ]
        # English readers get their own date order: day first for en-GB.
        for locale, first_name in [
            ("en-GB", "1. Tuesday 3 December 2030 at 13:30"),
            ("en-US", "1. Tuesday, December 3, 2030 at 1:30 p.m."),
        ]:
            english = await fake.autocomplete(
                "rsvp",
                user=server.bob,
                channel=server.general,
                focused="seance",
                options={"atelier": str(atelier_id), "reponse": "non"},
                locale=locale,
            ).response()
            assert english.data["choices"][0]["name"] == first_name
        yes = await text_of(
            fake.slash(
                "rsvp",
                user=server.alice,
                channel=server.general,
                options={"atelier": str(atelier_id), "reponse": "oui"},
                locale="fr",
            )
        )
        skip = fake.slash(
            "rsvp",
            user=server.alice,
            channel=server.general,
            options={"atelier": str(atelier_id), "reponse": "non", "seance": choices[1]["value"]},
            locale="fr",
        )
        skipped = await text_of(skip)
        attendance = await bot.services.inscriptions.seance_attendance(atelier_id)
        mine = await text_of(
            fake.slash("mes-inscriptions", user=server.alice, channel=server.general, locale="fr")
        )
        listing = fake.slash("mes-inscriptions", user=server.alice, channel=server.general)
        await listing.response()
        await settle(fake, bot)
    assert REGISTERED in yes
    assert skip.callbacks[0].ephemeral
    assert frh("vous manquerez la séance du mardi 10 décembre 2030 à 13 h 30") in skipped
    first, second = (int(c["value"]) for c in choices)
    assert attendance == {first: 1, second: 0}
    assert mine == ""  # an embed, not text
    embed = listing.callbacks[0].data["embeds"][0]  # type: ignore[index]
    value = embed["fields"][0]["value"]
    assert "you will not attend" in value.splitlines()[2]
