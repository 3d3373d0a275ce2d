"""The outbox's repository and store. ``enqueue`` is called by a use case inside its own
transaction (STYLE.md rule 7): what the change says is committed with the change or not at all.
``OutboxStore`` is the sender's side: claim, then send, then record (rule 8)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxKind, OutboxMessage, OutboxStatus
from db.session import Sessions, notify_after_commit

log = logging.getLogger(__name__)

#: The flag a transaction sets when it wrote outbox rows: the sender is woken after the commit.
OUTBOX = "outbox"
#: How long a message may wait for Discord before it is given up (a notice about a séance that
#: has begun is no use; an announcement refresh is superseded by the next one anyway).
DEFAULT_TTL = timedelta(hours=6)
ERROR_MAX = 500
RETRY_BASE = timedelta(seconds=1)  # first wait after a transient failure, doubled each time
#: The longest wait between two attempts: with ``bot.delivery.ATTEMPT_SECONDS`` per attempt,
#: Discord is asked again at least every few seconds, so a message goes out within 5 s of a
#: fault ending (a 429 storm, a window of 502s).
RETRY_MAX = timedelta(seconds=2)


def backoff(attempts: int) -> timedelta:
    """1 s, then 2 s between attempts (outbox rows and reminder deliveries alike)."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def outbox_nonce(kind: OutboxKind, topic: str | None, payload: dict[str, Any], at: datetime) -> str:
    """A Discord nonce (≤ 25 characters) stable for one row: a retried post is not doubled."""
    digest = hashlib.blake2b(
        f"{kind}|{topic}|{sorted(payload.items())!r}|{at.isoformat()}".encode(), digest_size=12
    ).hexdigest()
    return f"o{digest}"[:25]


