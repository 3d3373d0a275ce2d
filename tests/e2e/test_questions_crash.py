"""A question's post is an outbox row: a real ``python -m bot run`` killed at the exact moment
Discord creates the forum post (before the bot hears back), then started again on the same
database, records that post and never posts the question twice."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.models import OutboxMessage, Question
from db.session import create_engine, session_factory
from tests.e2e.harness import Server
from tests.e2e.membres_world import submit
from tests.e2e.test_ateliers_support import GOUVERNANCE
from tests.e2e.test_between import _forum, _posts
from tests.e2e.test_crash_writes import _bot, _restart
from tests.fakediscord import FakeDiscord

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

TITRE = "Politique d'accueil : par où commencer ?"


async def _rows(db_url: str) -> tuple[list[int | None], list[str]]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            threads = list((await session.execute(select(Question.thread_id))).scalars())
            kinds = [str(k) for k in (await session.execute(select(OutboxMessage.kind))).scalars()]
            return threads, kinds
    finally:
        await engine.dispose()


async def test_a_question_killed_as_its_post_is_created_is_posted_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    async with _bot(fake, server, db_url, tmp_path) as bot:
        forum = _forum(fake, server)
        killed: list[Any] = []

        def observe(record: Any) -> None:
            if record.path.endswith(f"/{forum.id}/threads") and record.status < 300 and not killed:
                killed.append(record)
                assert bot.proc is not None
                os.kill(bot.proc.pid, signal.SIGKILL)

        fake.on_request("POST", "/channels/{channel_id}/threads", observe)
        for _ in range(3):
            opened = fake.slash(
                "question poser",
                user=server.alice,
                channel=server.general,
                options={"chantier": GOUVERNANCE},
                locale="fr",
            )
            assert (await opened.response(timeout=30)).type == 9  # the form
            sent = submit(
                fake,
                opened,
                {"question:titre": TITRE, "question:texte": "Par où commencer ?"},
            )
            try:
                await fake.wait_until(lambda s=sent: bool(killed) or s.responded, timeout=30)
                break
            except TimeoutError:
                # On a loaded machine the change may miss Discord's 3 s: rolled back, never
                # acknowledged, nothing saved (bot/interactions.py); the member asks again.
                continue
        try:
            await fake.wait_until(lambda: bool(killed), timeout=60)
        except TimeoutError:
            raise AssertionError(bot.log()[-4000:]) from None
        assert len(_posts(fake, forum)) == 1  # Discord made it; the bot never heard back
        await _restart(fake, bot, tmp_path)
        await fake.wait_until(
            lambda: "question 1 posted" in bot.log() or "delivered" in bot.log(), timeout=30
        )
        await asyncio.sleep(2.0)  # a second post would come now
        (post,) = _posts(fake, forum)
        assert post.name == TITRE
        threads, kinds = await _rows(db_url)
        assert threads == [post.id]  # the post made before the crash is the question's
        assert "question" not in kinds
        assert await bot.terminate() == 0, bot.log()[-3000:]
