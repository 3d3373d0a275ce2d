"""Running the bot: log in, serve until closed, close gracefully on a signal. The bot itself is
built by the application (``partage.app.build_bot``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.core import PartageBot

log = logging.getLogger(__name__)


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
