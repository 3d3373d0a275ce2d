"""Staff operations (issue 12, items 1–4 and 10) on the services: a real database, a manual
clock, no Discord."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.clock import ManualClock
from bot.i18n import I18n
from cogs.ateliers import changes
from cogs.chantiers.service import ChantierService
from cogs.programme.report import report_lines
from cogs.programme.service import ImportService
from db.models import OutboxKind, OutboxMessage
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
