"""Programme import: the shipped history, CSV and TOML files, bad rows, bad files, re-imports."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import dates
from bot.clock import ManualClock
from bot.errors import InvalidInput
from cogs.chantiers.service import ChantierService
from cogs.programme import service as programme
from cogs.programme.service import ImportReport, ImportService, Where
from db.models import Atelier, AuditLog, Chantier, Genre, Seance
from tests.cogs.helpers import GUILD, ZONE, ateliers_service, user

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT / "data" / "programme-operation-partage.toml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def chantiers(sessions, clock: ManualClock) -> ChantierService:
    return ChantierService(sessions, clock)


@pytest.fixture
def importer(sessions, clock: ManualClock, chantiers: ChantierService) -> ImportService:
    return ImportService(sessions, clock, ateliers_service(sessions, clock), chantiers)


def _read(path: Path) -> bytes:
    return path.read_bytes()  # small files: no need for a thread


async def _import(importer: ImportService, path: Path, *, allow_past: bool = False) -> ImportReport:
    return await importer.import_file(
        GUILD, path.name, _read(path), zone=ZONE, allow_past=allow_past
    )


async def _count(sessions, model) -> int:
    async with sessions() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def _ateliers(sessions) -> list[Atelier]:
    async with sessions() as s:
        return list((await s.execute(select(Atelier).order_by(Atelier.id))).scalars())


async def _seances(sessions, atelier_id: int) -> list[Seance]:
    async with sessions() as s:
        stmt = select(Seance).where(Seance.atelier_id == atelier_id).order_by(Seance.starts_at)
        return list((await s.execute(stmt)).scalars())


# --- the shipped history ---------------------------------------------------------------------


async def test_history_imports_17_ateliers_21_seances_once(importer: ImportService, sessions):
    first = await _import(importer, HISTORY, allow_past=True)
    assert (first.n_created, first.n_skipped, first.n_refused) == (17, 0, 0)
    assert [row.line for row in first.created] == list(range(1, 18))
    assert {row.where for row in first.created} == {Where.ATELIER}

    second = await _import(importer, HISTORY, allow_past=True)
    assert (second.n_created, second.n_skipped, second.n_refused) == (0, 17, 0)
    assert {r.atelier_id for r in second.skipped} == {r.atelier_id for r in first.created}

    ateliers = await _ateliers(sessions)
    assert len(ateliers) == 17
    assert await _count(sessions, Seance) == 21
    assert len({a.source_key for a in ateliers}) == 17
    assert all(a.chantier_id is None for a in ateliers)
    assert Counter(a.genre for a in ateliers) == {
        Genre.REFERENTIEL: 9,
        Genre.FORMATION: 2,
        Genre.SYNTHESE: 2,
        Genre.ECHANGE: 1,
        Genre.ATELIER: 3,
    }
    async with sessions() as s:
        seances = list((await s.execute(select(Seance))).scalars())
    assert all(x.local_time is None and x.ends_at is None for x in seances)

    by_key = {a.source_key: a for a in ateliers}
    ref7 = by_key["op2018-ref7"]
    assert ref7.titre.startswith("Référentiel 7 : L'accompagnement et la francisation")
    assert [x.local_date for x in await _seances(sessions, ref7.id)] == [
        date(2020, 6, 5),
        date(2020, 6, 12),
    ]
    territoire = by_key["op2021-territoire"]
    assert [x.local_date for x in await _seances(sessions, territoire.id)] == [
        date(2021, 11, 26),
        date(2021, 12, 3),
    ]
    assert by_key["op2018-ref2"].lieu == "Québec et Montréal en visioconférence"
    assert by_key["op2018-ref1"].lieu == "Drummondville"
    formations = [a for a in ateliers if a.genre == Genre.FORMATION]
    assert sorted(a.lieu for a in formations) == ["Montréal", "Québec"]


async def test_history_without_allow_past_is_refused_then_skipped(
    importer: ImportService, sessions
):
    refused = await _import(importer, HISTORY, allow_past=False)
    assert (refused.n_created, refused.n_refused) == (0, 17)
    assert {r.error.message_id for r in refused.refused} == {dates.PAST}
    assert refused.refused[0].error.values == {"part": "4 octobre 2018"}
    assert await _count(sessions, Atelier) == 0

    await _import(importer, HISTORY, allow_past=True)
    again = await _import(importer, HISTORY, allow_past=False)
    # Already imported beats "in the past": the Discord command reports them as skipped.
    assert (again.n_created, again.n_skipped, again.n_refused) == (0, 17, 0)


# --- CSV ---------------------------------------------------------------------------------------


async def test_excel_csv_imports_good_rows_and_reports_bad_ones(
    importer: ImportService, chantiers: ChantierService, sessions
):
    petite_enfance = await chantiers.create(GUILD, "Petite enfance")
    report = await _import(importer, DATA / "programme-excel.csv")

    refused = {r.line: r for r in report.refused}
    assert {r.where for r in report.refused} == {Where.LIGNE}
    expected = {
        3: (dates.UNREADABLE, {"part": "mardi prochain"}),
        4: (dates.PAST, {"part": "2 novembre 2026 10 h"}),
        5: (programme.UNKNOWN_GENRE, {"genre": "Conférence"}),
        6: (programme.UNKNOWN_CHANTIER, {"chantier": "logement", "chantiers": "petite-enfance"}),
        7: (programme.NOT_INTEGER, {"champ": "capacite", "valeur": "trente"}),
        8: ("Le titre ne peut pas être vide.", {}),
        9: ("Le titre dépasse {max} caractères ({n}).", {"max": 200, "n": 201}),
        13: ("Le lien « {lien} » n'est pas une adresse web (https://…).", {}),
    }
    assert sorted(refused) == sorted(expected)
    for line, (message_id, values) in expected.items():
        error = refused[line].error
        assert error.message_id == message_id, line
        assert values.items() <= error.values.items(), line
    assert refused[13].error.values["lien"] == "ftp://example.org/x"
    assert refused[4].titre == "Atelier passé"
    assert refused[8].titre is None

    assert [(r.line, r.titre) for r in report.created] == [
        (2, "Accueil des nouveaux arrivants"),
        (10, "Référentiel 10 : Logement"),
        (11, "Échange sur la concertation"),
        (14, "Accueil des nouveaux arrivants"),  # same title, other date: another atelier
    ]
    ateliers = await _ateliers(sessions)
    assert [a.id for a in ateliers] == [r.atelier_id for r in report.created]
    accueil, referentiel, echange, accueil_bis = ateliers
    assert (accueil.chantier_id, accueil.duree_minutes, accueil.capacite) == (
        petite_enfance.id,
        120,
        30,
    )
    assert accueil.lien == "https://meet.example.org/accueil"
    assert accueil.lieu == "visioconférence"
    assert len(await _seances(sessions, accueil.id)) == 2
    assert (referentiel.genre, referentiel.lieu, referentiel.capacite) == (
        Genre.REFERENTIEL,
        "Sherbrooke",
        25,
    )
    [day_only] = await _seances(sessions, referentiel.id)
    assert (day_only.local_date, day_only.local_time) == (date(2026, 12, 17), None)
    assert echange.genre == Genre.ECHANGE
    assert "point-virgule" in echange.description and "deux lignes" in echange.description
    assert accueil_bis.source_key != accueil.source_key
    assert await _count(sessions, Seance) == 5

    again = await _import(importer, DATA / "programme-excel.csv")
    assert (again.n_created, again.n_skipped) == (0, 4)
    assert [r.line for r in again.skipped] == [2, 10, 11, 14]
    assert sorted(r.line for r in again.refused) == sorted(expected)
    assert await _count(sessions, Atelier) == 4
    assert await _count(sessions, Seance) == 5


async def test_comma_csv_uses_cle_and_refuses_a_repeated_one(importer: ImportService, sessions):
    report = await _import(importer, DATA / "programme-virgules.csv")
    first, second = report.created
    assert (first.line, first.source_key) == (2, "bienvenue-2026")
    assert second.line == 4
    assert second.source_key.startswith("auto:")
    [repeated] = report.refused
    assert repeated.line == 3
    assert repeated.error.message_id == programme.DUPLICATE_CLE
    assert repeated.error.values == {"cle": "bienvenue-2026", "autre": 2}
    ateliers = await _ateliers(sessions)
    assert [(a.titre, a.capacite) for a in ateliers] == [
        ("Atelier de bienvenue", 12),
        ("Café-rencontre", None),
    ]


async def test_actor_is_audited_and_organizer(importer: ImportService, sessions):
    await importer.import_file(
        GUILD,
        "p.csv",
        "titre,dates\nCafé,2026-12-19 10:00\n".encode(),
        zone=ZONE,
        allow_past=False,
        actor_user_id=user(7),
    )
    [atelier] = await _ateliers(sessions)
    assert atelier.organizer_user_id == user(7)
    async with sessions() as s:
        actors = (await s.execute(select(AuditLog.actor_user_id))).scalars().all()
    assert actors == [user(7)]


async def test_concurrent_import_of_a_row_is_skipped(
    importer: ImportService, sessions, monkeypatch: pytest.MonkeyPatch
):
    await _import(importer, DATA / "programme-virgules.csv")
    real = importer._existing
    calls: Counter[str] = Counter()

    async def blind_first_look(guild_id: int, key: str) -> int | None:
        calls[key] += 1  # the first look misses, as when another import commits right after it
        return None if calls[key] == 1 else await real(guild_id, key)

    monkeypatch.setattr(importer, "_existing", blind_first_look)
    report = await _import(importer, DATA / "programme-virgules.csv")
    assert (report.n_created, report.n_skipped) == (0, 2)
    assert all(r.atelier_id is not None for r in report.skipped)
    assert await _count(sessions, Atelier) == 2


# --- files refused as a whole ------------------------------------------------------------------

TOML_WITH_BAD_KEY = """
[[chantiers]]
slug = "logement"
nom = "Logement"

