"""« Toute la série » across a SIGKILL: a real ``python -m bot run`` killed after the click was
acknowledged (nothing applied yet), or in the middle of the series (some ateliers answered,
the next one held by a row lock the test keeps), then started again on the same database.
Every atelier of the series is answered once, and the member is told once, a line per
atelier."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from db.models import Atelier, EtatInscription, Inscription, Intake, IntakeStatus, Membre
from db.session import create_engine, session_factory
from tests.e2e.harness import Server
from tests.e2e.test_ateliers_support import GOUVERNANCE, announcements, chantier_channel
from tests.e2e.test_crash_writes import _bot, _etats, _for, _kill_on, _restart
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import Message
from tests.french import fr

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

HEADER = fr("Votre réponse « oui » à toute la série :")
REGISTERED = "Votre place est réservée."
FIRST_IN_LINE = fr("Vous êtes n° 1 sur la liste d'attente.")


async def _series(
    fake: FakeDiscord, server: Server, db_url: str
) -> tuple[list[int], list[Message]]:
    """Four weekly ateliers of one place each; their ids and announcements, in order."""
    handle = fake.slash(
        "atelier creer",
        user=server.staff,
        channel=server.general,
        options={
            "titre": "Territoire et immigration",
            "chantier": GOUVERNANCE,
            "dates": "22 octobre 2030 13 h 30",
            "capacite": 1,
            "repetition": "hebdomadaire",
            "jusqu-au": "12 novembre 2030",
        },
        locale="fr",
    )
    text = (await handle.wait_answer(timeout=30)).content
    first = int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            ids = list(
                (
                    await session.execute(
                        select(Atelier.id).where(Atelier.serie_id == first).order_by(Atelier.id)
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    assert len(ids) == 4, text
    channel = chantier_channel(fake, server)
    await fake.wait_until(lambda: len(announcements(fake, channel)) == 4, timeout=30)
    by_id = {
        i: m for m in announcements(fake, channel) for i in ids if f"rsvp:{i}:oui" in m.custom_ids()
    }
    return ids, [by_id[i] for i in ids]


async def _alice(db_url: str, ids: list[int], alice_id: int) -> list[EtatInscription | None]:
    return [(await _etats(db_url, i)).get(alice_id) for i in ids]


def _expected_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- ")]


async def test_a_series_answer_killed_after_its_acknowledgement_is_applied_and_told_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    alice, bob = server.alice, server.bob
    async with _bot(fake, server, db_url, tmp_path) as bot:
        ids, messages = await _series(fake, server, db_url)
        taken = fake.click(messages[2], f"rsvp:{ids[2]}:oui", user=bob, locale="fr")
        await taken.wait_answer(timeout=20)
        serie = fake.click(messages[0], f"rsvp:{ids[0]}:serie", user=alice, locale="fr")
        _kill_on(fake, bot, 1, _for(serie))
        await _restart(fake, bot, tmp_path)
        told = await serie.wait_answer(timeout=30)
        await asyncio.sleep(1.5)  # a second answer would come now
        etats = await _alice(db_url, ids, alice.id)
        assert await bot.terminate() == 0, bot.log()[-3000:]
    assert "finishing a series answer saved before a stop" in bot.log()
    assert HEADER in told.content
    lines = _expected_lines(told.content)
    assert len(lines) == 4, told.content
    assert [REGISTERED in line for line in lines] == [True, True, False, True]
    assert FIRST_IN_LINE in lines[2]
    assert etats == [
        EtatInscription.INSCRIT,
        EtatInscription.INSCRIT,
        EtatInscription.ATTENTE,
        EtatInscription.INSCRIT,
    ]
    assert len(serie.callbacks) == 1 and len(serie.followup_ids) <= 1
    assert "Exception" not in bot.log(), bot.log()[-3000:]


async def test_a_series_answer_killed_midway_answers_each_atelier_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("holding one atelier's row lock needs PostgreSQL (SQLite locks it all)")
    fake = fake_discord
    alice = server.alice
    async with _bot(fake, server, db_url, tmp_path) as bot:
        ids, messages = await _series(fake, server, db_url)
        engine = create_engine(db_url)
        try:
            # The third atelier is locked: the first two are answered, the third waits.
            async with engine.connect() as holder:
                await holder.begin()
                await holder.execute(
                    select(Atelier.id).where(Atelier.id == ids[2]).with_for_update()
                )
                serie = fake.click(messages[0], f"rsvp:{ids[0]}:serie", user=alice, locale="fr")

                async def two_answered() -> bool:
                    return (await _alice(db_url, ids, alice.id))[:2] == [
                        EtatInscription.INSCRIT
                    ] * 2

                for _ in range(200):
                    if await two_answered():
                        break
                    await asyncio.sleep(0.1)
                assert await two_answered()
                assert bot.proc is not None
                os.kill(bot.proc.pid, signal.SIGKILL)
                await bot.proc.wait()
                await holder.rollback()
            assert serie.responded  # acknowledged before anything was applied
            assert await _alice(db_url, ids, alice.id) == [EtatInscription.INSCRIT] * 2 + [None] * 2
            # A marker: had the restart answered the first atelier again, alice would be back
            # on its list.
            async with engine.begin() as conn:
                membre = (
                    await conn.execute(select(Membre.id).where(Membre.user_id == alice.id))
                ).scalar_one()
                await conn.execute(
                    update(Inscription)
                    .where(Inscription.atelier_id == ids[0], Inscription.membre_id == membre)
                    .values(etat=EtatInscription.NON, inscrit_at=None)
                )
        finally:
            await engine.dispose()
        await _restart(fake, bot, tmp_path)
        told = await serie.wait_answer(timeout=30)
        await asyncio.sleep(1.5)  # a second answer would come now
        etats = await _alice(db_url, ids, alice.id)
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                status = (
                    await session.execute(
                        select(Intake.status).where(Intake.interaction_id == serie.id)
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        assert await bot.terminate() == 0, bot.log()[-3000:]
    assert etats == [
        EtatInscription.NON,  # answered once, before the kill
        EtatInscription.INSCRIT,
        EtatInscription.INSCRIT,
        EtatInscription.INSCRIT,
    ]
    assert status == IntakeStatus.ANSWERED
    lines = _expected_lines(told.content)
    assert HEADER in told.content and len(lines) == 4, told.content
    assert all(REGISTERED in line for line in lines)
    assert len(serie.callbacks) == 1 and len(serie.followup_ids) <= 1
    assert "Exception" not in bot.log(), bot.log()[-3000:]
