"""What a post, DM or edit may come to: Discord's answers as transient or permanent failures,
shared by the outbox's sender and the reminders' sender."""

from __future__ import annotations

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
