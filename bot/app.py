"""Running the bot: log in, serve until closed, close gracefully on a signal. The bot itself is
built by the application (``partage.app.build_bot``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator

from bot.core import PartageBot

log = logging.getLogger(__name__)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def on_stop_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """Call ``stop(signal name)`` on SIGTERM or SIGINT while inside (in the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        # Not available outside the main thread or on Windows: then Ctrl-C still stops it.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop, sig.name)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def run_bot(bot: PartageBot, token: str) -> None:
    """Log in, serve until closed, and close gracefully on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def _stop(signame: str) -> None:
        if not stopping:
            log.info("%s received: closing the gateway, the scheduler and the database", signame)
            stopping.append(loop.create_task(bot.close()))

    try:
        with on_stop_signals(_stop):
            async with bot:
                await bot.start(token)
    finally:
        if stopping:
            await stopping[0]
