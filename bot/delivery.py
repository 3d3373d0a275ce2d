"""What a post, DM or edit may come to: Discord's answers as transient or permanent failures,
shared by the outbox's sender and the reminders' sender."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
import discord

# What a post or DM may raise besides a bug: Discord's answers, network trouble, timeouts.
TRANSPORT_ERRORS = (
    TimeoutError,
    discord.HTTPException,
    discord.RateLimited,
    aiohttp.ClientError,
    OSError,
)
DM_CLOSED_CODE = 50007

#: How long one attempt at a post or DM may take. discord.py retries a 5xx by itself after
#: 1, 3, 5, 7 and 9 s, and a 429 after its retry_after: left alone, one call may hide 25 s of
#: waiting. Bounded, the sender asks again on its own schedule (``db.outbox.backoff``), and the
#: message's nonce (``enforce_nonce``) makes a repeated post return the first one.
ATTEMPT_SECONDS = 2.5

_T = TypeVar("_T")


async def one_attempt(send: Awaitable[_T], seconds: float = ATTEMPT_SECONDS) -> _T:
    """Await one post or DM for at most ``seconds`` (``TimeoutError``, a transient failure,
    past that). Only for a call that carries a nonce, or that is idempotent."""
    async with asyncio.timeout(seconds):
        return await send


class SendFailed(Exception):
    """A post or DM that did not go through. ``permanent``: retrying cannot help (channel gone,
    missing permission, DMs closed); otherwise it is retried with back-off. ``dm_closed``:
    Discord refused the DM with 50007."""

    def __init__(self, reason: str, *, permanent: bool, dm_closed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.dm_closed = dm_closed


def failure_of(exc: BaseException) -> SendFailed:
    """Discord's answer as a transient or permanent failure (50007: DMs closed)."""
    if isinstance(exc, SendFailed):
        return exc
    if isinstance(exc, discord.Forbidden):
        reason = f"403 {exc.code}: {exc.text}"
        return SendFailed(reason, permanent=True, dm_closed=exc.code == DM_CLOSED_CODE)
    if isinstance(exc, discord.NotFound):
        return SendFailed(f"404 {exc.code}: {exc.text}", permanent=True)
    if isinstance(exc, discord.HTTPException):
        transient = exc.status == 429 or exc.status >= 500
        return SendFailed(f"{exc.status} {exc.code}: {exc.text}", permanent=not transient)
    return SendFailed(f"{type(exc).__name__}: {exc}", permanent=False)  # network, timeout
