"""Participation statistics (aggregated) and their chart."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime

import pytest
from matplotlib._pylab_helpers import Gcf

from bot.clock import ManualClock
from bot.errors import InvalidInput
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.service import InscriptionService
from cogs.membres.service import ProfilChanges, ProfilService
from cogs.statistiques.service import ChartLabels, Stats, StatsService, chart_png
from db.models import Region, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def stats_service(sessions, clock: ManualClock) -> StatsService:
    return StatsService(sessions, clock)


async def _profile(profils: ProfilService, n: int, municipalite: str, region: str) -> None:
    await profils.give_consent(GUILD, user(n))
    await profils.update(GUILD, user(n), ProfilChanges(municipalite=municipalite, region=region))


async def test_participation_by_region_and_municipality(
    stats_service: StatsService, sessions, clock: ManualClock
) -> None:
    ateliers = ateliers_service(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    profils = ProfilService(sessions, clock)
    autumn = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Territoire", seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 10))]
        ),
    )
    spring = await ateliers.create(
        GUILD, AtelierDraft(titre="Emploi", seances=[seance(date(2027, 3, 4))], capacite=2)
    )
    cancelled = await ateliers.create(
        GUILD, AtelierDraft(titre="Annulé", seances=[seance(date(2026, 12, 5))])
    )
    upcoming = await ateliers.create(
        GUILD, AtelierDraft(titre="Plus tard", seances=[seance(date(2027, 6, 3))])
    )
    await _profile(profils, 1, "Saint-Jérôme", "15")
    await _profile(profils, 2, "saint-jerome", "15")  # the same municipality, typed otherwise
    await _profile(profils, 3, "Laval", "13")
    await profils.give_consent(GUILD, user(4))  # a profile that says nothing
    for n in (1, 2, 3, 4, 5):  # 5 has no profile at all
        await rsvp.answer(GUILD, autumn.id, user(n), Reponse.OUI)
        await rsvp.answer(GUILD, cancelled.id, user(n), Reponse.OUI)
        await rsvp.answer(GUILD, upcoming.id, user(n), Reponse.OUI)
    await rsvp.answer(GUILD, spring.id, user(1), Reponse.OUI)
    await rsvp.answer(GUILD, spring.id, user(3), Reponse.OUI)
    await rsvp.answer(GUILD, spring.id, user(5), Reponse.OUI)  # waiting list: not counted
    await rsvp.answer(GUILD, spring.id, user(2), Reponse.PEUT_ETRE)  # not counted
    await ateliers_service(sessions, clock).cancel(GUILD, cancelled.id)
    clock.set(datetime(2027, 4, 1, 12, tzinfo=UTC))

    whole = await stats_service.participation(GUILD)
    assert (whole.membres, whole.membres_avec_profil) == (5, 4)
    assert whole.membres_par_region == ((Region.LAURENTIDES, 2), (Region.LAVAL, 1), (None, 2))
    assert whole.membres_par_municipalite == (("Saint-Jérôme", 2), ("Laval", 1), (None, 2))
    assert (whole.ateliers_tenus, whole.seances_tenues) == (2, 3)
    assert (whole.inscriptions, whole.participants) == (7, 5)
    assert whole.inscriptions_par_region == (
        (Region.LAURENTIDES, 3),
        (Region.LAVAL, 2),
        (None, 2),
    )
    assert whole.inscriptions_par_municipalite == (("Saint-Jérôme", 3), ("Laval", 2), (None, 2))

    autumn_only = await stats_service.participation(GUILD, date(2026, 9, 1), date(2026, 12, 31))
    assert (autumn_only.ateliers_tenus, autumn_only.inscriptions) == (1, 5)
    spring_only = await stats_service.participation(GUILD, debut=date(2027, 1, 1))
    assert (spring_only.ateliers_tenus, spring_only.inscriptions) == (1, 2)
    assert spring_only.inscriptions_par_region == ((Region.LAURENTIDES, 1), (Region.LAVAL, 1))
    with pytest.raises(InvalidInput):
        await stats_service.participation(GUILD, date(2027, 1, 2), date(2027, 1, 1))


async def test_empty_server(stats_service: StatsService) -> None:
    stats = await stats_service.participation(GUILD)
    assert stats.empty and stats.membres_par_region == () and stats.ateliers_tenus == 0


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _sample() -> Stats:
    return Stats(
        debut=date(2026, 9, 1),
        fin=date(2026, 12, 31),
        membres=20,
        membres_avec_profil=17,
        membres_par_region=((Region.MONTREAL, 9), (Region.ESTRIE, 5), (None, 3)),
        membres_par_municipalite=(*((f"Ville {i}", 1) for i in range(14)), (None, 3)),
        ateliers_tenus=4,
        seances_tenues=6,
        inscriptions=41,
        participants=18,
        inscriptions_par_region=((Region.MONTREAL, 22), (Region.ESTRIE, 12), (None, 7)),
        inscriptions_par_municipalite=(*((f"Ville {i}", 2) for i in range(14)), (None, 7)),
    )


def test_chart_png_is_a_valid_readable_png_and_leaks_no_figure() -> None:
    before = Gcf.get_num_fig_managers()
    data = chart_png(_sample(), ChartLabels(sous_titre="Automne 2026"))
    width, height = _png_size(data)
    assert len(data) > 20_000
    assert width >= 1000 and height >= 900  # two panels stacked, ~50 px per row of bars
    assert Gcf.get_num_fig_managers() == before == 0  # no pyplot figure left open
    empty = chart_png(
        Stats(None, None, 0, 0, (), (), 0, 0, 0, 0, (), ()), ChartLabels().translated(str.upper)
    )
    assert _png_size(empty)[1] < height / 2 and len(empty) < len(data)


def test_chart_labels_translate_every_text_but_the_footer() -> None:
    labels = ChartLabels(sous_titre="période").translated(lambda s: f"<{s}>")
    assert labels.titre == "<Participation à l'Opération Partage>"
    assert labels.non_precise == "<Non précisé>"
    assert labels.sous_titre == "période"


def test_chart_groups_small_municipalities() -> None:
    from cogs.statistiques.chart import municipalite_rows, region_rows

    labels = ChartLabels()
    rows = municipalite_rows(_sample(), labels, top=10)
    assert len(rows) == 12  # ten, "Autres", "Non précisé"
    assert rows[-2] == (labels.autres, 4, 8)
    assert rows[-1] == (labels.non_precise, 3, 7)
    assert [r[0] for r in region_rows(_sample(), labels)] == ["Montréal", "Estrie", "Non précisé"]


# --- attendance, small cells and the workbook (issue 12) ----------------------------------------


async def test_attendance_rates_over_the_seances_held(
    stats_service: StatsService, sessions, clock: ManualClock
) -> None:
    from cogs.presences.service import PresenceService

    ateliers = ateliers_service(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    held = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Accueil", seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 10))]
        ),
    )
    later = await ateliers.create(
        GUILD, AtelierDraft(titre="Plus tard", seances=[seance(date(2027, 6, 3))])
    )
    untaken = await ateliers.create(
        GUILD, AtelierDraft(titre="Sans présences", seances=[seance(date(2026, 12, 17))])
    )
    profils = ProfilService(sessions, clock)
    await _profile(profils, 1, "Laval", "13")
    for n in (1, 2, 3):
        await rsvp.answer(GUILD, held.id, user(n), Reponse.OUI)
        await rsvp.answer(GUILD, later.id, user(n), Reponse.OUI)
        await rsvp.answer(GUILD, untaken.id, user(n), Reponse.OUI)
    presences = PresenceService(sessions, clock)
    first, second = held.seances
    await presences.add_walk_ins(
        GUILD, first.id, [(user(1), None), (user(2), None), (user(9), "Visiteur")], actor_user_id=0
    )
    await presences.add_walk_ins(
        GUILD, second.id, [(user(n), None) for n in (1, 2, 3)], actor_user_id=0
    )
    clock.set(datetime(2027, 1, 15, 12, tzinfo=UTC))
    stats = await stats_service.participation(GUILD)
    assert (stats.presences, stats.presences_inscrits, stats.presences_sans_inscription) == (
        6,
        5,
        1,
    )
    assert (stats.presences_attendues, stats.presents) == (6, 4)
    assert stats.taux_presence == pytest.approx(5 / 6)
    assert stats.presences_par_region == ((Region.LAVAL, 2), (None, 4))
    # The later atelier is not held: not counted. The one where nobody took attendance is
    # counted but does not lower the rate (its séances had no attendance taken).
    figures, no_attendance = stats.ateliers
    assert (no_attendance.titre, no_attendance.taux_presence) == ("Sans présences", None)
    assert (figures.titre, figures.premiere, figures.seances, figures.inscrits) == (
        "Accueil",
        date(2026, 12, 3),
        2,
        3,
    )
    assert (figures.presences, figures.taux_presence) == (6, pytest.approx(5 / 6))


def test_small_cells_are_shown_as_less_than_3_in_the_workbook_and_the_chart() -> None:
    import io

    from openpyxl import load_workbook

    from bot.i18n import I18n
    from cogs.statistiques.cells import SMALL_TEXT
    from cogs.statistiques.chart import _bars
    from cogs.statistiques.service import AtelierFigures
    from cogs.statistiques.workbook import stats_xlsx

    stats = Stats(
        debut=date(2026, 9, 1),
        fin=date(2026, 12, 31),
        membres=12,
        membres_avec_profil=10,
        membres_par_region=((Region.MONTREAL, 9), (Region.ESTRIE, 2), (None, 1)),
        membres_par_municipalite=(("Montréal", 9), ("=cmd()", 1)),
        ateliers_tenus=2,
        seances_tenues=3,
        inscriptions=11,
        participants=10,
        inscriptions_par_region=((Region.MONTREAL, 9), (Region.ESTRIE, 2)),
        inscriptions_par_municipalite=(("Montréal", 9),),
        presences=9,
        presences_inscrits=8,
        presences_sans_inscription=1,
        presences_attendues=10,
        presents=8,
        presences_par_region=((Region.MONTREAL, 8), (None, 1)),
        ateliers=(
            AtelierFigures("Accueil", date(2026, 10, 1), 2, 4, 7, 6, 2),
            AtelierFigures("Logement", date(2026, 11, 5), 1, 2, 2, 2, 1),
        ),
    )
    tr = I18n.load().for_locale("fr")
    book = load_workbook(io.BytesIO(stats_xlsx(tr, stats, ChartLabels().translated(tr._), "P")))
    assert book.sheetnames == [
        "Résumé",
        "Membres par région",
        "Membres par municipalité",
        "Inscriptions par région",
        "Inscriptions par municipalité",
        "Présences par région",
        "Ateliers comptés",
    ]
    summary = {r[0]: r[1] for r in book["Résumé"].iter_rows(min_row=2, values_only=True)}
    assert summary["Taux de présence"] == 0.8 and summary["Présences"] == 9
    [rate] = [r[1] for r in book["Résumé"].iter_rows(min_row=2) if r[0].value == "Taux de présence"]
    assert rate.number_format == "0.0 %"
    regions = list(book["Membres par région"].iter_rows(min_row=2, values_only=True))
    assert regions == [("Montréal", 9), ("Estrie", SMALL_TEXT), ("Non précisé", SMALL_TEXT)]
    towns = list(book["Membres par municipalité"].iter_rows(min_row=2, values_only=True))
    assert towns[1] == ("'=cmd()", SMALL_TEXT)  # a typed name never runs as a formula
    ateliers = list(book["Ateliers comptés"].iter_rows(min_row=2, values_only=True))
    assert ateliers[0] == ("Accueil", "1er oct. 2026", 2, 4, 7, 0.75)
    assert ateliers[1][3:] == (SMALL_TEXT, SMALL_TEXT, SMALL_TEXT)  # its rate would tell too

    # The chart: no bar for a small cell (its length would tell), only « < 3 ».
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _bars(ax, [("Montréal", 9, 9), ("Estrie", 2, 0)], "t", ChartLabels(), 9)
    widths = [p.get_width() for p in ax.patches]
    assert widths == [9, 0, 9, 0]
    texts = [t.get_text() for t in ax.texts]
    assert "9" in texts and SMALL_TEXT in texts and "2" not in texts
