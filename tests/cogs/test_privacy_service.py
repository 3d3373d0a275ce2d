"""Privacy: the table registry, export, erasure (scanned over the whole schema), departures and
retention."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Table, func, select

from bot.clock import ManualClock
from bot.config import PrivacyConfig
from bot.i18n import I18n
from cogs.ateliers.service import AtelierDraft
from cogs.calendrier.service import CalendrierService
from cogs.chantiers.service import ChantierService
from cogs.inscriptions.service import Click, InscriptionService
from cogs.jumelage.service import JumelageService
from cogs.membres.annuaire import AnnuaireService
from cogs.membres.noms import fold
from cogs.membres.service import ProfilChanges, ProfilService
from cogs.privacy.documents import readable, spreadsheets_zip
from cogs.privacy.service import (
    REGISTRY,
    HoldsMemberData,
    PrivacyService,
    Welcome,
    member_tables,
    months_before,
    unregistered_tables,
)
from cogs.questions.bibliotheque import BibliothequeService
from cogs.questions.service import QuestionService
from cogs.questions.suivi import SuiviService
from db import repositories as repo
from db.models import (
    Base,
    Coanimateur,
    DeliveryStatus,
    EtatInscription,
    Inscription,
    JumelageRound,
    Livraison,
    Membre,
    Presence,
    Question,
    Rappel,
    RappelKind,
    Reponse,
    SeanceReponse,
)
from tests.cogs.helpers import GUILD, ateliers_service, seance, set_dm_reminders, user
from tests.french import fr

X = user(42)
X_NAME = "Zéphyrine Quintal-Xanadu"
X_PROFILE = {
    "municipalite": "Sainte-Pétronille",
    "fonction": "Conseillère en zythologie interculturelle",
    "expertise": ["xénolinguistique appliquée", "quokkas urbains"],
}
X_REGION = "03"


@pytest.fixture
def privacy(sessions, clock: ManualClock) -> PrivacyService:
    return PrivacyService(
        sessions, clock, PrivacyConfig(retention_months=24, departure_grace_days=30)
    )


async def _count(sessions, model) -> int:
    async with sessions() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


@dataclass
class World:
    past_id: int
    future_id: int
    membre_id: int
    chantier_id: int


async def _world(sessions, clock: ManualClock) -> World:
    """Member X everywhere the schema can hold them: profile, directory, jumelage, proposals,
    inscriptions past and future, a per-séance answer, a DM delivery, the audit log, an
    atelier they organized, a departure. Y, Z, W are other members."""
    ateliers = ateliers_service(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    profils = ProfilService(sessions, clock)
    chantier = await ChantierService(sessions, clock).create(GUILD, "Accueil", actor_user_id=X)

    past = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Territoire et immigration",
            seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 10))],
            capacite=3,
            chantier_id=chantier.id,
        ),
        actor_user_id=X,
    )
    future = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Petite enfance et immigration",
            seances=[seance(date(2027, 2, 4))],
            capacite=1,
            organizer_user_id=X,
        ),
    )
    for n in (42, 43, 44, 45):
        await rsvp.answer(GUILD, past.id, user(n), Reponse.OUI, display_name=f"Membre {n}")
    await rsvp.answer(GUILD, past.id, X, Reponse.NON, seance_id=past.seances[1].id)
    await rsvp.answer(GUILD, future.id, X, Reponse.OUI, display_name=X_NAME)
    await rsvp.answer(GUILD, future.id, user(43), Reponse.OUI)  # waiting for X's place
    # A click of X's being saved, and X's welcome waiting in the outbox.
    await rsvp.receive(
        [
            Click(
                interaction_id=990_000_000_000_000_001,
                application_id=990_000_000_000_000_002,
                token="jeton",
                guild_id=GUILD,
                user_id=X,
                atelier_id=future.id,
                seance_id=None,
                reponse=Reponse.PEUT_ETRE,
                display_name=X_NAME,
                locale="fr",
            )
        ]
    )
    await PrivacyService(sessions, clock).member_returned(
        GUILD, X, welcome=Welcome(name=X_NAME, locale="fr", fallback_channel_id=None)
    )

    await profils.give_consent(GUILD, X, display_name=X_NAME)
    await profils.update(
        GUILD,
        X,
        ProfilChanges(
            region=X_REGION, chantier_ids=[chantier.id], visible_annuaire=True, **X_PROFILE
        ),
    )
    for n, town, region in ((43, "Laval", "13"), (44, "Gatineau", "07")):
        await profils.give_consent(GUILD, user(n))
        await profils.update(
            GUILD,
            user(n),
            ProfilChanges(municipalite=town, region=region, visible_annuaire=True),
        )
    jumelage = JumelageService(sessions, clock)
    await jumelage.set_participation(GUILD, X, True)
    await jumelage.set_participation(GUILD, user(43), True)
    (pair,) = (await jumelage.run_round(GUILD, rng=random.Random(0))).pairs
    await jumelage.set_thread(pair.id, 900_000_000_000_000_001)
    annuaire = AnnuaireService(sessions, clock)
    proposal = await annuaire.propose(GUILD, user(44), X)
    await annuaire.accept(proposal.id, X)
    await CalendrierService(sessions, clock).address(GUILD, X)  # a private feed address

    # Between the ateliers: X is a personne-ressource, asks a question, is asked one, gets a
    # « peut-être » nudge and attaches a document.
    chantiers = ChantierService(sessions, clock)
    await chantiers.set_discord_ids(chantier.id, forum_id=900_000_000_000_000_010)
    questions = QuestionService(sessions, clock)
    await questions.set_ressource(GUILD, X, chantier.slug, True)
    await profils.update(GUILD, user(43), ProfilChanges(expertise=["logement"]))
    await questions.set_ressource(GUILD, user(43), chantier.slug, True)
    mine = await questions.ask(GUILD, X, chantier.slug, "Logement ?", "Le logement des familles")
    asked = await questions.ask(GUILD, user(44), chantier.slug, "Zythologie", "Xénolinguistique")
    assert X in asked.mention_user_ids and user(43) in mine.mention_user_ids
    await BibliothequeService(sessions, clock).add(
        GUILD, past.id, "Guide d'accueil", url="https://example.org/guide", by_user_id=X
    )
    async with sessions() as s:
        x_membre = await repo.find_membre(s, GUILD, X)
        assert x_membre is not None
    assert await SuiviService(sessions, clock).claim_nudge(future.seances[0].id, x_membre.id)
    async with sessions.begin() as s:
        membre = await repo.find_membre(s, GUILD, X)
        assert membre is not None
        # The plan written with the atelier: its 1-hour reminder, sent to the member.
        rappel = (
            await s.execute(
                select(Rappel).where(
                    Rappel.seance_id == past.seances[0].id,
                    Rappel.kind == RappelKind.RAPPEL,
                    Rappel.offset_seconds == 3600,
                )
            )
        ).scalar_one()
        s.add(
            Livraison(
                rappel_id=rappel.id,
                target=f"dm:{membre.id}",
                membre_id=membre.id,
                status=DeliveryStatus.SENT,
                nonce="n-1",
                attempts=1,
                created_at=clock.now(),
            )
        )
        await repo.audit(
            s,
            guild_id=GUILD,
            actor_user_id=user(1),
            action="test.note",
            details={"cible": X, "texte": f"pour {X}", "nom": X_NAME, "liste": [str(X)]},
            at=clock.now(),
        )
        # X came to the first séance (marked by staff), marked Y present as staff, co-hosts
        # the past atelier and named Y co-host of the future one.
        y = await repo.find_membre(s, GUILD, user(43))
        assert y is not None
        s.add_all(
            [
                Presence(
                    guild_id=GUILD,
                    seance_id=past.seances[0].id,
                    membre_id=membre.id,
                    inscrit=True,
                    marked_by_user_id=user(1),
                    at=clock.now(),
                ),
                Presence(
                    guild_id=GUILD,
                    seance_id=past.seances[0].id,
                    membre_id=y.id,
                    inscrit=True,
                    marked_by_user_id=X,
                    at=clock.now(),
                ),
                Coanimateur(
                    guild_id=GUILD,
                    atelier_id=past.id,
                    membre_id=membre.id,
                    added_by_user_id=user(1),
                    created_at=clock.now(),
                ),
                Coanimateur(
                    guild_id=GUILD,
                    atelier_id=future.id,
                    membre_id=y.id,
                    added_by_user_id=X,
                    created_at=clock.now(),
                ),
            ]
        )
        membre_id = membre.id
    await PrivacyService(sessions, clock).member_left(GUILD, X)
    clock.set(datetime(2027, 1, 15, 15, 0, tzinfo=UTC))  # the first atelier is over
    return World(past.id, future.id, membre_id, chantier.id)


async def _scan(sessions) -> list[str]:
    """Every cell of every table of the schema holding X's id, name or a profile value."""
    texts = [str(X), X_NAME, X_PROFILE["municipalite"], X_PROFILE["fonction"]]
    texts += X_PROFILE["expertise"]
    needles = [fold(t) for t in texts] + ["sainte petronille"]
    hits = []
    async with sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    where = f"{table.name}.{column}={value!r}"
                    if isinstance(value, bool) or value is None:
                        continue
                    if isinstance(value, int) and value == X:
                        hits.append(where)
                    if isinstance(value, str) and value == X_REGION and column == "region":
                        hits.append(where)
                    if isinstance(value, str):
                        text = value
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        continue
                    if any(n in fold(text) for n in needles):
                        hits.append(where)
    return hits


