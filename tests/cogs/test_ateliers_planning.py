"""Staff operations (issue 12, items 1–4 and 10) on the services: a real database, a manual
clock, no Discord."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.errors import InvalidInput
from bot.i18n import I18n
from cogs.ateliers import changes, closing, series
from cogs.ateliers.info import AtelierInfo, Counts
from cogs.ateliers.service import AtelierChanges, AtelierDraft
from cogs.chantiers.service import ChantierService
from cogs.programme.report import report_lines
from cogs.programme.service import ImportService
from db.models import EtatAtelier, Genre, OutboxKind, OutboxMessage, Reponse
from tests.cogs.helpers import GUILD, ZONE, ateliers_service, seance
from tests.french import fr

CSV = ("titre;dates\nSans chantier;3 décembre 2030 13 h 30\n").encode()


async def _announces(sessions) -> list[dict]:
    async with sessions() as s:
        rows = await s.execute(
            select(OutboxMessage.payload).where(OutboxMessage.kind == OutboxKind.ANNOUNCE)
        )
        return list(rows.scalars())


# --- item 10: imported ateliers without a chantier -------------------------------------------


async def test_import_without_chantier_is_announced_in_the_configured_channel(
    sessions, clock: ManualClock
) -> None:
    importer = ImportService(
        sessions,
        clock,
        ateliers_service(sessions, clock),
        ChantierService(sessions, clock),
        horizon_years=10,
        annonces_salon=4242,
    )
    report = await importer.import_file(GUILD, "p.csv", CSV, zone=ZONE, allow_past=False)
    assert report.n_created == 1 and report.unannounced == []
    assert [p["channel_id"] for p in await _announces(sessions)] == [4242]


async def test_import_without_chantier_nor_channel_is_listed_not_announced(
    sessions, clock: ManualClock
) -> None:
    importer = ImportService(
        sessions,
        clock,
        ateliers_service(sessions, clock),
        ChantierService(sessions, clock),
        horizon_years=10,
    )
    report = await importer.import_file(GUILD, "p.csv", CSV, zone=ZONE, allow_past=False)
    [row] = report.unannounced
    assert row.titre == "Sans chantier"
    lines = report_lines(I18n.load().for_locale("fr"), report)
    assert any(fr("« Sans chantier »") in line and "non annoncé" in line for line in lines)


# --- item 10: séances matched explicitly -----------------------------------------------------


def test_unchanged_seances_keep_their_rows_and_the_others_pair_up_nearest_first() -> None:
    from db.models import Seance

    old = [seance(date(2030, 12, 3)), seance(date(2030, 12, 10))]
    rows = [
        Seance(
            id=i,
            atelier_id=1,
            local_date=s.local_date,
            local_time=s.local_time,
            timezone=s.zone,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
        )
        for i, s in enumerate(old, 1)
    ]
    wanted = [seance(date(2030, 11, 26)), seance(date(2030, 12, 3)), seance(date(2030, 12, 17))]
    match = changes.match_seances(rows, wanted)
    assert [(s.id, spec.local_date.day) for s, spec in match.kept] == [(1, 3), (2, 17)]
    assert [(s.id, old["local_date"]) for s, old, _ in match.moved] == [(2, "2030-12-10")]
    assert [spec.local_date.day for spec in match.added] == [26]
    assert match.removed == []


# --- item 3: the import saves and lists holidays and overlaps --------------------------------


async def test_import_saves_holidays_and_overlaps_and_lists_them(
    sessions, clock: ManualClock
) -> None:
    chantiers = ChantierService(sessions, clock)
    await chantiers.create(GUILD, "Gouvernance", slug="gouvernance")
    importer = ImportService(
        sessions, clock, ateliers_service(sessions, clock), chantiers, horizon_years=10
    )
    data = (
        "titre;chantier;dates\n"
        "Premier;gouvernance;3 décembre 2030 13 h 30\n"
        "Chevauche;gouvernance;3 décembre 2030 14 h\n"
        "Fête;gouvernance;24 juin 2030 13 h 30\n"
    ).encode()
    report = await importer.import_file(GUILD, "p.csv", data, zone=ZONE, allow_past=False)
    assert report.n_created == 3
    assert [(o.titre, type(w[0]).__name__) for o, w in report.warnings] == [
        ("Chevauche", "Chevauchement"),
        ("Fête", "Ferie"),
    ]
    text = "\n".join(report_lines(I18n.load().for_locale("fr"), report))
    assert "Fête nationale du Québec" in text and fr("chevauche l'atelier « Premier »") in text


# --- item 1: series on wall-clock time -------------------------------------------------------


def test_weekly_occurrences_keep_the_wall_clock_across_the_november_change() -> None:
    first = seance(date(2030, 10, 22))  # a Tuesday, daylight time
    found = series.occurrences(first, series.Repetition.HEBDOMADAIRE, date(2030, 11, 12))
    assert [s.local_date.day for s in found] == [22, 29, 5, 12]
    assert {s.local_time for s in found} == {time(13, 30)}
    assert [s.starts_at.hour for s in found] == [17, 17, 18, 18]  # UTC moves on 3 November
    assert all(s.ends_at - s.starts_at == timedelta(minutes=90) for s in found)


def test_every_two_weeks_and_monthly_by_weekday_rank() -> None:
    first = seance(date(2031, 1, 14))  # the 2nd Tuesday of January
    fortnight = series.occurrences(first, series.Repetition.AUX_DEUX_SEMAINES, date(2031, 2, 28))
    assert [s.local_date.isoformat() for s in fortnight] == [
        "2031-01-14",
        "2031-01-28",
        "2031-02-11",
        "2031-02-25",
    ]
    monthly = series.occurrences(first, series.Repetition.MENSUELLE, date(2031, 3, 31))
    assert [s.local_date.isoformat() for s in monthly] == ["2031-01-14", "2031-02-11", "2031-03-11"]


def test_a_series_needs_a_time_an_end_after_its_start_and_one_date() -> None:
    with pytest.raises(InvalidInput):
        series.occurrences(
            seance(date(2031, 1, 14), None), series.Repetition.HEBDOMADAIRE, date(2031, 2, 1)
        )
    with pytest.raises(InvalidInput):
        series.occurrences(
            seance(date(2031, 1, 14)), series.Repetition.HEBDOMADAIRE, date(2031, 1, 1)
        )
    two = AtelierDraft(titre="X", seances=[seance(date(2031, 1, 14)), seance(date(2031, 1, 21))])
    with pytest.raises(InvalidInput):
        series.series_drafts(two, series.Repetition.HEBDOMADAIRE, date(2031, 3, 1))


async def test_a_series_is_linked_and_la_suite_changes_the_rest_in_one_transaction(
    sessions, clock: ManualClock
) -> None:
    ateliers = ateliers_service(sessions, clock)
    draft = AtelierDraft(titre="Série", seances=[seance(date(2030, 10, 22))], capacite=5)
    drafts = series.series_drafts(draft, series.Repetition.HEBDOMADAIRE, date(2030, 11, 12))
    infos = await ateliers.create_many(GUILD, drafts, serie=True, announce=False)
    ids = [i.id for i in infos]
    assert {i.serie_id for i in infos} == {ids[0]}
    assert await ateliers.series_rest(GUILD, ids[1]) == ids[1:]
    results = await ateliers.modify_series(GUILD, ids[1], AtelierChanges(lieu="Laval"))
    assert [r.atelier.id for r in results] == ids[1:]
    assert [(await ateliers.get(i)).lieu for i in ids] == ["visioconférence"] + ["Laval"] * 3
    cancelled = await ateliers.cancel_series(GUILD, ids[2])
    assert [c.atelier.id for c in cancelled] == ids[2:]
    assert await ateliers.series_rest(GUILD, ids[0]) == ids[:2]  # the planned ones


def test_copy_keeps_everything_but_the_dates() -> None:
    source = AtelierInfo(
        id=7,
        guild_id=GUILD,
        chantier_id=3,
        genre=Genre.FORMATION,
        titre="Accueil",
        description="Desc",
        lieu="Gatineau",
        lien="https://visio.example/x",
        capacite=12,
        duree_minutes=120,
        etat=EtatAtelier.ANNULE,
        raison_annulation="tempête",
        organizer_user_id=1,
        announcement_channel_id=2,
        announcement_message_id=3,
        thread_id=4,
        version=5,
        seances=(),
        counts=Counts(4, 1, 0, 0, 12),
        serie_id=7,
    )
    copy = series.copy_draft(source, [seance(date(2031, 2, 4), minutes=120)], organizer_user_id=9)
    assert (copy.titre, copy.chantier_id, copy.genre, copy.lieu, copy.lien, copy.capacite) == (
        "Accueil",
        3,
        Genre.FORMATION,
        "Gatineau",
        "https://visio.example/x",
        12,
    )
    assert copy.duree_minutes == 120 and copy.organizer_user_id == 9
    assert [s.local_date for s in copy.seances] == [date(2031, 2, 4)]


# --- item 4: closing -------------------------------------------------------------------------


def test_cloture_as_a_delay_or_a_date_and_what_it_refuses(clock: ManualClock) -> None:
    first = seance(date(2030, 12, 3))
    when = {"zone": ZONE, "now": clock.now(), "horizon_years": 10}
    assert closing.cloture_at("2d", first, **when) == first.starts_at - timedelta(days=2)
    assert closing.cloture_at("12h", first, **when) == first.starts_at - timedelta(hours=12)
    # A date alone: the end of that day in Montréal.
    assert closing.cloture_at("1 décembre 2030", first, **when) == datetime(
        2030, 12, 2, 5, 0, tzinfo=UTC
    )
    with pytest.raises(InvalidInput):
        closing.cloture_at("0d", first, **when)
    info = AtelierInfo(
        id=1, guild_id=GUILD, chantier_id=None, genre=Genre.ATELIER, titre="T", description="",
        lieu="l", lien=None, capacite=None, duree_minutes=90, etat=EtatAtelier.PLANIFIE,
        raison_annulation=None, organizer_user_id=None, announcement_channel_id=None,
        announcement_message_id=None, thread_id=None, version=1, seances=(),
        counts=Counts(0, 0, 0, 0, None), cloture=first.starts_at - timedelta(days=2),
    )  # fmt: skip
    after = first.starts_at - timedelta(days=1)
    assert closing.answer_refusal(info, Reponse.OUI, after) is not None
    assert closing.answer_refusal(info, Reponse.PEUT_ETRE, after) is not None
    assert closing.answer_refusal(info, Reponse.NON, after) is None
    assert closing.answer_refusal(info, Reponse.OUI, after - timedelta(days=2)) is None


async def test_before_its_publication_an_atelier_is_in_no_list_nor_digest_and_has_no_reminder(
    sessions, clock: ManualClock
) -> None:
    ateliers = ateliers_service(sessions, clock)
    day = (clock.now() + timedelta(days=9)).date()
    publie_le = clock.now() + timedelta(days=3)
    info = await ateliers.create(
        GUILD, AtelierDraft(titre="Bientôt", seances=[seance(day)], publie_le=publie_le)
    )
    rappels = ateliers.reminders
    assert info.publie_le == publie_le
    assert await ateliers.upcoming(GUILD, published_only=True) == []
    assert [a.id for a in await ateliers.upcoming(GUILD)] == [info.id]  # staff see it
    assert await rappels.digest(GUILD) == []
    planned = await rappels.plan_atelier(info.id)
    assert planned and all(p.due_at >= publie_le for p in planned)  # no 7-day reminder
    async with sessions() as s:
        [due] = (
            await s.execute(
                select(OutboxMessage.due_at).where(OutboxMessage.kind == OutboxKind.ANNOUNCE)
            )
        ).scalars()
    assert due == publie_le
    later = await ateliers.create(
        GUILD, AtelierDraft(titre="Plus tard", seances=[seance(day + timedelta(days=7))])
    )
    # The unpublished one comes first but takes no room in the members' list.
    assert [a.id for a in await ateliers.upcoming(GUILD, limit=1, published_only=True)] == [
        later.id
    ]
    clock.set(publie_le + timedelta(seconds=1))
    assert [a.id for a in await ateliers.upcoming(GUILD, published_only=True)] == [
        info.id,
        later.id,
    ]
    assert [e.atelier.id for e in await rappels.digest(GUILD)] == [info.id, later.id]


async def test_a_closing_delay_counts_from_the_seances_as_they_are_after_the_change(
    sessions, clock: ManualClock
) -> None:
    ateliers = ateliers_service(sessions, clock)
    info = await ateliers.create(
        GUILD, AtelierDraft(titre="T", seances=[seance(date(2030, 12, 3))]), announce=False
    )
    moved = seance(date(2030, 12, 17))
    result = await ateliers.modify(
        GUILD, info.id, AtelierChanges(seances=[moved], cloture_delay=timedelta(days=2))
    )
    assert result.atelier.cloture == moved.starts_at - timedelta(days=2)
    assert set(result.changed) == {"dates", "cloture"}
    cleared = await ateliers.modify(GUILD, info.id, AtelierChanges(clear_cloture=True))
    assert cleared.atelier.cloture is None
