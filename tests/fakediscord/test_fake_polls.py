"""Native polls on the fake: a bot sends one through discord.py, users vote, the bot reads the
counts back (message fetch) and the voters of an answer; Discord's limits are enforced."""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from tests.fakediscord import FakeDiscord
from tests.fakediscord.conftest import MiniBot, Scene


async def test_a_poll_is_stored_voted_and_read_back(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    poll = discord.Poll(question="Comment était-ce ?", duration=dt.timedelta(hours=48))
    for text in ("Excellent", "Bien", "Moyen", "Décevant"):
        poll.add_answer(text=text)
    sent = await channel.send(poll=poll)
    stored = fake_discord.messages[sent.id]
    assert stored.poll is not None
    assert [a["poll_media"]["text"] for a in stored.poll["answers"]] == [
        "Excellent",
        "Bien",
        "Moyen",
        "Décevant",
    ]
    assert sent.poll is not None and sent.poll.question == "Comment était-ce ?"
    assert sent.poll.expires_at is not None
    hours = (sent.poll.expires_at - discord.utils.utcnow()).total_seconds() / 3600
    assert 47.9 < hours <= 48.0

    fake_discord.vote(stored, 1, world.alice)
    fake_discord.vote(stored, 1, world.bob)
    fake_discord.vote(stored, 3, world.bob)  # changes bob's vote: one answer each
    fetched = await channel.fetch_message(sent.id)
    assert fetched.poll is not None
    counts = {a.text: a.vote_count for a in fetched.poll.answers}
    assert counts == {"Excellent": 1, "Bien": 0, "Moyen": 1, "Décevant": 0}
    assert not fetched.poll.is_finalised()
    answer = fetched.poll.get_answer(3)
    assert answer is not None
    voters = [u.id async for u in answer.voters()]
    assert voters == [world.bob.id]


async def test_poll_limits(fake_discord: FakeDiscord, world: Scene, bot: MiniBot) -> None:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    too_long = discord.Poll(question="Q", duration=dt.timedelta(hours=1))
    too_long.add_answer(text="x" * 56)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(poll=too_long)
    assert caught.value.status == 400
    assert fake_discord.channel_messages(world.general) == []  # nothing was stored
    plain = fake_discord.user_sends(world.general, world.alice, "bonjour")
    with pytest.raises(ValueError):
        fake_discord.vote(plain, 1, world.bob)