# --- the registry -------------------------------------------------------------------------------


def test_registry_covers_every_table_of_the_schema() -> None:
    assert unregistered_tables() == set()
    member = {e.table for e in member_tables()}
    # Every column that can point at a member is in a table declared as holding member data.
    for table in Base.metadata.tables.values():
        for column in table.columns:
            refers = any(fk.column.table.name == "membre" for fk in column.foreign_keys)
            if refers or column.name.endswith("user_id"):
                assert table.name in member, f"{table.name}.{column.name} holds member data"
    assert all(e.how if isinstance(e, HoldsMemberData) else e.reason for e in REGISTRY)


def test_a_new_table_missing_from_the_registry_is_caught() -> None:
    table = Table(
        "tmp_new_feature",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("membre_id", ForeignKey("membre.id")),
        Column("host_user_id", BigInteger),
    )
    try:
        assert unregistered_tables() == {"tmp_new_feature"}
    finally:
        Base.metadata.remove(table)
    assert unregistered_tables() == set()


# --- export -------------------------------------------------------------------------------------


async def test_export_covers_every_member_table(privacy: PrivacyService, sessions, clock) -> None:
    world = await _world(sessions, clock)
    export = await privacy.export(GUILD, X)
    assert list(export.tables) == [e.table for e in member_tables()]
    empty = [name for name, rows in export.tables.items() if not rows]
    assert empty == [], f"the fixture should fill every member table: {empty}"
    assert export.tables["membre"][0]["user_id"] == X
    assert export.tables["membre"][0]["display_name"] == X_NAME
    profil = export.tables["profil"][0]
    assert profil["municipalite"] == X_PROFILE["municipalite"]
    assert profil["expertise"] == X_PROFILE["expertise"]
    assert profil["region"] == X_REGION
    assert {r["atelier_id"] for r in export.tables["inscription"]} == {
        world.past_id,
        world.future_id,
    }
    assert export.tables["seance_reponse"][0]["reponse"] == "non"
    assert {r["action"] for r in export.tables["audit_log"]} >= {
        "chantier.create",
        "atelier.create",
    }
    assert export.tables["atelier"][0]["id"] == world.future_id  # organized by X
    assert export.context["ateliers"][str(world.past_id)]["titre"] == "Territoire et immigration"
    assert export.context["chantiers"][str(world.chantier_id)] == "Accueil"

    parsed = json.loads(export.to_json())
    assert parsed["user_id"] == str(X)
    assert parsed["tables"]["profil"][0]["fonction"] == X_PROFILE["fonction"]
    tr = I18n.load().for_locale("fr")
    document = readable(tr, export, "America/Toronto")
    assert document.startswith("Vos données dans Partage\n")
    assert fr("Votre profil (1)") in document and X_PROFILE["municipalite"] in document
    assert fr("« Territoire et immigration »") in document  # an atelier id with its title
    assert "T" not in document.split(fr("  Créé le : "))[1].split("\n")[0]  # no ISO time
    with zipfile.ZipFile(io.BytesIO(spreadsheets_zip(tr, export, "America/Toronto"))) as z:
        assert sorted(z.namelist()) == sorted(f"{t}.csv" for t in export.tables)
        profil_csv = z.read("profil.csv")
    assert profil_csv.startswith(b"\xef\xbb\xbf")
    header, first = list(csv.reader(io.StringIO(profil_csv.decode("utf-8-sig")), delimiter=";"))
    assert first[header.index("Municipalité")] == X_PROFILE["municipalite"]
    assert first[header.index("Expertise")] == ", ".join(X_PROFILE["expertise"])

    nobody = await privacy.export(GUILD, user(999))
    assert nobody.row_count == 0 and set(nobody.tables) == set(export.tables)


