"""Calendars and the web agenda, end to end: the real bot against the fake Discord, its web
server fetched over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp

from bot.core import PartageBot
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import (
    announcements,
    answered,
    chantier_channel,
    create_atelier,
    text_of,
)
from tests.fakediscord import FakeDiscord, Upload
from tests.icsrules import events, problems

LIEN = "https://meet.example.org/territoire"
DOMAIN = "partage.example.org"


def base(bot: PartageBot) -> str:
    assert bot.web is not None and bot.web.port is not None
    return f"http://127.0.0.1:{bot.web.port}"


async def get(
    bot: PartageBot, path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(base(bot) + path, headers=headers or {}) as response,
    ):
        return response.status, await response.read(), response.headers


def atelier_id_of(text: str) -> int:
    return int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]


def feed_url_of(text: str) -> str:
    return re.search(r"<(https?://[^>]+?\.ics(?:\?lang=en)?)>", text).group(1)  # type: ignore[union-attr]


def by_start(data: bytes) -> list[tuple[str, str, str, str]]:
    """(UID, DTSTART in UTC, SEQUENCE, STATUS) of every event, by start."""
    out = []
    for uid, event in events(data).items():
        out.append(
            (
                uid,
                event.dtstart.value.astimezone().isoformat(),
                event.sequence.value,
                event.status.value,
            )
        )
    return sorted(out, key=lambda e: e[1])


async def test_agenda_pages_and_feeds_follow_an_atelier_through_its_changes(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    settings = settings.model_copy(
        update={"web": settings.web.model_copy(update={"base_url": f"https://{DOMAIN}"})}
    )
    async with partage(fake, settings) as bot:
        _, created = await create_atelier(fake, server, lien=LIEN, capacite=10)
        atelier_id = atelier_id_of(created)
        await settle(fake, bot)

        # The agenda, the atelier's page: its title and places, never the meeting link.
        status, body, _ = await get(bot, "/")
        page = body.decode()
        assert status == 200 and "Territoire et immigration" in page
        assert f'href="/ateliers/{atelier_id}"' in page and LIEN not in page
        status, body, headers = await get(bot, f"/ateliers/{atelier_id}")
        page = body.decode()
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        shown = page.replace("\u00a0", " ").replace("\u202f", " ")
        assert "10 places restantes sur 10" in shown
        assert "mardi 3 décembre 2030 à 13 h 30" in shown and LIEN not in page
        status, body, _ = await get(bot, f"/ateliers/{atelier_id}?lang=en")
        assert status == 200 and "December 3, 2030 at 1:30\u00a0p.m." in body.decode()

        # Its file and the chantier's feed: two séances, the same UIDs, SEQUENCE 0.
        status, one, headers = await get(bot, f"/ateliers/{atelier_id}.ics")
        assert status == 200 and headers["Content-Type"].startswith("text/calendar")
        assert problems(one) == []
        first = by_start(one)
        assert [(uid, seq, st) for uid, _, seq, st in first] == [
            (uid, "0", "CONFIRMED") for uid, *_ in first
        ]
        assert len(first) == 2 and all(uid.endswith(f"-{atelier_id}@{DOMAIN}") for uid, *_ in first)
        assert LIEN.encode() not in one
        status, feed, headers = await get(bot, "/chantiers/gouvernance.ics")
        assert status == 200 and problems(feed) == [] and by_start(feed) == first
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        status, body, _ = await get(bot, "/chantiers/gouvernance.ics", {"If-None-Match": etag})
        assert status == 304 and body == b""
        status, _, _ = await get(
            bot, "/chantiers/gouvernance.ics", {"If-Modified-Since": last_modified}
        )
        assert status == 304

        # Alice takes a place; her private feed has it, with the link; Bob's is empty.
        [message] = announcements(fake, chantier_channel(fake, server))
        confirmation = await answered(
            fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice)
        )
        # « Ajouter à mon calendrier »: the confirmation carries the atelier's file, with the link.
        [attached] = confirmation.attachments
        assert attached.filename == f"atelier-{atelier_id}.ics" and problems(attached.data) == []
        assert [e[0] for e in by_start(attached.data)] == [e[0] for e in first]
        assert LIEN in next(iter(events(attached.data).values())).description.value
        alice_text = await text_of(
            fake.slash("calendrier", user=server.alice, channel=server.general, locale="fr")
        )
        assert "Outlook" in alice_text and "Google" in alice_text and "Apple" in alice_text
        alice_url = feed_url_of(alice_text)
        assert alice_url.startswith(f"https://{DOMAIN}/calendrier/")
        alice_path = alice_url.removeprefix(f"https://{DOMAIN}")
        bob_text = await text_of(
            fake.slash("calendrier", user=server.bob, channel=server.general, locale="en-GB")
        )
        assert "Subscribe" in bob_text or "subscribe" in bob_text
        bob_path = feed_url_of(bob_text).removeprefix(f"https://{DOMAIN}")
        status, private, headers = await get(bot, alice_path)
        assert status == 200 and problems(private) == []
        assert [e[0] for e in by_start(private)] == [e[0] for e in first]
        assert LIEN in next(iter(events(private).values())).description.value
        assert "private" in headers["Cache-Control"]
        assert bob_path.endswith(".ics?lang=en")  # his feed speaks his language
        status, bobs, _ = await get(bot, bob_path)
        assert status == 200 and problems(bobs) == [] and events(bobs) == {}
        # Asking again does not show the address again (only its hash is kept).
        again = await text_of(
            fake.slash("calendrier", user=server.alice, channel=server.general, locale="fr")
        )
        assert alice_path not in again and "renouveler" in again

        # New dates: the same UIDs, a higher SEQUENCE; the old ETag no longer matches.
        done = await text_of(
            fake.slash(
                "atelier modifier",
                user=server.staff,
                channel=server.general,
                options={
                    "atelier": str(atelier_id),
                    "dates": "4 décembre 2030 9 h 30 ; 11 décembre 2030 9 h 30",
                },
                locale="fr",
            )
        )
        assert "modifié" in done
        await settle(fake, bot)
        status, feed, _ = await get(bot, "/chantiers/gouvernance.ics", {"If-None-Match": etag})
        assert status == 200 and problems(feed) == []
        moved = by_start(feed)
        assert [e[0] for e in moved] == [e[0] for e in first]
        assert [e[2] for e in moved] == ["1", "1"] and [e[1] for e in moved] != [
            e[1] for e in first
        ]
        assert events(feed)[moved[0][0]].dtstart.value.hour == 9

        # One séance left: the removed one stays, cancelled, under its UID.
        await text_of(
            fake.slash(
                "atelier modifier",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "dates": "4 décembre 2030 9 h 30"},
                locale="fr",
            )
        )
        await settle(fake, bot)
        status, one, _ = await get(bot, f"/ateliers/{atelier_id}.ics")
        assert problems(one) == []
        assert [(e[0], e[2], e[3]) for e in by_start(one)] == [
            (first[0][0], "2", "CONFIRMED"),
            (first[1][0], "2", "CANCELLED"),
        ]

        # Cancelled: every séance stays, STATUS:CANCELLED, in every feed.
        await text_of(
            fake.slash(
                "atelier annuler",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "raison": "Tempête"},
                locale="fr",
            )
        )
        await settle(fake, bot)
        for path in (f"/ateliers/{atelier_id}.ics", "/chantiers/gouvernance.ics", alice_path):
            status, data, _ = await get(bot, path)
            assert status == 200 and problems(data) == [], path
            assert {e[3] for e in by_start(data)} == {"CANCELLED"}, path
            assert {e[2] for e in by_start(data)} == {"3"}, path
        status, body, _ = await get(bot, f"/ateliers/{atelier_id}")
        assert "Tempête" in body.decode()

        # A new address: the old one stops working.
        renewed = await text_of(
            fake.slash(
                "calendrier",
                user=server.alice,
                channel=server.general,
                options={"renouveler": True},
                locale="fr",
            )
        )
        new_path = feed_url_of(renewed).removeprefix(f"https://{DOMAIN}")
        assert new_path != alice_path
        assert (await get(bot, alice_path))[0] == 404
        assert (await get(bot, new_path))[0] == 200

        # Unknown ids and tokens: a bare 404.
        for path in (
            "/ateliers/999999",
            "/ateliers/999999.ics",
            "/chantiers/inconnu",
            "/chantiers/inconnu.ics",
            "/calendrier/" + "x" * 43 + ".ics",
            f"/s/{server.guild.id + 1}/ateliers/{atelier_id}",
        ):
            status, body, _ = await get(bot, path)
            assert (status, body) == (404, b"404"), path
        # The same pages under /s/<guild id>/.
        status, body, _ = await get(bot, f"/s/{server.guild.id}/ateliers/{atelier_id}")
        assert status == 200 and f'href="/s/{server.guild.id}/' in body.decode()

        # Health: the gateway, the database and the scheduler.
        status, body, headers = await get(bot, "/sante")
        report = json.loads(body)
        assert status == 200 and report["status"] == "ok"
        assert report["gateway"]["ok"] and report["database"]["ok"] and report["scheduler"]["ok"]


async def test_a_title_with_script_and_quotes_is_inert_everywhere(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    titre = 'Atelier <script>alert("x")</script> l\'accueil & "vous"'
    description = "<img src=x onerror=alert(1)> ; virgule, \\ barre"
    async with partage(fake, settings) as bot:
        _, created = await create_atelier(
            fake, server, titre=titre, description=description, lieu="<b>Laval</b>"
        )
        atelier_id = atelier_id_of(created)
        await settle(fake, bot)
        for path in ("/", f"/ateliers/{atelier_id}", "/chantiers/gouvernance", "/?lang=en"):
            status, body, _ = await get(bot, path)
            page = body.decode()
            assert status == 200, path
            assert "<script>alert" not in page and "<img src=x" not in page, path
            assert "<b>Laval" not in page, path
            assert "&lt;script&gt;alert(" in page, path
        status, body, _ = await get(bot, f"/ateliers/{atelier_id}")
        assert "&#34;vous&#34;" in body.decode() or "&quot;vous&quot;" in body.decode()
        for path in (f"/ateliers/{atelier_id}.ics", "/chantiers/gouvernance.ics"):
            status, data, _ = await get(bot, path)
            assert status == 200 and problems(data) == [], path
            found = [e for e in events(data).values() if e.summary.value == titre]
            assert len(found) == 2, path  # two séances, the title read back as written
            for event in found:
                assert description in event.description.value
                assert event.location.value == "<b>Laval</b>"


async def test_the_promotion_message_carries_the_atelier_file(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, created = await create_atelier(fake, server, lien=LIEN, capacite=1)
        atelier_id = atelier_id_of(created)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice))
        waiting = await answered(
            fake.click(message, f"rsvp:{atelier_id}:oui", user=server.bob, locale="en-US")
        )
        assert waiting.attachments == []  # no place, no file
        await answered(fake.click(message, f"rsvp:{atelier_id}:non", user=server.alice))
        await settle(fake, bot)
    [promoted] = fake.dms(server.bob)
    [attached] = promoted.attachments
    assert attached.filename == f"atelier-{atelier_id}.ics" and problems(attached.data) == []
    [first, _second] = sorted(events(attached.data).values(), key=lambda e: e.dtstart.value)
    assert LIEN in first.description.value and "Session 1 of 2" in first.description.value


async def test_the_site_keeps_answering_while_the_bot_reconnects(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        await create_atelier(fake, server)
        await settle(fake, bot)
        assert (await get(bot, "/sante"))[0] == 200
        [session] = fake.gateway.live_sessions
        await fake.gateway.drop(session)  # a network failure: discord.py reconnects
        statuses = set()
        for _ in range(20):
            status, body, _ = await get(bot, "/")
            assert status == 200 and b"Territoire et immigration" in body
            statuses.add((await get(bot, "/sante"))[0])
        await fake.gateway.wait_for_sessions(1)
        await settle(fake, bot)
        assert statuses <= {200, 503}
        status, body, _ = await get(bot, "/sante")
        assert status == 200 and json.loads(body)["gateway"]["connected"] is True


async def test_without_the_site_the_bot_runs_and_calendrier_says_so(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    settings = settings.model_copy(
        update={"web": settings.web.model_copy(update={"enabled": False})}
    )
    async with partage(fake, settings) as bot:
        assert bot.web is None
        answer = await text_of(
            fake.slash("calendrier", user=server.alice, channel=server.general, locale="fr")
        )
        assert "pas activés" in answer and "web.enabled" in answer


async def test_the_atelier_page_lists_its_documents(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    """The library's documents on the atelier's page: a link as given, a file by its Discord
    message's jump URL; titles escaped; another atelier's documents not there."""
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, created = await create_atelier(fake, server)
        atelier_id = atelier_id_of(created)
        _, other = await create_atelier(
            fake, server, titre="Logement", dates="17 décembre 2030 13 h 30"
        )
        other_id = atelier_id_of(other)
        await settle(fake, bot)
        status, body, _ = await get(bot, f"/ateliers/{atelier_id}")
        assert status == 200 and "Documents de l" not in body.decode()

        def attach(atelier: int, titre: str, **options: Any) -> Any:
            return fake.slash(
                "atelier documents",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier), "titre": titre, **options},
                locale="fr",
            )

        titre = 'Guide <script>alert("x")</script> & "accueil"'
        assert "ajouté à l'atelier" in await text_of(
            attach(atelier_id, titre, lien="https://example.org/guide.pdf?a=1&b=2")
        )
        assert "ajouté à l'atelier" in await text_of(
            attach(
                atelier_id,
                "Synthèse des échanges",
                fichier=Upload("synthese.pdf", b"%PDF-1.4 synthese", "application/pdf"),
            )
        )
        assert "ajouté à l'atelier" in await text_of(
            attach(other_id, "Autre atelier", lien="https://example.org/autre.pdf")
        )
        await settle(fake, bot)
        info = await bot.services.ateliers.get(atelier_id)
        assert info.thread_id is not None
        (filed,) = [
            m
            for m in fake.channel_messages(fake.channel(info.thread_id))
            if m.attachments and m.attachments[0].filename == "synthese.pdf"
        ]

        status, body, _ = await get(bot, f"/ateliers/{atelier_id}")
        page = body.decode()
        assert status == 200
        assert "Documents de l" in page
        assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
        assert 'href="https://example.org/guide.pdf?a=1&amp;b=2"' in page
        jump = f"https://discord.com/channels/{server.guild.id}/{info.thread_id}/{filed.id}"
        assert f'href="{jump}"' in page and "Synthèse des échanges" in page
        assert page.index("Guide") < page.index("Synthèse des échanges")  # oldest first
        assert "Autre atelier" not in page and "autre.pdf" not in page
        status, body, _ = await get(bot, f"/ateliers/{other_id}?lang=en")
        assert status == 200 and "https://example.org/autre.pdf" in body.decode()
        assert "guide.pdf" not in body.decode()


async def test_a_burst_of_confirmations_reads_and_renders_the_atelier_file_once(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    """Each confirmation carries the atelier's file: for the same atelier version it is made
    once (not read and rendered per answer); a change makes a new one at once."""
    fake = fake_discord
    carol = fake.add_member(server.guild, "carol")
    async with partage(fake, settings) as bot:
        _, created = await create_atelier(fake, server, lien=LIEN, capacite=5)
        atelier_id = atelier_id_of(created)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        reads: list[int] = []
        read = bot.services.calendrier.atelier

        async def counted(*args: Any, **kwargs: Any) -> Any:
            reads.append(1)
            return await read(*args, **kwargs)

        bot.services.calendrier.atelier = counted  # type: ignore[method-assign]
        first = await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice))
        second = await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.bob))
        assert len(reads) == 1
        assert first.attachments[0].data == second.attachments[0].data
        changed = await text_of(
            fake.slash(
                "atelier modifier",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "lieu": "Salle du conseil"},
                locale="fr",
            )
        )
        assert "modifié" in changed, changed
        third = await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=carol))
        assert len(reads) == 2
        # The confirmations of one batch ask at the same moment: they wait for one making.
        cog = bot.get_cog("CalendrierCog")
        version = (await bot.services.calendrier.atelier(server.guild.id, atelier_id)).version
        reads.clear()
        files = await asyncio.gather(
            *(
                cog.atelier_file(server.guild.id, atelier_id, "fr", lien=True, version=version)
                for _ in range(4)
            )
        )
        assert len(reads) == 1  # in French: not made yet for this version (clicks are in English)
        assert len({f.fp.read() for f in files}) == 1
    [attached] = third.attachments
    assert problems(attached.data) == [] and b"Salle du conseil" in attached.data
    assert {str(e.sequence.value) for e in events(attached.data).values()} == {"1"}
