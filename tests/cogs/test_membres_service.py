"""Profiles (consent first, normalization, limits), the directory and conversation proposals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from cogs.chantiers.service import ChantierService
from cogs.jumelage.service import JumelageService
from cogs.membres.annuaire import AnnuaireService
from cogs.membres.noms import (
    municipalite_cle,
    normalize_municipalite,
    parse_region,
    split_keywords,
)
from cogs.membres.service import (
    CONSENT_VERSION,
    ConsentRequired,
    ProfilChanges,
    ProfilService,
)
from cogs.privacy.service import PrivacyService
from db import repositories as repo
from db.models import (
    ConversationProposal,
    JumelageParticipant,
    Profil,
    ProfilChantier,
    ProposalStatus,
    Region,
)
from tests.cogs.helpers import GUILD, user


@pytest.fixture
def profils(sessions, clock: ManualClock) -> ProfilService:
    return ProfilService(sessions, clock)


@pytest.fixture
def annuaire(sessions, clock: ManualClock) -> AnnuaireService:
    return AnnuaireService(sessions, clock)


async def _count(sessions, model) -> int:
    async with sessions() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def _member(profils: ProfilService, n: int, *, visible: bool = True, **fields: object) -> int:
    await profils.give_consent(GUILD, user(n), display_name=f"Membre {n}")
    await profils.update(GUILD, user(n), ProfilChanges(visible_annuaire=visible, **fields))  # type: ignore[arg-type]
    return user(n)


# --- text helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("  saint-jean-SUR-richelieu ", "Saint-Jean-sur-Richelieu"),
        ("SAINT-JÉRÔME", "Saint-Jérôme"),
        ("st-jérôme", "Saint-Jérôme"),
        ("l’assomption", "L'Assomption"),
        ("val-d'or", "Val-d'Or"),
        ("les îles-de-la-madeleine", "Les Îles-de-la-Madeleine"),
        ("notre-dame-de-l'île-perrot", "Notre-Dame-de-l'Île-Perrot"),
        ("la   tuque", "La Tuque"),
        ("Trois - Rivières", "Trois-Rivières"),
        ("McMasterville", "McMasterville"),
        ("Montreal", "Montréal"),
        ("ville de sherbrooke", "Sherbrooke"),
        ("Ville de Montréal", "Montréal"),
        ("Municipalité de Saint-Rémi", "Saint-Rémi"),
        ("trois rivieres", "Trois-Rivières"),
        ("ste-therese", "Sainte-Thérèse"),
        ("City of Gatineau", "Gatineau"),
        ("Chelsea", "Chelsea"),
    ],
)
def test_normalize_municipalite(typed: str, canonical: str) -> None:
    assert normalize_municipalite(typed) == canonical


def test_municipality_key_ignores_case_accents_hyphens_and_abbreviations() -> None:
    keys = {municipalite_cle(t) for t in ("Saint-Jérôme", "saint jerome", "St-Jérôme", "ST JEROME")}
    assert keys == {"saint jerome"}
    assert municipalite_cle("Saint-Jérôme") != municipalite_cle("Saint-Jean")
    # One municipality, one key: the statistics and the directory count it once.
    assert municipalite_cle("ville de sherbrooke") == municipalite_cle("Sherbrooke")
    assert municipalite_cle("Municipalité de Val-d'Or") == municipalite_cle("val d or")


def test_parse_region_by_code_and_name() -> None:
    assert parse_region("6") is Region.MONTREAL
    assert parse_region("06") is Region.MONTREAL
    assert parse_region("montreal") is Region.MONTREAL
    assert parse_region("Gaspésie-Îles-de-la-Madeleine") is Region.GASPESIE_ILES_DE_LA_MADELEINE
    assert Region.SAGUENAY_LAC_SAINT_JEAN.nom == "Saguenay–Lac-Saint-Jean"
    assert [r.code for r in Region] == [f"{i:02d}" for i in range(1, 18)]
    with pytest.raises(InvalidInput):
        parse_region("18")
    with pytest.raises(InvalidInput):
        parse_region("Ontario")


def test_split_keywords_dedupes_without_case_or_accents() -> None:
    assert split_keywords("accueil, Francisation; ACCUEIL\n  réfugiés , refugies") == [
        "accueil",
        "Francisation",
        "réfugiés",
    ]


# --- consent ------------------------------------------------------------------------------------


async def test_nothing_is_stored_before_consent(profils: ProfilService, sessions) -> None:
    with pytest.raises(ConsentRequired):
        await profils.update(GUILD, user(1), ProfilChanges(municipalite="Laval"))
    # A member row known from an RSVP does not count as consent either.
    async with sessions.begin() as s:
        await repo.upsert_membre(s, GUILD, user(1), profils.clock.now())
    with pytest.raises(ConsentRequired):
        await profils.update(GUILD, user(1), ProfilChanges(fonction="Agente"))
    assert await _count(sessions, Profil) == 0
    assert await profils.get(GUILD, user(1)) is None


async def test_consent_creates_an_empty_unlisted_profile(profils: ProfilService) -> None:
    info = await profils.give_consent(GUILD, user(1))
    assert info.consent_version == CONSENT_VERSION
    assert info.consent_at == profils.clock.now()
    assert (info.municipalite, info.region, info.fonction, info.expertise) == (None, None, None, ())
    assert info.visible_annuaire is False  # listed only when the member chooses it
    again = await profils.give_consent(GUILD, user(1))
    assert again.membre_id == info.membre_id


async def test_withdrawing_consent_erases_the_profile_and_what_depends_on_it(
    profils: ProfilService, annuaire: AnnuaireService, sessions, clock: ManualClock
) -> None:
    chantier = await ChantierService(sessions, clock).create(GUILD, "Petite enfance")
    await _member(profils, 1, municipalite="Laval", chantier_ids=[chantier.id])
    await _member(profils, 2, municipalite="Gatineau")
    await JumelageService(sessions, clock).set_participation(GUILD, user(1), True)
    await annuaire.propose(GUILD, user(2), user(1))
    assert await _count(sessions, ProfilChantier) == 1

    assert await profils.withdraw_consent(GUILD, user(1)) is True
    assert await profils.get(GUILD, user(1)) is None
    assert await _count(sessions, Profil) == 1  # member 2's
    assert await _count(sessions, ProfilChantier) == 0
    assert await _count(sessions, JumelageParticipant) == 0
    assert await _count(sessions, ConversationProposal) == 0
    assert (await annuaire.search(GUILD)).total == 1
    assert await profils.delete_profile(GUILD, user(1)) is False  # nothing left


# --- profile edits ------------------------------------------------------------------------------


async def test_profile_edit_normalizes_and_matches_known_municipalities(
    profils: ProfilService, sessions, clock: ManualClock
) -> None:
    chantier = await ChantierService(sessions, clock).create(GUILD, "Territoire")
    await profils.give_consent(GUILD, user(1))
    info = await profils.update(
        GUILD,
        user(1),
        ProfilChanges(
            municipalite="  saint-jérôme ",
            region="15",
            fonction="  Agente   de liaison\ninterculturelle ",
            chantier_ids=[chantier.id, chantier.id],
            expertise="accueil, Francisation; accueil",
            visible_annuaire=True,
        ),
    )
    assert info.municipalite == "Saint-Jérôme"
    assert info.region is Region.LAURENTIDES
    assert info.fonction == "Agente de liaison interculturelle"
    assert info.chantier_ids == (chantier.id,)
    assert info.expertise == ("accueil", "Francisation")
    assert info.visible_annuaire is True

    # Others typing it without accents, or abbreviated, get the known spelling.
    for n, typed in ((2, "saint-jerome"), (3, "ST JEROME")):
        await profils.give_consent(GUILD, user(n))
        other = await profils.update(GUILD, user(n), ProfilChanges(municipalite=typed))
        assert other.municipalite == "Saint-Jérôme"

    # "" clears a field, None leaves it.
    cleared = await profils.update(GUILD, user(1), ProfilChanges(fonction="", region=""))
    assert (cleared.fonction, cleared.region) == (None, None)
    assert cleared.municipalite == "Saint-Jérôme"
    assert cleared.expertise == ("accueil", "Francisation")


async def test_a_member_can_correct_their_own_spelling(profils: ProfilService) -> None:
    await profils.give_consent(GUILD, user(1))
    await profils.update(GUILD, user(1), ProfilChanges(municipalite="Levis"))
    fixed = await profils.update(GUILD, user(1), ProfilChanges(municipalite="Lévis"))
    assert fixed.municipalite == "Lévis"


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        (ProfilChanges(municipalite="x" * 101), InvalidInput, "municipalité"),
        (ProfilChanges(municipalite="1234"), InvalidInput, "municipalité"),
        (ProfilChanges(fonction="f" * 101), InvalidInput, "fonction"),
        (ProfilChanges(expertise=[f"mot{i}" for i in range(11)]), InvalidInput, "mots-clés"),
        (ProfilChanges(expertise=["m" * 41]), InvalidInput, "mot-clé"),
        (ProfilChanges(region="Ontario"), InvalidInput, "Région"),
        (ProfilChanges(chantier_ids=[999_999]), NotFound, "Chantier"),
        (ProfilChanges(chantier_ids=list(range(11))), InvalidInput, "chantiers"),
        (ProfilChanges(), InvalidInput, "Rien"),
    ],
)
async def test_invalid_edits_are_refused_and_change_nothing(
    profils: ProfilService, changes: ProfilChanges, error: type[Exception], fragment: str
) -> None:
    await profils.give_consent(GUILD, user(1))
    before = await profils.update(GUILD, user(1), ProfilChanges(municipalite="Laval", fonction="A"))
    with pytest.raises(error) as caught:
        await profils.update(GUILD, user(1), changes)
    assert fragment in caught.value.message_id
    assert await profils.get(GUILD, user(1)) == before


async def test_known_municipalities_for_autocomplete(profils: ProfilService) -> None:
    await _member(profils, 1, municipalite="Saint-Jérôme")
    await _member(profils, 2, municipalite="Saint-Jean-sur-Richelieu")
    await _member(profils, 3, municipalite="Sherbrooke")
    await _member(profils, 4, municipalite="Saint-Hyacinthe", visible=False)
    assert await profils.known_municipalities(GUILD, "sai") == [
        "Saint-Jean-sur-Richelieu",
        "Saint-Jérôme",
    ]
    assert await profils.known_municipalities(GUILD, "JER") == ["Saint-Jérôme"]  # a word
    assert len(await profils.known_municipalities(GUILD, "")) == 3  # hidden one not offered


# --- directory ----------------------------------------------------------------------------------


async def test_directory_filters_and_never_lists_the_unlisted(
    profils: ProfilService, annuaire: AnnuaireService, sessions, clock: ManualClock
) -> None:
    chantier = await ChantierService(sessions, clock).create(GUILD, "Petite enfance")
    await _member(
        profils,
        1,
        municipalite="Montréal",
        region="06",
        fonction="Conseillère en relations interculturelles",
        expertise=["Francisation"],
        chantier_ids=[chantier.id],
    )
    await _member(profils, 2, municipalite="Laval", region="13", expertise=["réfugiés"])
    await _member(profils, 3, municipalite="Québec", region="03", fonction="Agent d'accueil")
    # Not listed: hidden, consented with nothing else hidden by default, never consented,
    # and one who left the server.
    await _member(profils, 4, municipalite="Montréal", region="06", visible=False)
    await profils.give_consent(GUILD, user(5))
    async with sessions.begin() as s:  # known from an RSVP, never consented
        await repo.upsert_membre(s, GUILD, user(7), clock.now(), display_name="Membre 7")
    await _member(profils, 6, municipalite="Montréal", region="06")
    await PrivacyService(sessions, clock).member_left(GUILD, user(6))

    everyone = await annuaire.search(GUILD, per_page=25)
    assert sorted(e.user_id for e in everyone.entries) == [user(1), user(2), user(3)]
    assert everyone.total == 3

    montreal = await annuaire.search(GUILD, region=Region.MONTREAL)
    assert [e.user_id for e in montreal.entries] == [user(1)]
    assert montreal.entries[0].chantier_ids == (chantier.id,)
    assert [e.user_id for e in (await annuaire.search(GUILD, region="laval")).entries] == [user(2)]
    assert [e.user_id for e in (await annuaire.search(GUILD, mot_cle="REFUGIES")).entries] == [
        user(2)
    ]
    assert [e.user_id for e in (await annuaire.search(GUILD, mot_cle="interculturel")).entries] == [
        user(1)
    ]
    assert [e.user_id for e in (await annuaire.search(GUILD, municipalite="quebec")).entries] == [
        user(3)
    ]
    assert [e.user_id for e in (await annuaire.search(GUILD, chantier_id=chantier.id)).entries] == [
        user(1)
    ]
    assert (await annuaire.search(GUILD, mot_cle="%")).total == 0  # LIKE wildcards are literal
    assert (await annuaire.search(GUILD, region="06", mot_cle="réfugiés")).total == 0


async def test_directory_pagination(profils: ProfilService, annuaire: AnnuaireService) -> None:
    towns = ["Alma", "Blainville", "Chambly", "Dolbeau", "Eastman", "Farnham", "Granby"]
    for n, town in enumerate(towns, start=1):
        await _member(profils, n, municipalite=town)
    first = await annuaire.search(GUILD, per_page=3)
    assert (first.total, first.pages, first.page) == (7, 3, 0)
    assert [e.municipalite for e in first.entries] == ["Alma", "Blainville", "Chambly"]
    last = await annuaire.search(GUILD, per_page=3, page=2)
    assert [e.municipalite for e in last.entries] == ["Granby"]
    beyond = await annuaire.search(GUILD, per_page=3, page=99)
    assert beyond.page == 2 and len(beyond.entries) == 1
    mine_excluded = await annuaire.search(GUILD, per_page=25, exclude_user_id=user(1))
    assert mine_excluded.total == 6


# --- proposals ----------------------------------------------------------------------------------


async def test_propose_then_accept_and_thread(
    profils: ProfilService, annuaire: AnnuaireService, sessions
) -> None:
    await _member(profils, 1, municipalite="Laval")
    await _member(profils, 2, municipalite="Gatineau")
    await _member(profils, 3, municipalite="Rimouski", visible=False)

    with pytest.raises(InvalidInput):
        await annuaire.propose(GUILD, user(1), user(1))
    with pytest.raises(NotFound):
        await annuaire.propose(GUILD, user(1), user(3))  # not listed
    with pytest.raises(NotFound):
        await annuaire.propose(GUILD, user(1), user(99))  # unknown

    proposal = await annuaire.propose(GUILD, user(1), user(2))
    assert proposal.status is ProposalStatus.PENDING
    assert (proposal.from_user_id, proposal.to_user_id) == (user(1), user(2))
    with pytest.raises(Conflict):
        await annuaire.propose(GUILD, user(1), user(2))
    with pytest.raises(Conflict):
        await annuaire.propose(GUILD, user(2), user(1))  # the other way round too
    assert await _count(sessions, ConversationProposal) == 1

    with pytest.raises(Forbidden):
        await annuaire.accept(proposal.id, user(1))  # only the invited member answers
    with pytest.raises(Conflict):
        await annuaire.set_thread(proposal.id, 555)  # not accepted yet
    accepted = await annuaire.accept(proposal.id, user(2))
    assert accepted.status is ProposalStatus.ACCEPTED
    assert accepted.answered_at == annuaire.clock.now()
    with pytest.raises(Conflict):
        await annuaire.decline(proposal.id, user(2))
    await annuaire.set_thread(proposal.id, 777_000_000_000_000_001)
    assert (await annuaire.get_proposal(proposal.id)).thread_id == 777_000_000_000_000_001
    with pytest.raises(NotFound):
        await annuaire.accept(123_456, user(2))


async def test_declined_proposal_cools_down_and_pending_ones_are_capped(
    profils: ProfilService, annuaire: AnnuaireService, clock: ManualClock
) -> None:
    for n in range(1, 9):
        await _member(profils, n, municipalite=f"Ville {n}")
    proposal = await annuaire.propose(GUILD, user(1), user(2))
    declined = await annuaire.decline(proposal.id, user(2))
    assert declined.status is ProposalStatus.DECLINED
    with pytest.raises(Conflict):
        await annuaire.propose(GUILD, user(1), user(2))
    clock.advance(timedelta(days=91))
    assert (await annuaire.propose(GUILD, user(1), user(2))).status is ProposalStatus.PENDING

    for n in range(3, 7):
        await annuaire.propose(GUILD, user(1), user(n))  # five pending now
    with pytest.raises(Conflict) as caught:
        await annuaire.propose(GUILD, user(1), user(7))
    assert caught.value.values == {"max": 5}


@pytest.mark.parametrize(
    ("typed", "guess"),
    [("Montrael", "Montréal"), ("Sherbroke", "Sherbrooke"), ("Gatinau", "Gatineau")],
)
def test_a_near_miss_of_an_official_name_gets_a_suggestion(typed: str, guess: str) -> None:
    from cogs.membres.noms import near_official

    assert near_official(normalize_municipalite(typed)) == guess


@pytest.mark.parametrize("typed", ["Montréal", "montreal", "Chelsea", "Laval", "Saint-Lazare"])
def test_an_official_or_unknown_name_gets_none(typed: str) -> None:
    from cogs.membres.noms import near_official

    assert near_official(normalize_municipalite(typed)) is None
