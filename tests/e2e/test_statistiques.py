"""/statistiques on the fake Discord: staff only, aggregated figures, the chart attached."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import load_workbook

from bot.clock import ManualClock
from cogs.ateliers.service import AtelierDraft
from db.models import Reponse
from tests.cogs.helpers import seance
from tests.e2e.harness import Server, partage
from tests.e2e.membres_world import give_profile
from tests.fakediscord import FakeDiscord
from tests.french import fr

CHART_COPY = Path("/tmp/partage_statistiques_e2e.png")
TOWNS = [
    ("Montréal", "06"),
    ("Montréal", "06"),
    ("Laval", "13"),
    ("Gatineau", "07"),
    ("Sherbrooke", "05"),
    ("Saint-Jérôme", "15"),
    (None, None),
]


async def test_staff_get_figures_and_a_chart(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    members = [fake.add_member(guild, f"zorglub{i}") for i in range(len(TOWNS))]
    clock = ManualClock(datetime(2026, 9, 1, 12, tzinfo=UTC))
    async with partage(fake, settings, clock=clock) as bot:
        for member, (town, region) in zip(members, TOWNS, strict=True):
            if town is not None:  # the last one registers without ever giving a profile
                await give_profile(bot, guild, member, municipalite=town, region=region)
        ateliers, rsvp = bot.services.ateliers, bot.services.inscriptions
        fall = await ateliers.create(
            guild.id,
            AtelierDraft(titre="Accueil", seances=[seance(date(2026, 10, 1))], capacite=10),
        )
        winter = await ateliers.create(
            guild.id,
            AtelierDraft(titre="Logement", seances=[seance(date(2026, 11, 5))], capacite=10),
        )
        for member in members:
            await rsvp.answer(guild.id, fall.id, member.user.id, Reponse.OUI)
        for member in members[:3]:
            await rsvp.answer(guild.id, winter.id, member.user.id, Reponse.OUI)
        clock.set(datetime(2026, 12, 1, 12, tzinfo=UTC))

        refused = await fake.slash(
            "statistiques", user=server.alice, channel=server.general, locale="fr"
        ).response()
        assert refused.data["content"] == "Cette commande est réservée à l'équipe d'animation."

        bad = await fake.slash(
            "statistiques",
            user=server.staff,
            channel=server.general,
            options={"debut": "31 février 2026"},
            locale="fr",
        ).response()
        assert bad.ephemeral and "31 février" in bad.data["content"]

        handle = fake.slash(
            "statistiques",
            user=server.staff,
            channel=server.general,
            options={"debut": "2026-09-01", "fin": "30 novembre 2026", "fichier": "xlsx"},
            locale="fr",
        )
        (answer,) = await handle.wait_followups(1)
    assert answer.ephemeral
    (embed,) = answer.embeds
    assert embed["title"] == "Participation à l'Opération Partage"
    assert embed["description"] == "Du 1er septembre 2026 au 30 novembre 2026"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Ateliers"] == "2 ateliers tenus, 2 séances"
    assert fields["Inscriptions"] == "10 inscriptions, 7 personnes différentes"
    assert fr("Montréal : 4") in fields["Inscriptions par municipalité"]
    # A cell of fewer than 3 members is « < 3 » (one member of a region would be recognised).
    assert fr("Non précisé : <\u00a03") in fields["Inscriptions par région"]
    assert fr("Non précisé : 1") not in fields["Inscriptions par région"]
    assert fields["Ateliers comptés"] == fr("Accueil (1er oct. 2026)\nLogement (5 nov. 2026)")
    assert fr("Taux de présence : —") in fields["Présences"]
    assert "< 3" in embed["footer"]["text"].replace("\u00a0", " ")
    assert fields["Membres"] == "7 membres, dont 6 avec un profil"
    assert "zorglub" not in str(embed)  # no names, only aggregates
    chart, workbook = answer.attachments
    assert workbook.filename == "partage-statistiques.xlsx"
    sheets = load_workbook(io.BytesIO(workbook.data)).sheetnames
    assert sheets[0] == "Résumé" and "Ateliers comptés" in sheets
    assert chart.filename == "partage-statistiques.png"
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.data) > 10_000
    assert embed["image"]["url"] == "attachment://partage-statistiques.png"
    await asyncio.to_thread(CHART_COPY.write_bytes, chart.data)
