"""Attendance end to end: the real bot posts « Je suis là » in the atelier's thread when a
séance starts; members click it; staff tick the checklist of /atelier presences and add a
walk-in; a member is refused the command; attendance shows in the participants CSV and in
/mes-donnees."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from cogs.ateliers.service import AtelierDraft
from tests.e2e.harness import Server, partage, settings_for, settle
from tests.e2e.test_ateliers_support import announcements, chantier_channel
from tests.e2e.test_reminders import seance_at
from tests.fakediscord import FakeDiscord
from tests.french import fr


def _has_button(messages, custom_id: str):
    return next((m for m in messages if custom_id in m.custom_ids()), None)


async def test_attendance_from_the_thread_button_to_the_checklist_and_exports(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    carole = fake.add_member(server.guild, "carole")
    settings = settings_for(fake, server, db_url, reminders={"offsets": ["1d"], "digest": ""})
    async with partage(fake, settings) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None
        start = (bot.clock.now() + timedelta(seconds=4)).replace(microsecond=0)
        info = await bot.services.ateliers.create(
            server.guild.id,
            AtelierDraft(
                titre="Gestion des actifs",
                seances=[seance_at(start, minutes=30)],
                chantier_id=chantier.id,
                capacite=10,
            ),
            channel_id=chantier.channel_id,
        )
        seance_id = info.seances[0].id
        await settle(fake, bot)
        [announcement] = announcements(fake, chantier_channel(fake, server))
        registered = fake.click(announcement, f"rsvp:{info.id}:oui", user=server.alice, locale="fr")
        await registered.wait_answer()
        thread_id = announcement.thread_id
        assert thread_id is not None

        # At the start, the button appears in the thread, once.
        custom_id = f"presence:{seance_id}"
        await fake.wait_until(
            lambda: _has_button(fake.channel_messages(thread_id), custom_id), timeout=15
        )
        await settle(fake, bot)
        posts = [m for m in fake.channel_messages(thread_id) if custom_id in m.custom_ids()]
        assert len(posts) == 1
        assert "dites que vous êtes là" in posts[0].content

        here = await fake.click(posts[0], custom_id, user=server.alice, locale="fr").wait_answer()
        assert here.ephemeral and fr("Présence notée pour « Gestion des actifs »") in here.content
        again = await fake.click(posts[0], custom_id, user=server.alice, locale="fr").wait_answer()
        assert "était déjà notée" in again.content
        walk_in = await fake.click(
            posts[0], custom_id, user=server.bob, locale="en-US"
        ).wait_answer()
        assert "without registering" in walk_in.content

        # A member may not open the checklist.
        refused = await fake.slash(
            "atelier presences",
            user=server.alice,
            channel=server.general,
            options={"atelier": str(info.id)},
            locale="fr",
        ).wait_answer()
        assert "Réservé à l'équipe d'animation" in refused.content

        # Staff open it: Alice (registered, here) then Bob (came without registering).
        handle = fake.slash(
            "atelier presences",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(info.id)},
            locale="fr",
        )
        checklist = await handle.wait_answer()
        assert checklist.ephemeral
        description = checklist.embeds[0]["description"]
        assert "2 présences notées" in description and "1 personne attendue" in description
        assert "✅ alice" in description and "✅ bob (sans inscription)" in description
        select_id = f"presences:{seance_id}:0"
        options = checklist.find_component(select_id)["options"]
        assert [o.get("default", False) for o in options] == [True, True]
        alice_value = options[0]["value"]

        # Staff untick Bob, then add Carole, who came without registering.
        ticked = fake.select(checklist, select_id, [alice_value], user=server.staff, locale="fr")
        assert (await ticked.response()).type == 7
        edited = handle.message
        assert "1 présence notée" in edited.embeds[0]["description"]
        added = fake.select(
            edited, f"presences:{seance_id}:ajout", [carole], user=server.staff, locale="fr"
        )
        assert (await added.response()).type == 7
        description = handle.message.embeds[0]["description"]
        assert "2 présences notées" in description and "✅ carole (sans inscription)" in description

        # The participants CSV has the attendance column.
        export = fake.slash(
            "atelier participants",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(info.id)},
            locale="fr",
        )
        answer = await export.wait_answer()
        data = next(a.data for a in answer.attachments if a.filename.endswith(".csv"))
        header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
        column = header.index("Présences")
        by_name = {r[0]: r for r in rows}
        local = info.seances[0].starts_at.astimezone(ZoneInfo("America/Toronto"))
        assert by_name["alice"][column] == by_name["carole"][column] == f"{local:%Y-%m-%d %H:%M}"
        assert by_name["carole"][header.index("Réponse")] == "venu·e sans inscription"
        assert "bob" not in by_name  # unticked, and never registered

        # /mes-donnees: Alice's attendance is in her data.
        mine = fake.slash("mes-donnees", user=server.alice, channel=server.general, locale="fr")
        (data_answer,) = await mine.wait_followups(1)
        files = {a.filename.rsplit(".", 1)[1]: a.data for a in data_answer.attachments}
        tables = json.loads(files["json"].decode())["tables"]
        assert [r["seance_id"] for r in tables["presence"]] == [seance_id]
        assert fr("Vos présences aux séances (1)") in files["txt"].decode("utf-8-sig")
