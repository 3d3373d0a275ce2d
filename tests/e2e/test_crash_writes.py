"""Saved, then told, across a SIGKILL: a real ``python -m bot run`` killed at the exact moment
Discord records an acknowledgement (the fake kills it before its reply leaves), then started
again on the same database. Nothing acknowledged is lost; nothing is told twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.models import EtatInscription, Inscription, Membre
from db.session import create_engine, session_factory
from tests.e2e.harness import STAFF_ROLE, Server
from tests.e2e.processes import BotProcess
from tests.e2e.test_ateliers_support import DATES, GOUVERNANCE, announcements, chantier_channel
from tests.fakediscord import FakeDiscord, InteractionHandle
from tests.fakediscord.models import Message
from tests.french import fr

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

CALLBACK = "/interactions/{interaction_id}/{token}/callback"
REGISTERED = "votre place est réservée"
WAITING = re.compile(r"vous êtes n°\s(\d+) sur la liste d'attente")
PROMOTED = fr("une place s'est libérée pour « Territoire et immigration »")
CANCELLED = fr("L'atelier « Territoire et immigration » est annulé.")


def _env(server: Server, db_url: str) -> dict[str, str]:
    return {
        "PARTAGE_DATABASE__URL": db_url,
        "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
        "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
        "PARTAGE_REMINDERS__DIGEST": "",
    }


@asynccontextmanager
async def _bot(
    fake: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    bot = BotProcess(fake, _env(server, db_url), tmp_path / "bot.log")
    try:
        await bot.start()
        await fake.wait_for_bot(1, timeout=60)
        # The chantier's channel saved (not only created): announcements go there.
        await fake.wait_until(lambda: "chantier gouvernance provisioned" in bot.log(), timeout=60)
        yield bot
    finally:
        if bot.proc and bot.proc.returncode is None:
            await bot.kill()


def _kill_on(fake: FakeDiscord, bot: BotProcess, nth: int, accept: Callable[[Any], bool]) -> None:
    """SIGKILL the bot when Discord records the ``nth`` accepted acknowledgement, before the
    bot hears back from it."""
    seen: list[int] = []

    def observe(record: Any) -> None:
        if not accept(record) or len(seen) >= nth:
            return
        seen.append(1)
        if len(seen) == nth:
            assert bot.proc is not None
            os.kill(bot.proc.pid, signal.SIGKILL)

    fake.on_request("POST", CALLBACK, observe, status=200)


def _for(handle: InteractionHandle) -> Callable[[Any], bool]:
    return lambda record: record.params.get("interaction_id") == str(handle.id)


async def _restart(fake: FakeDiscord, bot: BotProcess, tmp_path: Path) -> None:
    assert bot.proc is not None
    await bot.proc.wait()
    bot.log_path = tmp_path / "bot-restarted.log"
    await bot.start()
    await fake.wait_for_bot(1, timeout=60)


async def _atelier(fake: FakeDiscord, server: Server, **options: Any) -> tuple[int, Message]:
    values = {"titre": "Territoire et immigration", "chantier": GOUVERNANCE, "dates": DATES}
    values.update(options)
    handle = fake.slash(
        "atelier creer", user=server.staff, channel=server.general, options=values, locale="fr"
    )
    text = (await handle.wait_answer(timeout=30)).content
    assert fr("n° ") in text, text
    atelier_id = int(re.search(r"n°\s(\d+)", text).group(1))  # type: ignore[union-attr]
    channel = chantier_channel(fake, server)
    await fake.wait_until(lambda: announcements(fake, channel), timeout=20)
    [message] = announcements(fake, channel)
    return atelier_id, message


async def _etats(db_url: str, atelier_id: int) -> dict[int, EtatInscription]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(Membre.user_id, Inscription.etat)
                .join(Membre, Membre.id == Inscription.membre_id)
                .where(Inscription.atelier_id == atelier_id)
            )
            return {user_id: EtatInscription(etat) for user_id, etat in rows}
    finally:
        await engine.dispose()


async def test_a_burst_killed_midway_loses_no_acknowledged_click(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    members = [fake.add_member(server.guild, f"membre{i:02}") for i in range(40)]
    async with _bot(fake, server, db_url, tmp_path) as bot:
        atelier_id, message = await _atelier(fake, server, capacite=30)
        _kill_on(fake, bot, 15, lambda record: True)
        handles = [
            fake.click(message, f"rsvp:{atelier_id}:oui", user=m, locale="fr") for m in members
        ]
        await _restart(fake, bot, tmp_path)
        acknowledged = [h for h in handles if h.responded]
        assert len(acknowledged) >= 15
        answers = {h.user.id: (await h.wait_answer(timeout=30)).content for h in acknowledged}
        await asyncio.sleep(1.0)  # a second answer would come now
        etats = await _etats(db_url, atelier_id)
        assert await bot.terminate() == 0, bot.log()[-3000:]

    # Every acknowledged click is recorded, and its member was told what was recorded.
    for h in acknowledged:
        etat, text = etats.get(h.user.id), answers[h.user.id]
        if REGISTERED in text:
            assert etat is EtatInscription.INSCRIT, (h.user.id, text)
        else:
            assert WAITING.search(text) and etat is EtatInscription.ATTENTE, (h.user.id, text)
        assert len(h.callbacks) == 1 and len(h.followup_ids) <= 1
    # Exact counts: never more than 30 places, the waiting list only once they are all taken.
    registered = sum(e is EtatInscription.INSCRIT for e in etats.values())
    waiting = sum(e is EtatInscription.ATTENTE for e in etats.values())
    assert registered <= 30 and (waiting == 0 or registered == 30)
    assert "Exception" not in bot.log(), bot.log()[-3000:]


async def test_a_non_that_promotes_killed_after_its_acknowledgement_tells_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    alice, bob = server.alice, server.bob
    async with _bot(fake, server, db_url, tmp_path) as bot:
        atelier_id, message = await _atelier(fake, server, capacite=1)
        for member in (alice, bob):
            click = fake.click(message, f"rsvp:{atelier_id}:oui", user=member, locale="fr")
            await click.wait_answer(timeout=20)
        assert WAITING.search(click.message.content)  # type: ignore[union-attr]
        gives_up = fake.click(message, f"rsvp:{atelier_id}:non", user=alice, locale="fr")
        _kill_on(fake, bot, 1, _for(gives_up))
        await _restart(fake, bot, tmp_path)
        told = await gives_up.wait_answer(timeout=30)
        assert "vous ne participerez pas" in told.content
        await fake.wait_until(lambda: any(PROMOTED in m.content for m in fake.dms(bob)), 30)
        await asyncio.sleep(2.0)  # a second notice would come now
        assert [PROMOTED in m.content for m in fake.dms(bob)].count(True) == 1
        etats = await _etats(db_url, atelier_id)
        assert (etats[alice.id], etats[bob.id]) == (EtatInscription.NON, EtatInscription.INSCRIT)
        assert await bot.terminate() == 0, bot.log()[-3000:]


async def test_a_cancellation_killed_after_its_acknowledgement_tells_everyone_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    members = [fake.add_member(server.guild, f"membre{i}") for i in range(4)]
    async with _bot(fake, server, db_url, tmp_path) as bot:
        atelier_id, message = await _atelier(fake, server, capacite=3)
        for member in members:  # three places, one waiting
            click = fake.click(message, f"rsvp:{atelier_id}:oui", user=member, locale="fr")
            await click.wait_answer(timeout=20)
        cancel = fake.slash(
            "atelier annuler",
            user=server.staff,
            channel=server.general,
            options={"atelier": str(atelier_id), "raison": "tempête"},
            locale="fr",
        )
        _kill_on(fake, bot, 1, _for(cancel))
        await _restart(fake, bot, tmp_path)
        await fake.wait_until(
            lambda: all(any(CANCELLED in m.content for m in fake.dms(u)) for u in members), 30
        )
        await asyncio.sleep(2.0)  # a second notice would come now
        for member in members:
            assert [CANCELLED in m.content for m in fake.dms(member)].count(True) == 1
        assert await bot.terminate() == 0, bot.log()[-3000:]
