"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from db import sqlite_driver

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Set while a write use case (``sessions.begin()``) runs in this task: on SQLite its transaction
# takes the write lock at once (BEGIN IMMEDIATE), so a read-then-write cannot fail on a lock
# upgrade; read-only sessions begin a deferred transaction and run in parallel (WAL).
_WRITING: ContextVar[bool] = ContextVar("partage_writing", default=False)

# Set while a change must commit before a deadline (``time.monotonic()``) or not at all: the
# task it binds and the deadline. Tasks started meanwhile copy the variable; they are not bound.
_COMMIT_BY: ContextVar[tuple[asyncio.Task[Any] | None, float] | None] = ContextVar(
    "partage_commit_by", default=None
)


class CommitTooLate(Exception):
    """A write use case ended after its deadline (:func:`commit_by`): rolled back, not saved."""


@contextmanager
def commit_by(seconds: float) -> Iterator[None]:
    """Within this block, this task's write use cases (``sessions.begin()``) commit only if they
    are ready to within ``seconds``; later, they roll back and raise :class:`CommitTooLate`.
    Tasks started in the block are not bound. A staff command uses it to be acknowledged only
    after its change is saved, or never: Discord forgets an interaction not acknowledged
    within 3 s of its creation."""
    token = _COMMIT_BY.set((asyncio.current_task(), time.monotonic() + seconds))
    try:
        yield
    finally:
        _COMMIT_BY.reset(token)


def create_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """Build the async engine. SQLite gets WAL, foreign keys, a busy timeout, and write
    transactions (``Sessions.begin()``) that start with ``BEGIN IMMEDIATE`` so concurrent answers
    serialize instead of failing on a lock upgrade."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        if parsed.drivername == "sqlite+aiosqlite":
            parsed = parsed.set(drivername=sqlite_driver.NAME)
        engine = _create_async_engine(parsed, echo=echo, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return _create_async_engine(url, echo=echo, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")


AFTER_COMMIT = "partage_after_commit"


def notify_after_commit(session: AsyncSession, topic: str) -> None:
    """Ask for ``topic``'s listeners to be called once this write use case has committed (the
    outbox's sender, the reminders' scheduler): nobody acts on a change before it is saved."""
    session.info.setdefault(AFTER_COMMIT, set()).add(topic)


class Sessions(async_sessionmaker[AsyncSession]):
    """The session factory. ``async with sessions() as s`` reads; ``async with sessions.begin()
    as s`` is a write use case: one transaction, committed at the end, holding SQLite's write
    lock from its first statement. Listeners (``on_commit``) hear of topics that committed
    use cases named with :func:`notify_after_commit`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        bind = self.kw.get("bind")
        #: SQLite has one writer at a time: this process's write use cases queue here, in
        #: asyncio (cancellable at once, in order), rather than in SQLite's busy handler on a
        #: driver thread, which nothing can interrupt for up to ``SQLITE_BUSY_TIMEOUT_MS``.
        self._writer = (
            asyncio.Lock()
            if bind is not None and bind.dialect.name == "sqlite"
            else contextlib.nullcontext()
        )

    def on_commit(self, topic: str, listener: Callable[[], None]) -> None:
        self._listeners.setdefault(topic, []).append(listener)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        token = _WRITING.set(True)
        try:
            async with self._writer, super().begin() as session:
                yield session
                bound = _COMMIT_BY.get()
                if (
                    bound is not None
                    and bound[0] is asyncio.current_task()
                    and time.monotonic() > bound[1]
                ):
                    raise CommitTooLate()  # rolls the transaction back
            topics = session.info.pop(AFTER_COMMIT, set())
        finally:
            _WRITING.reset(token)
        for topic in sorted(topics):
            for listener in self._listeners.get(topic, ()):
                listener()


def session_factory(engine: AsyncEngine) -> Sessions:
    """Sessions that keep loaded values after commit (services return plain data)."""
    return Sessions(engine, expire_on_commit=False)