# --- erasure ------------------------------------------------------------------------------------


async def test_erase_leaves_nothing_of_the_member_and_keeps_past_counts(
    privacy: PrivacyService, sessions, clock
) -> None:
    world = await _world(sessions, clock)
    before = _tables_hit(await _scan(sessions))
    assert {"membre", "profil", "audit_log", "atelier", "presence", "coanimateur"} <= before
    async with sessions() as s:
        past_counts = await repo.etat_counts(s, world.past_id)
        future_counts = await repo.etat_counts(s, world.future_id)
    assert past_counts[EtatInscription.INSCRIT] == 3 and past_counts[EtatInscription.ATTENTE] == 1
    assert future_counts[EtatInscription.INSCRIT] == 1

    result = await privacy.erase(GUILD, X)

    assert result.found and result.pseudonymized and not result.membre_deleted
    assert (result.inscriptions_deleted, result.inscriptions_kept) == (1, 1)
    assert await _scan(sessions) == []
    async with sessions() as s:
        assert await repo.etat_counts(s, world.past_id) == past_counts
        after_future = await repo.etat_counts(s, world.future_id)
        membre = await s.get(Membre, world.membre_id)
        answers = (await s.execute(select(func.count()).select_from(SeanceReponse))).scalar()
    assert membre is not None and membre.user_id is None and membre.display_name is None
    assert membre.pseudonymized_at == clock.now()
    assert answers == 1  # the per-séance answer of the past atelier, pseudonymized
    async with sessions() as s:
        presences = (await s.execute(select(Presence.membre_id, Presence.marked_by_user_id))).all()
        cohosts = (await s.execute(select(Coanimateur.membre_id))).scalars().all()
    # X's attendance stays counted (pseudonymized); the presence X marked as staff stays, without
    # X's id; X co-hosts nothing any more.
    assert len(presences) == 2
    assert (world.membre_id, user(1)) in presences
    assert X not in {b for _, b in presences} and None in {b for _, b in presences}
    assert world.membre_id not in cohosts and len(cohosts) == 1
    # X's place in the future atelier went to the first in line.
    assert after_future[EtatInscription.INSCRIT] == 1 and after_future[EtatInscription.ATTENTE] == 0
    assert [(p.atelier_id, p.recipient.user_id) for p in result.promoted] == [
        (world.future_id, user(43))
    ]
    assert await _count(sessions, Livraison) == 0
    assert (await privacy.export(GUILD, X)).row_count == 0
    assert (await AnnuaireService(sessions, clock).search(GUILD)).total == 2
    again = await privacy.erase(GUILD, X)
    assert not again.found