def enqueue(
    session: AsyncSession,
    kind: OutboxKind,
    payload: dict[str, Any],
    *,
    now: datetime,
    guild_id: int | None,
    topic: str | None = None,
    user_id: int | None = None,
    due_at: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> None:
    """Add a message to the outbox, in the caller's transaction. ``user_id``: the member it
    is for (an erasure deletes it)."""
    session.add(
        OutboxMessage(
            guild_id=guild_id,
            user_id=user_id,
            kind=kind,
            topic=topic,
            payload=payload,
            status=OutboxStatus.PENDING,
            nonce=outbox_nonce(kind, topic, payload, now),
            attempts=0,
            created_at=now,
            due_at=due_at or now,
            expires_at=(due_at or now) + ttl,
        )
    )
    notify_after_commit(session, OUTBOX)


@dataclass(frozen=True)
class DueRow:
    id: int
    guild_id: int | None
    kind: OutboxKind
    topic: str | None


@dataclass(frozen=True)
class OutboxItem:
    """A claimed message, as its handler receives it. ``ids``: every row it serves (rows of
    the same ``refresh`` topic are done together)."""

    id: int
    ids: tuple[int, ...]
    guild_id: int | None
    kind: OutboxKind
    topic: str | None
    payload: dict[str, Any]
    nonce: str
    attempts: int
    created_at: datetime
    expires_at: datetime


class OutboxStore:
    """The sender's transactions, one per step."""

    def __init__(self, sessions: Sessions, worker: str) -> None:
        self.sessions = sessions
        self.worker = worker[:100]

    async def due(self, now: datetime, limit: int = 100) -> list[DueRow]:
        """Pending rows due by ``now``, oldest first."""
        async with self.sessions() as s:
            rows = await s.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.guild_id,
                    OutboxMessage.kind,
                    OutboxMessage.topic,
                )
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(limit)
            )
            return [DueRow(i, g, OutboxKind(k), t) for i, g, k, t in rows.tuples()]

    async def next_due(self) -> datetime | None:
        async with self.sessions() as s:
            return await s.scalar(
                select(OutboxMessage.due_at)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(OutboxMessage.due_at)
                .limit(1)
            )

    async def claim(self, row_id: int, now: datetime) -> OutboxItem | None:
        """Take one due row for sending (with every pending row of its ``refresh`` topic);
        None when another sender has it, or it expired (then it is closed as failed)."""
        mine = {"status": OutboxStatus.SENDING, "claimed_by": self.worker, "claimed_at": now}
        async with self.sessions.begin() as s:
            row = await s.get(OutboxMessage, row_id)
            if row is None or row.status != OutboxStatus.PENDING:
                return None
            if now >= row.expires_at:
                await self._close(s, [row_id], OutboxStatus.FAILED, "expired before delivery")
                return None
            where: list[Any] = [
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.due_at <= now,
            ]
            if row.kind == OutboxKind.REFRESH and row.topic is not None:
                where += [
                    OutboxMessage.kind == OutboxKind.REFRESH,
                    OutboxMessage.topic == row.topic,
                ]
            else:
                where.append(OutboxMessage.id == row_id)
            ids = await _update(s, where, mine)
            if row_id not in ids:
                return None
            await s.refresh(row)
            return OutboxItem(
                id=row.id,
                ids=tuple(sorted(ids)),
                guild_id=row.guild_id,
                kind=OutboxKind(row.kind),
                topic=row.topic,
                payload=dict(row.payload or {}),
                nonce=row.nonce,
                attempts=row.attempts,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )

    async def sent(self, item: OutboxItem) -> None:
        """A delivered message is deleted: the outbox keeps nothing about a member once it
        has told them (privacy by design); failed ones stay 30 days for the operators."""
        async with self.sessions.begin() as s:
            await s.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.id.in_(item.ids), OutboxMessage.status == OutboxStatus.SENDING
                )
            )

    async def failed(
        self, item: OutboxItem, now: datetime, error: str, *, permanent: bool
    ) -> datetime | None:
        """Record a failed attempt: back to pending for a retry (returns when), or failed for
        good (permanent, or no time left before it expires)."""
        retry_at = now + backoff(item.attempts + 1)
        async with self.sessions.begin() as s:
            if permanent or retry_at >= item.expires_at:
                await self._close(s, item.ids, OutboxStatus.FAILED, error)
                return None
            await _update(
                s,
                [OutboxMessage.id.in_(item.ids), OutboxMessage.status == OutboxStatus.SENDING],
                {
                    "status": OutboxStatus.PENDING,
                    "due_at": retry_at,
                    "attempts": OutboxMessage.attempts + 1,
                    "error": error[:ERROR_MAX],
                    "claimed_by": None,
                    "claimed_at": None,
                },
            )
        return retry_at

    async def postpone(self, item: OutboxItem, until: datetime) -> None:
        """Give a claimed row back, untried, to be sent at ``until`` (an edit spaced out)."""
        async with self.sessions.begin() as s:
            await _update(
                s,
                [OutboxMessage.id.in_(item.ids), OutboxMessage.status == OutboxStatus.SENDING],
                {"status": OutboxStatus.PENDING, "due_at": until, "claimed_by": None},
            )
            notify_after_commit(s, OUTBOX)

    async def take_over(self, now: datetime, older_than: timedelta | None = None) -> list[int]:
        """Rows left ``sending`` by a stopped sender go back to pending (their nonce keeps a
        resent post single). Without ``older_than``: every row not claimed by this process (the
        caller holds the lease, so their sender is gone)."""
        where: list[Any] = [OutboxMessage.status == OutboxStatus.SENDING]
        if older_than is None:
            where.append(OutboxMessage.claimed_by.is_distinct_from(self.worker))
        else:
            where.append(OutboxMessage.claimed_at < now - older_than)
        async with self.sessions.begin() as s:
            ids = await _update(
                s, where, {"status": OutboxStatus.PENDING, "claimed_by": None, "claimed_at": None}
            )
            if ids:
                notify_after_commit(s, OUTBOX)
        if ids:
            log.warning("outbox: rows %s taken over from a stopped sender", ids)
        return ids

    async def _close(
        self, s: AsyncSession, ids: Sequence[int], status: OutboxStatus, error: str
    ) -> None:
        await _update(
            s,
            [OutboxMessage.id.in_(list(ids))],
            {"status": status, "error": error[:ERROR_MAX], "claimed_by": None},
        )
        log.warning("outbox: rows %s closed as %s: %s", list(ids), status.value, error)


async def _update(s: AsyncSession, where: Sequence[Any], values: dict[str, Any]) -> list[int]:
    stmt = (
        update(OutboxMessage)
        .where(*where)
        .values(**values)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return list((await s.execute(stmt)).scalars())
