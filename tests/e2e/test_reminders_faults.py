"""A reminder held up by Discord (a storm of 429s, a window of 502s) goes out within seconds of
the fault ending: each attempt is bounded, and the sender asks again 1 then 2 s apart."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_reminders import new_atelier, rappels, reminder_settings
from tests.fakediscord import FakeDiscord


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("fault", "offset"),
    [("eight 429s", "30s"), ("a 40-second window of 502s", "70s")],
)
async def test_a_reminder_arrives_within_five_seconds_of_the_fault_ending(
    fake_discord: FakeDiscord, server: Server, db_url: str, fault: str, offset: str
) -> None:
    fake = fake_discord
    lead = int(offset.removesuffix("s"))
    async with partage(fake, reminder_settings(fake, server, db_url, offset)) as bot:
        chantier = await bot.services.chantiers.by_slug(server.guild.id, "gouvernance")
        assert chantier is not None and chantier.channel_id
        due = (bot.clock.now() + timedelta(seconds=4)).replace(microsecond=0)
        await new_atelier(bot, server, due + timedelta(seconds=lead))
        await settle(fake, bot)  # the announcement goes out before the fault begins
        route = f"/channels/{chantier.channel_id}/messages"
        if fault == "eight 429s":
            rule = fake.fail_next("POST", route, status=429, times=8, retry_after=1.0)
        else:
            rule = fake.fail_for("POST", route, 40.0, status=502)
        posts = lambda: rappels(fake.channel_messages(chantier.channel_id))  # noqa: E731
        await fake.wait_until(lambda: len(posts()) == 1, timeout=60)
        await asyncio.sleep(1.0)  # a duplicate would show by now
        attempts = [
            c for c in fake.calls("POST", route) if c.json and "Rappel" in c.json["content"]
        ]

    assert len(posts()) == 1
    refused = [c for c in attempts if c.status != 200]
    assert len(refused) == rule.served and rule.served >= (8 if fault == "eight 429s" else 10)
    fault_ended = refused[-1].at if fault == "eight 429s" else rule.until
    (sent,) = [c for c in attempts if c.status == 200]
    assert 0 <= sent.at - fault_ended < 5.0, (fault, sent.at - fault_ended)
    assert {c.json["nonce"] for c in attempts} == {posts()[0].nonce}
    assert time.monotonic() >= fault_ended
