"""Staff operations (issue 12, items 1–4 and 10), end to end: the real bot against the fake
Discord."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from cogs.ateliers.calendar_checks import holiday_name
from db.models import EtatInscription
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import (
    announcements,
    answered,
    chantier_channel,
    counts,
    create_atelier,
    field,
    text_of,
)
from tests.fakediscord import FakeDiscord
from tests.french import fr, frh

MANAGE_EVENTS = 1 << 33
MOIS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
MONTREAL = ZoneInfo("America/Toronto")


def in_days(days: int, hour: int) -> tuple[datetime, str]:
    """A wall-clock time in Montréal ``days`` from now, and as staff would type it (tests
    that move the bot's clock stay close to the real one: a jump of years would wake every
    daily and weekly job in between)."""
    local = (datetime.now(MONTREAL) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    while holiday_name(local.date()) is not None:  # no holiday warning in these tests
        local = (local + timedelta(days=1)).replace(tzinfo=MONTREAL)
    text = f"{local.day} {MOIS.split()[local.month - 1]} {local.year} {hour} h"
    return local.astimezone(UTC), text


def atelier_id_of(text: str) -> int:
    return int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]


async def modify(fake: FakeDiscord, server: Server, atelier_id: int, **options: object) -> str:
    return await text_of(
        fake.slash(
            "atelier modifier",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(atelier_id), **options},
            locale="fr",
        )
    )


async def rsvp(fake: FakeDiscord, server: Server, user, atelier_id: int, reponse: str, seance=None):
    options = {"atelier": str(atelier_id), "reponse": reponse}
    if seance is not None:
        options["seance"] = str(seance)
    return await text_of(
        fake.slash("rsvp", user=user, channel=server.general, options=options, locale="fr")
    )


# --- item 10: the fixes ----------------------------------------------------------------------


async def test_modify_clears_link_and_capacity_and_says_before_and_after(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=2, lien="https://visio.example/salle")
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        assert f"lien:{atelier_id}" in message.custom_ids()
        await answered(
            fake.click(message, f"rsvp:{atelier_id}:oui", user=server.alice, locale="fr")
        )
        done = await modify(
            fake, server, atelier_id, lien="aucun", capacite=0, lieu="Hôtel de ville de Laval"
        )
        await settle(fake, bot)
        info = await bot.services.ateliers.get(atelier_id)
    assert "modifié" in done
    assert info.lien is None and info.capacite is None
    assert f"lien:{atelier_id}" not in message.custom_ids()  # the link button is gone
    assert field(message, "Places").startswith("Places illimitées")
    [dm] = fake.dms(server.alice)
    assert fr("Lieu : visioconférence → Hôtel de ville de Laval") in dm.content
    assert fr("Nombre de places : 2 → illimitées") in dm.content
    assert "Le lien de la réunion a été retiré." in dm.content


async def test_a_moved_seance_keeps_its_answers_and_their_members_are_told(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=5)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        first, second = (await bot.services.ateliers.get(atelier_id)).seances
        await rsvp(fake, server, server.alice, atelier_id, "oui")
        await rsvp(fake, server, server.alice, atelier_id, "non", first.id)  # skips the 3rd
        await rsvp(fake, server, server.bob, atelier_id, "oui", second.id)  # the 10th alone
        # A séance added before the others, the 10th moved to the 17th: the « non » for the
        # 3rd stays with the 3rd; bob's « oui » goes with the moved séance, and he is told.
        await modify(
            fake,
            server,
            atelier_id,
            dates="26 novembre 2030 13 h 30 ; 3 décembre 2030 13 h 30 ; 17 décembre 2030 13 h 30",
        )
        await settle(fake, bot)
        after = (await bot.services.ateliers.get(atelier_id)).seances
        mine = {
            m.atelier.id: m
            for m in await bot.services.inscriptions.of_member(server.guild.id, server.alice.id)
        }[atelier_id]
    assert [s.local_date.day for s in after] == [26, 3, 17]
    assert after[1].id == first.id and after[2].id == second.id  # same rows
    assert {s.local_date.day: r.value for s in after if (r := mine.seance_reponses.get(s.id))} == {
        3: "non"
    }
    [alice_dm] = fake.dms(server.alice)
    assert frh("Séance déplacée : mardi 10 décembre 2030 à 13 h 30 → mardi 17 décembre 2030") in (
        alice_dm.content
    )
    assert frh("Séance ajoutée : mardi 26 novembre 2030 à 13 h 30") in alice_dm.content
    [bob_dm] = fake.dms(server.bob)
    assert fr("Votre réponse « oui » pour la séance du ") in bob_dm.content
    assert "17 décembre 2030" in bob_dm.content and "déplacée" in bob_dm.content


async def test_announce_in_another_channel_adds_a_live_one_kept_in_step_and_cancel_removes_buttons(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=3)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [first] = announcements(fake, chantier_channel(fake, server))
        done = await text_of(
            fake.slash(
                "atelier annoncer",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "salon": server.general},
                locale="fr",
            )
        )
        await settle(fake, bot)
        [second] = announcements(fake, server.general)
        await answered(fake.click(second, f"rsvp:{atelier_id}:oui", user=server.alice))
        await answered(fake.click(first, f"rsvp:{atelier_id}:oui", user=server.bob))
        await settle(fake, bot)
        both_counts = [field(m, "Places") for m in (first, second)]
        await text_of(
            fake.slash(
                "atelier annuler",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id)},
                locale="fr",
            )
        )
        await settle(fake, bot)
        refused = await rsvp(fake, server, server.staff, atelier_id, "oui")
    assert done == fr(
        f"Annonce de l'atelier « Territoire et immigration » publiée dans <#{server.general.id}>."
    )
    assert all("1 place restante sur 3" in c for c in both_counts)  # both live, in step
    for message in (first, second):
        assert message.embeds[0]["title"].startswith("ANNULÉ — ")
        assert message.custom_ids() == []  # no answer buttons on a cancelled atelier
    assert "annulé" in refused
    assert len(fake.scheduled_events(server.guild)) == 2  # not duplicated


async def test_the_link_button_serves_a_member_with_a_place_at_one_seance(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, lien="https://visio.example/salle")
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        [message] = announcements(fake, chantier_channel(fake, server))
        seance = (await bot.services.ateliers.get(atelier_id)).seances[0]
        said = await rsvp(fake, server, server.bob, atelier_id, "oui", seance.id)
        link = await answered(fake.click(message, f"lien:{atelier_id}", user=server.bob))
        refused = await answered(fake.click(message, f"lien:{atelier_id}", user=server.alice))
    assert "vous serez à la séance" in said
    assert "https://visio.example/salle" in link.content
    assert "https://visio.example" not in refused.content


async def test_staff_commands_carry_manage_events_as_default_permission(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        await settle(fake, bot)
        registered = {c.name: c.payload() for c in fake.commands(server.guild)}
    staff = {"atelier", "chantier", "programme", "statistiques", "partage"}
    for name, payload in registered.items():
        given = payload["default_member_permissions"]
        assert (int(given) if given is not None else None) == (
            MANAGE_EVENTS if name in staff else None
        ), name
    assert staff <= set(registered)


# --- item 3: holidays and overlaps ask for confirmation ---------------------------------------


async def test_a_seance_on_the_fete_nationale_asks_and_saves_nothing_until_confirmed(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        before = await counts(bot)
        handle, text = await create_atelier(fake, server, dates="24 juin 2030 13 h 30")
        warning = await answered(handle)
        await settle(fake, bot)
        unsaved = await counts(bot)
        nothing_posted = announcements(fake, chantier_channel(fake, server))
        [button] = [c for c in warning.custom_ids() if c.startswith("atelier-confirmer:")]
        done = await text_of(fake.click(warning, button, user=server.staff, locale="fr"))
        await settle(fake, bot)
        saved = await counts(bot)
        [message] = announcements(fake, chantier_channel(fake, server))
    assert fr("Fête nationale du Québec") in text and "jour férié" in text
    assert fr("Rien n'est enregistré pour l'instant.") in text
    assert unsaved == before and nothing_posted == []
    assert "créé" in done and saved["atelier"] == before["atelier"] + 1
    assert frh("lundi 24 juin 2030 à 13 h 30") in field(message, "Séance")
    assert warning.custom_ids() == []  # the button is gone once used


async def test_an_overlap_in_the_same_chantier_asks_and_saves_nothing_until_confirmed(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, first = await create_atelier(fake, server, dates="3 décembre 2030 13 h 30")
        first_id = atelier_id_of(first)
        await settle(fake, bot)
        before = await counts(bot)
        handle, text = await create_atelier(
            fake, server, titre="Accueil des nouveaux arrivants", dates="3 décembre 2030 14 h"
        )
        warning = await answered(handle)
        unsaved = await counts(bot)
        # Another chantier at the same time is no overlap: saved at once.
        _, other = await create_atelier(
            fake,
            server,
            titre="Ailleurs",
            chantier="accueil-integration",
            dates="3 décembre 2030 14 h",
        )
        [button] = warning.custom_ids()
        done = await text_of(fake.click(warning, button, user=server.staff, locale="fr"))
        await settle(fake, bot)
        saved = await counts(bot)
    assert fr(f"chevauche l'atelier « Territoire et immigration » (n° {first_id})") in text
    assert unsaved == before
    assert "créé" in other
    assert "créé" in done and saved["atelier"] == before["atelier"] + 2


async def test_modify_onto_a_holiday_asks_first_and_changes_nothing_until_confirmed(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, dates="3 décembre 2030 13 h 30")
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        handle = fake.slash(
            "atelier modifier",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(atelier_id), "dates": "25 décembre 2030 13 h 30"},
            locale="fr",
        )
        warning = await answered(handle)
        unchanged = (await bot.services.ateliers.get(atelier_id)).seances[0].local_date
        [button] = warning.custom_ids()
        done = await text_of(fake.click(warning, button, user=server.staff, locale="fr"))
        changed = (await bot.services.ateliers.get(atelier_id)).seances[0].local_date
    assert "Jour de Noël" in warning.content
    assert unchanged.day == 3 and changed.day == 25
    assert "modifié" in done


# --- item 2: dupliquer -----------------------------------------------------------------------


async def test_duplicate_copies_everything_but_dates_answers_and_announcement(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(
            fake,
            server,
            capacite=5,
            lien="https://visio.example/salle",
            lieu="Mairie de Gatineau",
            description="Les programmes d'appui aux collectivités.",
            genre="formation",
            duree=120,
        )
        source_id = atelier_id_of(text)
        await settle(fake, bot)
        await rsvp(fake, server, server.alice, source_id, "oui")
        done = await text_of(
            fake.slash(
                "atelier dupliquer",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(source_id), "dates": "4 février 2031 9 h"},
                locale="fr",
            )
        )
        await settle(fake, bot)
        copy_id = atelier_id_of(done)
        source = await bot.services.ateliers.get(source_id)
        copy = await bot.services.ateliers.get(copy_id)
        posted = announcements(fake, chantier_channel(fake, server))
        # On a holiday, dupliquer asks first too.
        handle = fake.slash(
            "atelier dupliquer",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(source_id), "dates": "1 juillet 2031 9 h"},
            locale="fr",
        )
        warning = await answered(handle)
    assert copy_id != source_id and "créé" in done
    same = ("titre", "chantier_id", "genre", "lieu", "lien", "capacite", "description")
    assert all(getattr(copy, f) == getattr(source, f) for f in same)
    assert copy.duree_minutes == 120
    assert [s.local_date.isoformat() for s in copy.seances] == ["2031-02-04"]
    assert copy.counts.inscrits == 0 and source.counts.inscrits == 1
    assert copy.announcement_message_id not in (None, source.announcement_message_id)
    assert len(posted) == 2
    assert "Fête du Canada" in warning.content and warning.custom_ids()


# --- item 1: series --------------------------------------------------------------------------


async def test_a_weekly_series_across_the_november_change_keeps_13_h_30(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(
            fake,
            server,
            capacite=1,
            dates="22 octobre 2030 13 h 30",
            repetition="hebdomadaire",
            **{"jusqu-au": "12 novembre 2030"},
        )
        await settle(fake, bot)
        first_id = atelier_id_of(text)
        ids = await bot.services.ateliers.series_rest(server.guild.id, first_id)
        infos = [await bot.services.ateliers.get(i) for i in ids]
        posted = announcements(fake, chantier_channel(fake, server))
        # Bob takes the only place of the third; alice answers « Toute la série » on the first.
        await rsvp(fake, server, server.bob, ids[2], "oui")
        [first] = [m for m in posted if f"rsvp:{first_id}:serie" in m.custom_ids()]
        serie = await answered(
            fake.click(first, f"rsvp:{first_id}:serie", user=server.alice, locale="fr")
        )
        await settle(fake, bot)
        statuses = await bot.services.inscriptions.statuses(server.guild.id, server.alice.id, ids)
    assert fr("Série « Territoire et immigration » : 4 ateliers") in text
    assert len(ids) == 4 and len({i.serie_id for i in infos}) == 1
    local = [(s.local_date.isoformat(), s.local_time.isoformat()) for i in infos for s in i.seances]
    assert local == [
        ("2030-10-22", "13:30:00"),
        ("2030-10-29", "13:30:00"),
        ("2030-11-05", "13:30:00"),
        ("2030-11-12", "13:30:00"),
    ]
    # Daylight time ends on 3 November 2030: the UTC instant moves, the wall clock does not.
    assert [i.seances[0].starts_at.hour for i in infos] == [17, 17, 18, 18]
    assert len(posted) == 4
    for message in posted:
        assert frh("à 13 h 30") in field(message, "Séance")
        assert any(c.endswith(":serie") for c in message.custom_ids())
    assert [statuses[i][0] for i in ids] == [
        EtatInscription.INSCRIT,
        EtatInscription.INSCRIT,
        EtatInscription.ATTENTE,
        EtatInscription.INSCRIT,
    ]
    assert fr("Votre réponse « oui » à toute la série :") in serie.content


async def test_a_monthly_series_keeps_the_weekday_rank_and_the_rest_can_be_changed_or_cancelled(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        # The 2nd Tuesday of each month, from 14 January to 13 May 2031.
        _, text = await create_atelier(
            fake,
            server,
            dates="14 janvier 2031 13 h 30",
            repetition="mensuelle",
            **{"jusqu-au": "13 mai 2031"},
        )
        await settle(fake, bot)
        ids = await bot.services.ateliers.series_rest(server.guild.id, atelier_id_of(text))
        days = [(await bot.services.ateliers.get(i)).seances[0].local_date for i in ids]
        changed = await modify(fake, server, ids[1], lieu="Laval", portee="la-suite")
        cancelled = await text_of(
            fake.slash(
                "atelier annuler",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(ids[3]), "portee": "la-suite"},
                locale="fr",
            )
        )
        refused = await modify(
            fake, server, ids[0], dates="15 janvier 2031 13 h", portee="la-suite"
        )
        await settle(fake, bot)
        after = [await bot.services.ateliers.get(i) for i in ids]
    assert [d.isoformat() for d in days] == [
        "2031-01-14",
        "2031-02-11",
        "2031-03-11",
        "2031-04-08",
        "2031-05-13",
    ]
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in days)  # 2nd Tuesday
    assert "4 ateliers de la série modifiés" in changed
    assert [a.lieu for a in after] == ["visioconférence"] + ["Laval"] * 4
    assert "2 ateliers de la série annulés" in cancelled
    assert [a.cancelled for a in after] == [False, False, False, True, True]
    assert "retirez portee:la-suite" in refused
    assert after[0].seances[0].local_date.day == 14


# --- item 4: cloture and publier-le ----------------------------------------------------------


async def test_answers_close_at_cloture_with_the_date_and_no_promotion_after(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    carol = fake.add_member(server.guild, "carol")
    clock = ManualClock(datetime.now(UTC))
    first, dates = in_days(4, 13)
    async with partage(fake, settings, clock=clock) as bot:
        _, text = await create_atelier(fake, server, capacite=1, cloture="2d", dates=dates)
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        info = await bot.services.ateliers.get(atelier_id)
        [message] = announcements(fake, chantier_channel(fake, server))
        shown = field(message, "Réponses")
        await rsvp(fake, server, server.alice, atelier_id, "oui")
        await rsvp(fake, server, server.bob, atelier_id, "oui")  # waiting
        clock.set(info.cloture + timedelta(minutes=1))
        await settle(fake, bot, timeout=30)  # what the jump made due (reminders) goes first
        refused = await rsvp(fake, server, carol, atelier_id, "oui")
        said_no = await rsvp(fake, server, server.alice, atelier_id, "non")
        await settle(fake, bot)
        bob = await bot.services.inscriptions.statuses(server.guild.id, server.bob.id, [atelier_id])
    assert info.cloture == first - timedelta(days=2)  # 2 days before the first séance
    assert f"<t:{int(info.cloture.timestamp())}:F>" in shown  # the announcement says it
    assert fr("Les réponses à « Territoire et immigration » sont closes depuis le") in refused
    assert f"<t:{int(info.cloture.timestamp())}:F>" in refused
    assert "ne participerez pas" in said_no  # « non » is still taken
    assert bob[atelier_id][0] == EtatInscription.ATTENTE  # the freed place goes to nobody
    assert fake.dms(server.bob) == []


async def test_publier_le_posts_the_announcement_thread_and_events_at_that_time(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    clock = ManualClock(datetime.now(UTC))
    published, publish_text = in_days(3, 9)
    _, dates = in_days(9, 13)  # its 7-day reminder would fall before the publication
    async with partage(fake, settings, clock=clock) as bot:
        _, text = await create_atelier(fake, server, dates=dates, **{"publier-le": publish_text})
        atelier_id = atelier_id_of(text)
        await settle(fake, bot)
        before = announcements(fake, chantier_channel(fake, server))
        events_before = fake.scheduled_events(server.guild)
        member_list = await text_of(
            fake.slash("ateliers", user=server.alice, channel=server.general, locale="fr")
        )
        staff_list = (
            await answered(
                fake.slash("ateliers", user=server.staff, channel=server.general, locale="fr")
            )
        ).embeds[0]
        refused = await rsvp(fake, server, server.alice, atelier_id, "oui")
        clock.set(published + timedelta(seconds=1))
        await settle(fake, bot, timeout=30)
        [message] = announcements(fake, chantier_channel(fake, server))  # no reminder before it
        info = await bot.services.ateliers.get(atelier_id)
    assert before == [] and events_before == []
    assert "Aucun atelier à venir" in member_list
    assert any("Territoire et immigration" in f["name"] for f in staff_list["fields"])
    assert fr("n'est pas encore publié") in refused
    assert info.publie_le == published
    assert message.thread_id is not None and info.thread_id is not None
    assert len(fake.scheduled_events(server.guild)) == 1