[[ateliers]]
titre = "Bon"
dates = "2026-12-19"

[[ateliers]]
titre = "Mauvais"
dates = "2026-12-20"
salle = "B-12"
"""


@pytest.mark.parametrize(
    ("filename", "data", "message_id", "values"),
    [
        (
            "programme.xlsx",
            b"titre,dates\nA,2026-12-19\n",
            programme.BAD_EXTENSION,
            {"fichier": "programme.xlsx"},
        ),
        (
            "gros.csv",
            b"titre,dates\n" + b"A,2026-12-19\n" * 90_000,
            programme.TOO_LARGE,
            {"max": 1024},
        ),
        (
            "p.csv",
            b"Titre;Dates;Salle\nA;2026-12-19;B-12\n",
            programme.UNKNOWN_COLUMN,
            {"colonne": "Salle"},
        ),
        ("p.csv", b"titre;lieu\nA;Laval\n", programme.MISSING_COLUMN, {"colonne": "dates"}),
        (
            "p.csv",
            "titre;dates\nRéférentiel;2026-12-19\n".encode("cp1252"),
            programme.NOT_UTF8,
            {"ligne": 2},
        ),
        (
            "p.toml",
            b'[[ateliers]]\ntitre = "A\ndates = "2026-12-19"\n',
            programme.BAD_TOML,
            {"fichier": "p.toml"},
        ),
        (
            "p.toml",
            TOML_WITH_BAD_KEY.encode(),
            programme.UNKNOWN_KEY,
            {"cle": "salle", "table": "ateliers", "n": 2},
        ),
        (
            "p.csv",
            b"titre,dates\n" + b"A,2026-12-19\n" * 501,
            programme.TOO_MANY_ROWS,
            {"n": 501, "max": 500},
        ),
        ("p.csv", b"\xef\xbb\xbf\r\n", programme.EMPTY_FILE, {"fichier": "p.csv"}),
    ],
)
async def test_bad_file_refused_and_nothing_saved(
    importer: ImportService, sessions, filename, data, message_id, values
):
    with pytest.raises(InvalidInput) as err:
        await importer.import_file(GUILD, filename, data, zone=ZONE, allow_past=False)
    assert err.value.message_id == message_id
    assert values.items() <= err.value.values.items()
    assert await _count(sessions, Atelier) == 0
    assert await _count(sessions, Chantier) == 0


# --- TOML with chantiers -----------------------------------------------------------------------


async def test_toml_creates_its_chantier_and_attaches_the_atelier(
    importer: ImportService, chantiers: ChantierService, sessions
):
    report = await _import(importer, DATA / "programme-chantiers.toml")
    assert report.chantiers_created == ["logement"]
    logement = await chantiers.by_slug(GUILD, "logement")
    assert logement is not None
    assert (logement.nom, logement.emoji) == ("Logement et immigration", "🏠")

    [created] = report.created
    assert (created.line, created.where, created.source_key) == (1, Where.ATELIER, "logement-1")
    [atelier] = await _ateliers(sessions)
    assert atelier.chantier_id == logement.id
    assert (atelier.genre, atelier.duree_minutes, atelier.capacite) == (Genre.ECHANGE, 120, 40)
    seances = await _seances(sessions, atelier.id)
    assert [x.local_date for x in seances] == [date(2026, 12, 9), date(2026, 12, 16)]
    assert all((x.ends_at - x.starts_at).total_seconds() == 120 * 60 for x in seances)

    [bad] = report.refused
    assert (bad.line, bad.where) == (2, Where.ATELIER)
    assert bad.error.message_id == programme.UNKNOWN_CHANTIER
    assert bad.error.values["chantier"] == "transport"

    again = await _import(importer, DATA / "programme-chantiers.toml")
    assert again.chantiers_created == []
    assert (again.n_created, again.n_skipped, again.n_refused) == (0, 1, 1)
    assert await _count(sessions, Chantier) == 1
    assert await _count(sessions, Atelier) == 1
