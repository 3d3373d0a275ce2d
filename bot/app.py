"""Building and running the bot exactly as production does (the end-to-end tests use these)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from bot.config import Settings
from bot.core import PartageBot

log = logging.getLogger(__name__)


def build_bot(settings: Settings, **options: Any) -> PartageBot:
    """The production bot. Tests pass only what the fake Discord needs (a clock, a shorter
    ``guild_ready_timeout``)."""
    return PartageBot(settings, **options)


async def run_bot(bot: PartageBot, token: str) -> None:
    """Log in, serve until closed, and close gracefully on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def _stop(signame: str) -> None:
        if not stopping:
            log.info("%s received: closing the gateway, the scheduler and the database", signame)
            stopping.append(loop.create_task(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not available outside the main thread or on Windows: then Ctrl-C still stops it.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, _stop, sig.name)
    try:
        async with bot:
            await bot.start(token)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        if stopping:
            await stopping[0]
