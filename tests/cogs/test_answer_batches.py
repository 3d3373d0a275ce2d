"""Answers applied together (group commit) give every member exactly what answering alone
would have given, and cost the statements of one answer."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.errors import UserError
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.batch import Answer, AnswerBatch, AnswerResult
from cogs.inscriptions.service import InscriptionService
from db.models import EtatInscription, Inscription, Membre, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, user
from tests.dbutil import queries, statements

REPONSES = [Reponse.OUI, Reponse.OUI, Reponse.OUI, Reponse.NON, Reponse.PEUT_ETRE]


async def _atelier(sessions, clock, capacite: int | None, n_seances: int = 2) -> tuple[int, list]:
    days = [date(2026, 12, 3) + timedelta(days=7 * i) for i in range(n_seances)]
    info = await ateliers_service(sessions, clock).create(
        GUILD,
        AtelierDraft(titre="Accueil", seances=[seance(d) for d in days], capacite=capacite),
    )
    return info.id, [s.id for s in info.seances]


def _script(seed: int, n: int, members: int) -> list[tuple[int, Reponse, int | None]]:
    """(member, answer, séance index or None): mostly whole-atelier answers."""
    rng = random.Random(seed)
    return [
        (
            rng.randrange(members),
            rng.choice(REPONSES),
            rng.choice([None, None, None, None, 0, 1]),
        )
        for _ in range(n)
    ]


def _seen(r: AnswerResult | UserError) -> tuple:
    """What the member is told, and the counts shown with it."""
    if isinstance(r, UserError):
        return ("refused", r.message_id)
    c = r.atelier.counts
    return (
        r.previous,
        r.etat,
        r.position,
        sorted(p.user_id for p in r.promoted),
        (c.inscrits, c.attente, c.peut_etre, c.non),
    )


async def _final(sessions, atelier_id: int) -> dict[int, tuple]:
    """Each member's answer and place in line (ranks are only an order: a batch hands out
    the next ones without reusing the rank of someone who just left the line)."""
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Membre.user_id, Inscription.etat, Inscription.rang_attente)
                .join(Membre, Membre.id == Inscription.membre_id)
                .where(Inscription.atelier_id == atelier_id)
            )
        ).all()
    line = sorted((r, u) for u, e, r in rows if e == EtatInscription.ATTENTE)
    assert len({r for r, _ in line}) == len(line)  # no two with the same rank
    place = {u: i + 1 for i, (_, u) in enumerate(line)}
    return {u: (EtatInscription(e), place.get(u)) for u, e, _ in rows}


@pytest.mark.parametrize(("seed", "capacite"), [(1, 4), (2, 6), (3, None), (4, 1)])
async def test_batches_decide_exactly_as_answers_one_by_one(
    sessions, clock: ManualClock, seed: int, capacite: int | None
) -> None:
    rsvp = InscriptionService(sessions, clock)
    alone_id, alone_seances = await _atelier(sessions, clock, capacite)
    batched_id, batched_seances = await _atelier(sessions, clock, capacite)
    script = _script(seed, 90, members=14)

    def answers(seances: list[int], part) -> list[Answer]:
        return [
            Answer(GUILD, user(m), r, None if s is None else seances[s], f"Membre {m}", "fr")
            for m, r, s in part
        ]

    alone = [
        _seen(r)
        for step in script
        for r in await rsvp.answer_many(alone_id, answers(alone_seances, [step]))
    ]
    rng = random.Random(seed * 7)
    batched: list[tuple] = []
    i = 0
    while i < len(script):
        size = rng.randint(2, 25)
        part = script[i : i + size]
        batched.extend(
            _seen(r) for r in await rsvp.answer_many(batched_id, answers(batched_seances, part))
        )
        i += size

    assert batched == alone
    assert any(s[0] == "refused" for s in alone) or capacite is None or capacite > 1
    assert any(s[0] != "refused" and s[3] for s in alone) or capacite is None  # promotions ran
    final = await _final(sessions, batched_id)
    assert final == await _final(sessions, alone_id)
    registered = [u for u, (e, _) in final.items() if e == EtatInscription.INSCRIT]
    waiting = [p for e, p in final.values() if e == EtatInscription.ATTENTE]
    assert capacite is None or len(registered) <= capacite
    assert sorted(waiting) == list(range(1, len(waiting) + 1))
    assert not waiting or (capacite is not None and len(registered) == capacite)


async def test_an_answer_is_a_few_statements_and_a_batch_costs_the_same(
    engine: AsyncEngine, sessions, clock: ManualClock
) -> None:
    rsvp = InscriptionService(sessions, clock)
    atelier_id, _ = await _atelier(sessions, clock, capacite=30)
    await rsvp.answer(GUILD, atelier_id, user(0), Reponse.OUI, locale="fr")  # the guild's row

    with statements(engine) as one:
        await rsvp.answer_many(atelier_id, [Answer(GUILD, user(1), Reponse.OUI, locale="fr")])
    with statements(engine) as fifty:
        result = await rsvp.answer_many(
            atelier_id, [Answer(GUILD, user(n), Reponse.OUI, locale="fr") for n in range(2, 52)]
        )
    with statements(engine) as known:  # the last in line leaves it (nobody moves up)
        await rsvp.answer_many(atelier_id, [Answer(GUILD, user(51), Reponse.NON, locale="fr")])
    # The atelier locked and read with its séances, its counts and the members known with their
    # inscriptions (PostgreSQL: the lock and the read in one call, ``_Function``); then one
    # write: a newcomer's member row goes with their inscription (SQLite: through the view
    # ``reponse_nouveau_membre``; PostgreSQL: a data-modifying WITH).
    assert len(queries(one)) == 2, one
    assert len(queries(known)) == 2, known
    # Fifty newcomers: the same, with the members and their inscriptions one statement each.
    assert len(queries(fifty)) == 3, fifty
    assert not [s for s in one if s.startswith("INSERT INTO GUILD")]  # once per process
    places = [
        r for r in result if isinstance(r, AnswerResult) and r.etat == EtatInscription.INSCRIT
    ]
    waiting = [r.position for r in result if isinstance(r, AnswerResult) and r.position]
    assert len(places) == 28 and waiting == list(range(1, 23))


async def test_a_newcomer_answering_alone_gets_their_member_row_with_the_inscription(
    sessions, clock: ManualClock
) -> None:
    """The one-statement write for a newcomer: the member row is theirs (id, name, language),
    the inscription points at it; a refused answer creates no member at all."""
    rsvp = InscriptionService(sessions, clock)
    atelier_id, _ = await _atelier(sessions, clock, capacite=1)
    first = await rsvp.answer(GUILD, atelier_id, user(1), Reponse.OUI, display_name="Zoé")
    second = await rsvp.answer(GUILD, atelier_id, user(2), Reponse.OUI, locale="en-GB")
    assert (first.etat, second.etat, second.position) == (
        EtatInscription.INSCRIT,
        EtatInscription.ATTENTE,
        1,
    )
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Membre.id, Membre.user_id, Membre.display_name, Membre.locale)
                .join(Inscription, Inscription.membre_id == Membre.id)
                .where(Inscription.atelier_id == atelier_id)
                .order_by(Membre.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (first.membre_id, user(1), "Zoé", "fr"),
        (second.membre_id, user(2), None, "en-GB"),
    ]
    await ateliers_service(sessions, clock).cancel(GUILD, atelier_id, raison="météo")
    refused = await rsvp.answer_many(atelier_id, [Answer(GUILD, user(3), Reponse.OUI)])
    assert isinstance(refused[0], UserError)
    async with sessions() as s:
        assert (await s.execute(select(Membre).where(Membre.user_id == user(3)))).first() is None


async def test_the_read_function_survives_a_rolled_back_transaction(
    engine, sessions, clock
) -> None:
    """PostgreSQL: the lock-and-read function lives on its connection; a transaction that
    created it and rolled back took it away, and the next answer creates it again."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the lock-and-read function is PostgreSQL's (SQLite locks at BEGIN)")
    await engine.dispose()  # fresh connections: none has the function yet
    rsvp = InscriptionService(sessions, clock)
    atelier_id, _ = await _atelier(sessions, clock, capacite=2)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            batch = AnswerBatch(session, clock.now(), set())
            (result,) = await batch.run(atelier_id, [Answer(GUILD, user(1), Reponse.OUI)])
            assert isinstance(result, AnswerResult)
            raise RuntimeError("rolled back")
    with statements(engine) as sent:
        first = await rsvp.answer(GUILD, atelier_id, user(1), Reponse.OUI)
    assert first.etat == EtatInscription.INSCRIT  # the rolled-back answer left nothing
    assert sum(s.startswith("CREATE OR REPLACE FUNCTION") for s in sent) == 1
    with statements(engine) as sent:
        second = await rsvp.answer(GUILD, atelier_id, user(2), Reponse.OUI)
    assert second.etat == EtatInscription.INSCRIT
    assert not [s for s in sent if s.startswith("CREATE")]  # kept on its connection
