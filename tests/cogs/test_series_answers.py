"""« Toute la série » on the services: one saved click answers « oui » to every atelier of the
rest of the series, atelier by atelier; a stop midway resumes where it stopped, and no atelier
is answered twice. A real database, a manual clock, no Discord."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from cogs.ateliers import series
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions import service as inscriptions_service
from cogs.inscriptions.service import Click, InscriptionService, SeriesAnswers
from db.models import EtatInscription, Inscription, Intake, IntakeStatus, Membre, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

ALICE, BOB = user(1), user(2)


@pytest.fixture
def rsvp(sessions, clock: ManualClock) -> InscriptionService:
    return InscriptionService(sessions, clock)


async def _series(sessions, clock) -> list[int]:
    """Four weekly ateliers of one place each."""
    draft = AtelierDraft(titre="Série", seances=[seance(date(2030, 10, 22))], capacite=1)
    drafts = series.series_drafts(draft, series.Repetition.HEBDOMADAIRE, date(2030, 11, 12))
    infos = await ateliers_service(sessions, clock).create_many(
        GUILD, drafts, serie=True, announce=False
    )
    return [i.id for i in infos]


def _click(ids: list[int], interaction_id: int = 1001) -> Click:
    return Click(
        interaction_id=interaction_id,
        application_id=1,
        token="token",
        guild_id=GUILD,
        user_id=ALICE,
        atelier_id=ids[0],
        seance_id=None,
        reponse=Reponse.OUI,
        display_name="alice",
        locale="fr",
        serie=tuple(ids),
    )


async def _etats(sessions, user_id: int, ids: list[int]) -> list[EtatInscription | None]:
    async with sessions() as s:
        rows = await s.execute(
            select(Inscription.atelier_id, Inscription.etat)
            .join(Membre, Membre.id == Inscription.membre_id)
            .where(Membre.user_id == user_id, Inscription.atelier_id.in_(ids))
        )
        found = {a: EtatInscription(e) for a, e in rows}
    return [found.get(i) for i in ids]


async def _intake(sessions, intake_id: int) -> Intake:
    async with sessions() as s:
        row = await s.get(Intake, intake_id)
        assert row is not None
        return row


async def test_a_series_answer_stopped_midway_resumes_and_answers_each_atelier_once(
    sessions, clock: ManualClock, rsvp: InscriptionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _series(sessions, clock)
    await rsvp.answer(GUILD, ids[2], BOB, Reponse.OUI)  # the third's only place
    [intake_id] = await rsvp.receive([_click(ids)])
    saved = (await _intake(sessions, intake_id)).result
    assert saved == {"serie": ids, "done": {}}

    # The process stops while the third atelier is being answered: its transaction never
    # commits; the first two are saved with their outcome.
    real_run = inscriptions_service.AnswerBatch.run

    async def crash_on_third(self, atelier_id, answers):
        if atelier_id == ids[2]:
            raise RuntimeError("killed")
        return await real_run(self, atelier_id, answers)

    monkeypatch.setattr(inscriptions_service.AnswerBatch, "run", crash_on_third)
    with pytest.raises(RuntimeError):
        await SeriesAnswers(rsvp).apply(intake_id)
    monkeypatch.setattr(inscriptions_service.AnswerBatch, "run", real_run)
    assert await _etats(sessions, ALICE, ids) == [EtatInscription.INSCRIT] * 2 + [None, None]
    row = await _intake(sessions, intake_id)
    assert row.status == IntakeStatus.RECEIVED and sorted(row.result["done"]) == sorted(
        str(i) for i in ids[:2]
    )

    # Meanwhile alice says « non » to the first: applying the series again must not undo it.
    await rsvp.answer(GUILD, ids[0], ALICE, Reponse.NON)

    # The next start: the saved click is found unfinished, with its series, and finished.
    [pending] = await rsvp.unfinished(clock.now() - timedelta(minutes=14))
    assert pending.intake_id == intake_id and pending.click.serie == tuple(ids)
    outcomes = await SeriesAnswers(rsvp).apply(intake_id)
    assert [a for a, _ in outcomes] == ids
    assert [o["etat"] for _, o in outcomes] == [
        EtatInscription.INSCRIT.value,
        EtatInscription.INSCRIT.value,
        EtatInscription.ATTENTE.value,
        EtatInscription.INSCRIT.value,
    ]
    assert outcomes[2][1]["position"] == 1
    assert await _etats(sessions, ALICE, ids) == [
        EtatInscription.NON,  # not answered twice
        EtatInscription.INSCRIT,
        EtatInscription.ATTENTE,
        EtatInscription.INSCRIT,
    ]
    assert (await _intake(sessions, intake_id)).status == IntakeStatus.APPLIED

    # Applied: a third run changes nothing and tells the same outcomes.
    assert await SeriesAnswers(rsvp).apply(intake_id) == outcomes
    assert await _etats(sessions, BOB, ids) == [None, None, EtatInscription.INSCRIT, None]


async def test_a_refused_atelier_is_told_and_the_others_are_answered(
    sessions, clock: ManualClock, rsvp: InscriptionService
) -> None:
    ids = await _series(sessions, clock)
    [intake_id] = await rsvp.receive([_click(ids)])
    await ateliers_service(sessions, clock).cancel(GUILD, ids[1])
    outcomes = dict(await SeriesAnswers(rsvp).apply(intake_id))
    assert "error" in outcomes[ids[1]] and "annulé" in str(outcomes[ids[1]]["error"])
    assert [outcomes[i]["etat"] for i in ids if i != ids[1]] == [EtatInscription.INSCRIT.value] * 3
    assert await _etats(sessions, ALICE, ids) == [
        EtatInscription.INSCRIT,
        None,
        EtatInscription.INSCRIT,
        EtatInscription.INSCRIT,
    ]


async def test_an_old_series_answer_partly_applied_is_finished_not_expired(
    sessions, clock: ManualClock, rsvp: InscriptionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _series(sessions, clock)
    started, untouched = await rsvp.receive([_click(ids, 1001), _click(ids, 1002)])
    real_run = inscriptions_service.AnswerBatch.run

    async def crash_on_second(self, atelier_id, answers):
        if atelier_id == ids[1]:
            raise RuntimeError("killed")
        return await real_run(self, atelier_id, answers)

    monkeypatch.setattr(inscriptions_service.AnswerBatch, "run", crash_on_second)
    with pytest.raises(RuntimeError):
        await SeriesAnswers(rsvp).apply(started)
    monkeypatch.setattr(inscriptions_service.AnswerBatch, "run", real_run)
    clock.advance(timedelta(hours=1))  # both interaction tokens are dead
    [pending] = await rsvp.unfinished(clock.now() - timedelta(minutes=14))
    assert pending.intake_id == started
    assert (await _intake(sessions, untouched)).status == IntakeStatus.EXPIRED
    await SeriesAnswers(rsvp).apply(started)
    assert await _etats(sessions, ALICE, ids) == [EtatInscription.INSCRIT] * 4
