"""Run a real discord.py client against the fake inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

import discord

from .patience import patient

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def run_bot(
    bot: ClientT,
    fake: FakeDiscord,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> AsyncIterator[ClientT]:
    """Start ``bot`` with the fake's token, wait for ``on_ready``, and close it on exit.

    Create the client with a small ``guild_ready_timeout`` (e.g. 0.1) or start-up takes 2 s.
    """
    task = asyncio.create_task(bot.start(fake.token), name="fake-discord-bot")
    try:
        async with asyncio.timeout(patient(timeout)):
            while not bot.is_ready():
                if task.done():
                    task.result()  # re-raise the login or gateway error
                    raise RuntimeError("bot stopped before it was ready")
                await asyncio.sleep(0.01)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout)