async def test_erase_deletes_a_member_with_nothing_worth_keeping(
    privacy: PrivacyService, sessions, clock
) -> None:
    profils = ProfilService(sessions, clock)
    await profils.give_consent(GUILD, X, display_name=X_NAME)
    await profils.update(GUILD, X, ProfilChanges(municipalite=X_PROFILE["municipalite"]))
    result = await privacy.erase(GUILD, X)
    assert result.found and result.membre_deleted and not result.pseudonymized
    assert await _count(sessions, Membre) == 0
    assert await _scan(sessions) == []


def _tables_hit(hits: list[str]) -> set[str]:
    return {h.split(".", 1)[0] for h in hits}


# --- departures ---------------------------------------------------------------------------------


async def test_departure_grace_period_then_erasure_unless_they_return(
    privacy: PrivacyService, sessions, clock: ManualClock
) -> None:
    profils = ProfilService(sessions, clock)
    for n in (1, 2):
        await profils.give_consent(GUILD, user(n), display_name=f"Membre {n}")
    assert await privacy.member_left(GUILD, user(99)) is False  # nothing stored about them
    assert await privacy.member_left(GUILD, user(1)) is True
    assert await privacy.member_left(GUILD, user(2)) is True
    left_at = clock.now()
    clock.advance(timedelta(days=10))
    assert await privacy.member_left(GUILD, user(1)) is True  # the first departure counts

    assert await privacy.due_departures(left_at + timedelta(days=29)) == []
    due = await privacy.due_departures(left_at + timedelta(days=30))
    assert [(d.user_id, d.left_at) for d in due] == [(user(1), left_at), (user(2), left_at)]

    assert await privacy.member_returned(GUILD, user(2)) is True
    assert await privacy.member_returned(GUILD, user(2)) is False
    results = await privacy.erase_departed(left_at + timedelta(days=31))
    assert len(results) == 1 and results[0].found
    assert await profils.get(GUILD, user(1)) is None
    assert await profils.get(GUILD, user(2)) is not None
    assert await privacy.due_departures(left_at + timedelta(days=60)) == []


