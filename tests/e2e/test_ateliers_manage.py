"""Staff at work: modify, cancel, export the participants, announce again."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from sqlalchemy import select

from db.models import AuditLog
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


def atelier_id_of(text: str) -> int:
    return int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]


async def test_modify_edits_the_announcement_moves_the_events_and_tells_members(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    carol = fake.add_member(server.guild, "carol")
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=1)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.bob, locale="fr"))
        fake.close_dms(carol)
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=carol, locale="fr"))
        old_events = {e.id: e.scheduled_start_time for e in fake.scheduled_events(server.guild)}
        done = await text_of(
            fake.slash(
                "atelier modifier",
                user=server.staff,
                channel=server.general,
                options={
                    "atelier": str(atelier_id),
                    "dates": "4 décembre 2030 9 h 30",
                    "lieu": "Hôtel de ville de Laval",
                    "capacite": 2,
                },
                locale="fr",
            )
        )
        await settle(fake, bot)
    assert "modifié" in done and "3 personnes prévenues" in done
    # The announcement shows the new séance, place and counts.
    seances = field(message, "Séance")
    assert frh("mercredi 4 décembre 2030 à 9 h 30") in seances and "10 déc" not in seances
    assert field(message, "Lieu").startswith("Hôtel de ville de Laval")
    assert "2 personnes inscrites" in field(message, "Places")
    # One event left, moved; the second séance's event deleted.
    [event] = fake.scheduled_events(server.guild)
    assert event.id in old_events and event.scheduled_start_time != old_events[event.id]
    assert event.location == "Hôtel de ville de Laval"
    assert event.name == "Territoire et immigration"
    # Bob got the freed place (DM); alice was told what changed (DM, in English: her locale);
    # carol (DMs closed) was told in the thread, in French, with a ping for her alone.
    [promoted] = fake.dms(server.bob)
    assert "une place s'est libérée" in promoted.content
    [changed] = fake.dms(server.alice)
    assert "Hôtel de ville de Laval" in changed.content and "was changed" in changed.content
    [note] = fake.channel_messages(message.thread_id)
    assert note.mention_user_ids == [carol.id] and "a été modifié" in note.content
    assert fr("n° 1 sur la liste d'attente") in note.content


async def test_cancel_tells_everyone_and_the_buttons_refuse(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=1)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        for member in (server.alice, server.bob):
            await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=member, locale="fr"))
        done = await text_of(
            fake.slash(
                "atelier annuler",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "raison": "Tempête de neige"},
                locale="fr",
            )
        )
        await settle(fake, bot)
        buttons = message.custom_ids()  # a cancelled announcement has no answer buttons
        refused = await answered(
            fake.slash(
                "rsvp",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "reponse": "oui"},
                locale="fr",
            )
        )
        await settle(fake, bot)
        counts = await bot.services.inscriptions.counts(atelier_id)
    assert done == fr("Atelier « Territoire et immigration » annulé. 2 personnes prévenues.")
    for member in (server.alice, server.bob):
        [dm] = fake.dms(member)
        assert "est annulé" in dm.content and "Tempête de neige" in dm.content
        assert dm.mention_everyone is False
    assert buttons == []
    assert fr("est annulé : il n'accepte plus de réponses") in refused.content
    assert (counts.inscrits, counts.attente) == (1, 1)  # nothing recorded
    embed = message.embeds[0]
    assert embed["title"].startswith("ANNULÉ — ")
    assert "Tempête de neige" in embed["description"]
    assert all(e.status == 4 for e in fake.scheduled_events(server.guild))


async def test_participants_csv_opens_in_excel_and_is_audited(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    élodie = fake.add_member(server.guild, "élodie", nick="Élodie Bérubé")
    formula = fake.add_member(server.guild, "formule", nick=' =HYPERLINK("http://x.example")')
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=1)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=élodie))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice))
        await answered(fake.click(message, f"rsvp:{atelier_id}:oui", user=formula))
        seance = (await bot.services.ateliers.get(atelier_id)).seances[1]
        await text_of(
            fake.slash(
                "rsvp",
                user=élodie,
                channel=server.general,
                options={"atelier": str(atelier_id), "reponse": "non", "seance": str(seance.id)},
            )
        )
        handle = fake.slash(
            "atelier participants",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(atelier_id)},
            locale="fr",
        )
        answer = await handle.response()
        await settle(fake, bot)
        async with bot.sessions() as session:
            audits = (
                (await session.execute(select(AuditLog).where(AuditLog.action == "atelier.export")))
                .scalars()
                .all()
            )
    assert answer.ephemeral
    upload, sheet = answer.files
    assert upload.filename == f"atelier-{atelier_id}.csv"
    assert sheet.filename == f"atelier-{atelier_id}.xlsx"
    assert upload.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(upload.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Nom", "Identifiant Discord", "Réponse", "Position en liste d'attente"]
    assert rows[1][0] == "Élodie Bérubé" and rows[1][2] == "inscrit"
    assert rows[1][4] == fr("2030-12-10 13:30 : non")
    assert rows[2][0] == "alice" and rows[2][2:4] == ["liste d'attente", "1"]
    assert rows[3][0] == '\' =HYPERLINK("http://x.example")'  # shown as text, never run
    assert rows[1][1] == str(élodie.id)  # 19 digits: Excel would show 1,57…E+18, hence the .xlsx
    book = openpyxl.load_workbook(io.BytesIO(sheet.data))
    ws = book.active
    assert [c.value for c in ws[1]][:3] == ["Nom", "Identifiant Discord", "Réponse"]
    id_cell = ws.cell(row=2, column=2)
    assert id_cell.value == str(élodie.id) and id_cell.data_type == "s"
    assert id_cell.number_format == "@"
    assert ws.cell(row=4, column=1).value.startswith("'")
    assert ws.freeze_panes == "A2"
    assert [(a.actor_user_id, a.atelier_id) for a in audits] == [(server.staff.id, atelier_id)]


async def test_announce_again_in_the_same_channel_leaves_a_pointer(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=3)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [old] = announcements(fake, chantier_channel(fake, server))
        done = await text_of(
            fake.slash(
                "atelier annoncer",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "salon": chantier_channel(fake, server)},
                locale="fr",
            )
        )
        await settle(fake, bot)
        [new] = announcements(fake, chantier_channel(fake, server))
        reply = await answered(
            fake.click(new, f"rsvp:{atelier_id}:oui", user=server.alice, locale="fr")
        )
        await settle(fake, bot)
    assert done == fr(
        "Annonce de l'atelier « Territoire et immigration » publiée dans "
        f"<#{chantier_channel(fake, server).id}>."
    )
    assert "votre place est réservée" in reply.content
    assert "2 places restantes sur 3" in field(new, "Places")
    assert old.custom_ids() == [] and "publiée de nouveau" in old.embeds[0]["description"]
    assert len(fake.scheduled_events(server.guild)) == 2  # not duplicated
