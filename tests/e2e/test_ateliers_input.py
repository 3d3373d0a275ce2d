"""Refusals: staff commands by members, and every bad input, with nothing saved."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import Server, partage, settings_for, settle
from tests.e2e.test_ateliers_support import (
    DATES,
    announcements,
    answered,
    chantier_channel,
    counts,
    create_atelier,
    text_of,
)
from tests.fakediscord import FakeDiscord, Upload
from tests.french import fr

STAFF_ONLY = "Cette commande est réservée à l'équipe d'animation."
#: The commands a co-host of the atelier may use too (bot/cohosts.py) say so.
STAFF_OR_COHOST = "Réservé à l'équipe d'animation et aux personnes qui coaniment cet atelier."
COHOST_COMMANDS = {"atelier modifier", "atelier participants"}


def atelier_id_of(text: str) -> int:
    return int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]


async def test_members_are_refused_every_staff_command(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server)
        atelier = str(atelier_id_of(text))
        await settle(fake, bot)
        before, messages = await counts(bot), len(fake.messages)
        attempts: list[tuple[str, dict[str, Any]]] = [
            ("atelier creer", {"titre": "X", "chantier": "gouvernance", "dates": DATES}),
            ("atelier modifier", {"atelier": atelier, "titre": "Piraté"}),
            ("atelier annuler", {"atelier": atelier}),
            ("atelier participants", {"atelier": atelier}),
            ("atelier annoncer", {"atelier": atelier, "salon": server.general}),
            ("programme importer", {"fichier": Upload("p.csv", b"titre;dates\nA;5 dec 2030\n")}),
        ]
        for command, options in attempts:
            handle = fake.slash(
                command, user=server.alice, channel=server.general, options=options, locale="fr"
            )
            answer = await handle.response()
            assert answer.ephemeral, command
            refusal = STAFF_OR_COHOST if command in COHOST_COMMANDS else STAFF_ONLY
            assert answer.data["content"] == refusal, command  # type: ignore[index]
        await settle(fake, bot)
        assert await counts(bot) == before
    assert len(fake.messages) == messages + len(attempts)  # the ephemeral refusals only


CREATE_ERRORS = [
    ({"dates": "3 machin 2030 13 h"}, "La date « 3 machin 2030 13 h » est illisible."),
    (
        {"dates": "5 décembre 2030 10 h ; 1er janvier 2020 10 h"},
        "La séance « 1er janvier 2020 10 h » est dans le passé.",
    ),
    ({"duree": 5}, "La durée doit être entre 15 et 720 minutes (reçu : 5)."),
    ({"duree": 0}, "La durée doit être entre 15 et 720 minutes (reçu : 0)."),
    ({"capacite": 0}, "La capacité doit être entre 1 et 10\u00a0000 (reçu : 0)."),
    ({"titre": "T" * 201}, "Le titre dépasse 200 caractères (201)."),
    ({"description": "d" * 2001}, "La description dépasse 2000 caractères (2001)."),
    ({"lieu": "L" * 201}, "Le lieu dépasse 200 caractères (201)."),
    ({"lien": "zoom"}, "Le lien « zoom » n'est pas une adresse web (https://…)."),
    ({"chantier": "inexistant"}, "Le chantier « inexistant » n'existe pas."),
    (
        {"dates": "3 décembre 3000 13 h 30"},
        "La séance « 3 décembre 3000 13 h 30 » est trop loin : une séance se planifie au plus "
        "10 ans à l'avance, jusqu'au ",
    ),
    (
        {"titre": "Réunion @everyone"},
        "« `@everyone` » s'afficherait comme une mention : écrivez le nom en toutes lettres",
    ),
    (
        {"lieu": "[Zoom officiel](http://evil.example)"},
        "« `[Zoom officiel](http://evil.example)` » est un lien masqué, qui cache son adresse",
    ),
    (
        {"dates": "31 décembre 9999 23 h 30"},
        "La séance « 31 décembre 9999 23 h 30 » est trop loin",
    ),
]


@pytest.mark.parametrize(("options", "message"), CREATE_ERRORS)
async def test_bad_creations_are_refused_and_nothing_is_saved(
    fake_discord: FakeDiscord, server: Server, settings, options: dict[str, Any], message: str
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        before, posted = await counts(bot), len(fake.messages)
        handle, text = await create_atelier(fake, server, **options)
        await settle(fake, bot)
        after = await counts(bot)
    assert handle.callbacks[0].ephemeral
    assert text.startswith(fr(message)), text
    assert after == before
    assert len(fake.messages) == posted + 1  # the refusal itself
    assert fake.scheduled_events(server.guild) == []


async def test_the_default_horizon_is_three_years_and_written_as_a_date(
    fake_discord: FakeDiscord, server: Server, db_url: str
) -> None:
    fake = fake_discord
    settings = settings_for(fake, server, db_url, time={"horizon_years": 3})
    async with partage(fake, settings) as bot:
        today = bot.clock.now().astimezone(ZoneInfo(bot.zone)).date()
        far = today.replace(year=today.year + 3) + timedelta(days=7)
        near = today + timedelta(days=30)
        before = await counts(bot)
        _, refused = await create_atelier(fake, server, dates=f"{far:%Y-%m-%d} 13:30")
        assert await counts(bot) == before
        _, accepted = await create_atelier(fake, server, dates=f"{near:%Y-%m-%d} 13:30")
        await settle(fake, bot)
        after = await counts(bot)
    assert (
        fr("est trop loin : une séance se planifie au plus 3 ans à l'avance, jusqu'au") in refused
    )
    assert re.search(r"jusqu'au \d{1,2}(er)? \w+ \d{4}\.$", refused), refused
    assert "n°" in accepted
    assert after["atelier"] == before["atelier"] + 1


async def test_bad_changes_and_unknown_ateliers_are_refused(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=5)
        atelier = str(atelier_id_of(text))
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        for member in (server.alice, server.bob):
            await answered(fake.click(message, f"rsvp:{atelier}:oui", user=member))
        await settle(fake, bot)
        before, edits = await counts(bot), message.edits

        async def staff(command: str, **options: Any) -> str:
            return await text_of(
                fake.slash(
                    command, user=server.staff, channel=server.general, options=options, locale="fr"
                )
            )

        refusals = {
            "below registered": await staff("atelier modifier", atelier=atelier, capacite=1),
            "past date": await staff("atelier modifier", atelier=atelier, dates="2 mars 2021 9 h"),
            "duration": await staff("atelier modifier", atelier=atelier, duree=721),
            "nothing": await staff("atelier modifier", atelier=atelier),
            "unknown id": await staff("atelier modifier", atelier="987654", titre="Nouveau"),
            "not an id": await staff("atelier annuler", atelier="Territoire"),
            "reason": await staff("atelier annuler", atelier=atelier, raison="r" * 501),
            "export": await staff("atelier participants", atelier="987654"),
            "rsvp": await text_of(
                fake.slash(
                    "rsvp",
                    user=server.alice,
                    channel=server.general,
                    options={"atelier": "987654", "reponse": "oui"},
                    locale="fr",
                )
            ),
            "seance": await text_of(
                fake.slash(
                    "rsvp",
                    user=server.alice,
                    channel=server.general,
                    options={"atelier": atelier, "reponse": "non", "seance": "12345"},
                    locale="fr",
                )
            ),
        }
        await settle(fake, bot)
        assert await counts(bot) == before
    assert refusals == {
        "below registered": "La capacité (1) est inférieure au nombre d'inscrits (2).",
        "past date": fr("La séance « 2 mars 2021 9 h » est dans le passé."),
        "duration": fr("La durée doit être entre 15 et 720 minutes (reçu : 721)."),
        "nothing": fr("Rien à modifier : donnez au moins une option."),
        "unknown id": fr("Atelier n° 987654 introuvable."),
        "not an id": fr("« Territoire » n'est pas un atelier : choisissez-en un dans la liste."),
        "reason": "La raison dépasse 500 caractères (501).",
        "export": fr("Atelier n° 987654 introuvable."),
        "rsvp": fr("Atelier n° 987654 introuvable."),
        "seance": fr("Séance n° 12345 introuvable pour cet atelier."),
    }
    assert message.edits == edits


async def test_bad_programme_files_are_refused_whole(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        before = await counts(bot)
        texts = []
        for upload in (
            Upload("programme.xlsx", b"PK\x03\x04"),
            Upload("programme.csv", b"titre;dates\n" + b"x" * (1024 * 1024 + 10)),
            Upload("programme.toml", b"[[ateliers]\ntitre = "),
        ):
            texts.append(
                await text_of(
                    fake.slash(
                        "programme importer",
                        user=server.staff,
                        channel=server.general,
                        options={"fichier": upload},
                        locale="fr",
                    )
                )
            )
        await settle(fake, bot)
        assert await counts(bot) == before
    assert texts[0] == (
        fr("Le fichier « programme.xlsx » n'est ni un CSV ni un TOML (extension .csv ou .toml).")
    )
    assert texts[1] == fr(
        "Le fichier « programme.csv » est trop gros : 1025 Kio, au plus 1024 Kio."
    )
    assert texts[2].startswith(fr("Le fichier TOML « programme.toml » est mal formé"))


async def test_import_reports_each_bad_row_and_imports_the_rest(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    csv_text = (
        "titre;dates;chantier;capacite\n"
        "Accueillir les familles;5 décembre 2030 10 h;gouvernance;20\n"
        "Date illisible;32 décembre 2030;gouvernance;\n"
        "Atelier passé;1 janvier 2020 10 h;gouvernance;\n"
        "Chantier inconnu;6 décembre 2030 10 h;inexistant;\n"
        "Capacité fausse;6 décembre 2030 10 h;gouvernance;beaucoup\n"
        "Sans chantier;7 décembre 2030 14 h;;\n"
    )
    async with partage(fake, settings) as bot:
        before = await counts(bot)
        report = await text_of(
            fake.slash(
                "programme importer",
                user=server.staff,
                channel=server.general,
                options={"fichier": Upload("programme.csv", csv_text.encode("utf-8-sig"))},
                locale="fr",
            )
        )
        await settle(fake, bot)
        after = await counts(bot)
    lines = report.splitlines()
    assert lines[0] == fr("programme.csv : 2 créé(s), 0 déjà importé(s), 4 refusé(s).")
    assert lines[1].startswith(fr("- ligne 3 « Date illisible » : La date « 32 décembre 2030 »"))
    assert lines[2] == (
        fr("- ligne 4 « Atelier passé » : La séance « 1 janvier 2020 10 h » est dans le passé.")
    )
    assert lines[3].startswith(
        fr("- ligne 5 « Chantier inconnu » : Chantier inconnu « inexistant »")
    )
    assert lines[4].startswith(fr("- ligne 6 « Capacité fausse » : La valeur « beaucoup »"))
    assert after["atelier"] == before["atelier"] + 2
    # The one with a chantier is announced in its channel; both get their scheduled event.
    [announced] = announcements(fake, chantier_channel(fake, server))
    assert announced.embeds[0]["title"] == "Accueillir les familles"
    names = sorted(e.name for e in fake.scheduled_events(server.guild))
    assert names == ["Accueillir les familles", "Sans chantier"]


async def test_a_time_range_and_a_relative_day_from_the_command(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, dates="jeudi prochain de 13 h 30 à 15 h 45")
        await settle(fake, bot)
        info = await bot.services.ateliers.get(atelier_id_of(text))
        today = bot.clock.now().astimezone(ZoneInfo(bot.zone)).date()
    [seance] = info.seances
    assert seance.local_date.weekday() == 3 and 0 < (seance.local_date - today).days <= 7
    assert seance.ends_at is not None
    assert seance.ends_at - seance.starts_at == timedelta(minutes=135)
    assert info.duree_minutes == 135  # the range gave the duration