# --- retention ----------------------------------------------------------------------------------


def test_months_before_clamps_the_day() -> None:
    assert months_before(datetime(2029, 3, 31, tzinfo=UTC), 1) == datetime(2029, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2029, 1, 10, tzinfo=UTC), 24) == datetime(2027, 1, 10, tzinfo=UTC)


async def test_retention_purge(privacy: PrivacyService, sessions, clock: ManualClock) -> None:
    ateliers = ateliers_service(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    old = await ateliers.create(
        GUILD, AtelierDraft(titre="Ancien", seances=[seance(date(2026, 12, 3))])
    )
    for n in (1, 2, 3, 4):  # 1: erased later, 2: nothing else, 3: has a profile, 4: wants DMs
        await rsvp.answer(GUILD, old.id, user(n), Reponse.OUI)
    await rsvp.answer(GUILD, old.id, user(2), Reponse.NON, seance_id=old.seances[0].id)
    await ProfilService(sessions, clock).give_consent(GUILD, user(3))
    await set_dm_reminders(sessions, clock, GUILD, user(4), True)
    async with sessions.begin() as s:
        s.add(JumelageRound(guild_id=GUILD, ran_at=clock.now(), n_participants=0, n_left_out=0))
    # 2 asked a question, long ago: the question stays (the FAQ), without its author.
    chantier = await ChantierService(sessions, clock).create(GUILD, "Accueil")
    await ChantierService(sessions, clock).set_discord_ids(chantier.id, forum_id=GUILD + 1)
    asked = await QuestionService(sessions, clock).ask(
        GUILD, user(2), chantier.slug, "Logement", "Logement ?"
    )

    clock.set(datetime(2028, 11, 1, 12, tzinfo=UTC))
    recent = await ateliers.create(
        GUILD, AtelierDraft(titre="Récent", seances=[seance(date(2028, 12, 1))])
    )
    await rsvp.answer(GUILD, recent.id, user(3), Reponse.OUI)
    await privacy.erase(GUILD, user(1))  # pseudonymized: the old atelier had happened

    clock.set(datetime(2029, 1, 10, 12, tzinfo=UTC))
    async with sessions.begin() as s:
        await repo.upsert_membre(s, GUILD, user(5), clock.now())  # new, nothing yet: kept
    result = await privacy.purge_retention()

    assert (result.ateliers, result.inscriptions, result.seance_reponses) == (1, 4, 1)
    assert (result.rounds, result.membres) == (1, 2)
    async with sessions() as s:
        left = (await s.execute(select(Inscription.atelier_id))).scalars().all()
        kept_users = set((await s.execute(select(Membre.user_id))).scalars())
    assert left == [recent.id]
    assert kept_users == {user(3), user(4), user(5)}  # 1 (pseudonymized) and 2 are gone
    async with sessions() as s:
        question = await s.get(Question, asked.question_id)
    assert question is not None and question.asker_membre_id is None
    assert (await ateliers.get(old.id)).counts.inscrits == 0  # the atelier itself stays
    assert (await privacy.purge_retention()).inscriptions == 0
