"""One process per shard: a lease taken before connecting to Discord.

Two ``python -m bot run`` on one token and one database must not both answer interactions or
provision channels. Each process first takes a lease on the shards it serves; a second process
for the same shards waits as a standby (or refuses to start) and never connects to Discord
until it holds the lease.

- PostgreSQL: a session-level advisory lock per shard (``pg_try_advisory_lock``) held on one
  dedicated asyncpg connection for the life of the process.
- SQLite: an exclusive ``flock`` on ``<database file>.lease`` (one file per shard when
  ``shard_count > 1``). In-memory SQLite needs no lease.

Either way the kernel closes the socket or the file when the process dies, so the lease is
free at once and a standby, retrying every ``min(1, lease_seconds / 5)`` seconds, takes over
within ``lease_seconds``. On PostgreSQL, TCP keepalives set on the lease connection also free
it within about ``lease_seconds`` when the holder's machine vanishes. While held, ``watch()``
checks every ``lease_seconds / 3`` seconds that the lease is still ours and calls back if not.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import inspect
import itertools
import logging
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

import asyncpg
from sqlalchemy.engine import URL, make_url

from bot.config import safe_url
from bot.tasks import TaskGroup

log = logging.getLogger(__name__)

KEY_PREFIX = "partage:shard:"
_MAX_KEY = 2**63 - 1


class LeaseUnavailable(Exception):
    """Another process holds the lease and the caller chose not to wait. ``shards`` (« 0/1 »,
    « 0-3/4 »), ``database`` (password masked) and ``holder`` (or None) let the command line
    say it in the operator's language."""

    def __init__(self, message: str, *, shards: str, database: str, holder: str | None) -> None:
        super().__init__(message)
        self.shards = shards
        self.database = database
        self.holder = holder


def shard_key(shard_id: int, shard_count: int) -> int:
    """The advisory-lock key of one shard: a stable, non-negative 63-bit integer.

    Stable across versions and machines, so that an old and a new process conflict during an
    upgrade: never change how it is derived."""
    text = f"{KEY_PREFIX}{shard_id}/{shard_count}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") & _MAX_KEY


#: How a lease connection names itself in ``pg_stat_activity`` (then the holder label).
APPLICATION_PREFIX = "partage lease "

#: The longest wait to tell who holds a lease (PostgreSQL); past it, the line omits who.
HOLDER_SECONDS = 5.0


def _holder_label() -> str:
    """Who holds a lease, as shown to a standby: ``pid@host``, in no language (the command line
    words it in the operator's, see :func:`holder_parts`)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def holder_parts(label: str) -> tuple[str, str] | None:
    """``("4321", "vps-partage")`` from a holder label ``4321@vps-partage``; None otherwise."""
    pid, at, host = label.partition("@")
    return (pid, host) if at and pid.isdigit() and host else None


class Lease(ABC):
    """The lease on a set of shards. ``acquire``, then ``watch``, then ``release``."""

    #: Errors that mean "the database cannot be reached right now", retried by a standby.
    transient_errors: ClassVar[tuple[type[Exception], ...]] = (OSError, TimeoutError)

    def __init__(
        self, *, database_url: str, shard_id: int | None, shard_count: int, lease_seconds: float
    ) -> None:
        if shard_count < 1:
            raise ValueError(f"shard_count must be at least 1, not {shard_count}")
        if shard_id is not None and not 0 <= shard_id < shard_count:
            raise ValueError(f"shard_id must be from 0 to {shard_count - 1}, not {shard_id}")
        if not lease_seconds > 0:
            raise ValueError(f"lease_seconds must be positive, not {lease_seconds}")
        self.shard_count = shard_count
        self.shards: tuple[int, ...] = (
            (shard_id,) if shard_id is not None else tuple(range(shard_count))
        )
        self.lease_seconds = float(lease_seconds)
        self.retry_seconds = min(1.0, self.lease_seconds / 5)
        self.check_seconds = self.lease_seconds / 3
        self._database = safe_url(database_url)
        self._held = False
        self._lost = False
        self._notifying = False
        self._tasks = TaskGroup()
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        """True from a successful ``acquire`` until ``release`` or a detected loss."""
        return self._held

    @property
    def lost(self) -> bool:
        """True once the watchdog found the lease lost (the process should exit non-zero)."""
        return self._lost

    def describe(self) -> str:
        """``shard 0/1 (database …)``, for log lines; the password is masked."""
        word = "shard" if len(self.shards) == 1 else "shards"
        return f"{word} {self.shard_label()} (database {self._database})"

    def shard_label(self) -> str:
        """``0/1`` for one shard, ``0-3/4`` for every shard of four."""
        if len(self.shards) == 1:
            return f"{self.shards[0]}/{self.shard_count}"
        return f"0-{self.shard_count - 1}/{self.shard_count}"

    async def acquire(self, *, wait: bool, on_waiting: Callable[[str], None] | None = None) -> None:
        """Take the lease. If another process holds it: raise ``LeaseUnavailable`` when
        ``wait`` is false; else report once through ``on_waiting`` (default: a warning in the
        log) and retry every ``retry_seconds`` until it is free. A database that cannot be
        reached on the first attempt raises; later, while waiting, it is retried."""
        if self._held:
            raise RuntimeError(f"the lease on {self.describe()} is already held")
        announced = unreachable = False
        try:
            for attempt in itertools.count():
                try:
                    if await self._try_acquire():
                        break
                    unreachable = False
                except self.transient_errors as exc:
                    if attempt == 0 or not wait:
                        raise
                    if not unreachable:
                        log.warning(
                            "cannot reach the database for the lease on %s: %r; retrying",
                            self.describe(),
                            exc,
                        )
                    unreachable = True
                    await self._drop()
                if not announced and not unreachable:
                    holder = await self._safe_holder()
                    by = f" ({holder})" if holder else ""
                    message = f"another Partage process{by} holds {self.describe()}"
                    if not wait:
                        raise LeaseUnavailable(
                            message,
                            shards=self.shard_label(),
                            database=self._database,
                            holder=holder,
                        )
                    announced = True
                    line = (
                        f"{message}; waiting as standby (retrying every {self.retry_seconds:g} s)"
                    )
                    if on_waiting is None:
                        log.warning("%s", line)
                    else:
                        on_waiting(line)
                await asyncio.sleep(self.retry_seconds)
        except BaseException:
            await self._drop()
            raise
        self._held, self._lost, self._notifying = True, False, False
        log.info(
            "holding the lease on %s%s",
            self.describe(),
            " (took over as standby)" if announced else "",
        )

    def watch(self, on_lost: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        """Check every ``check_seconds`` that the lease is still held; if it is lost, log it,
        mark it ``lost`` and await ``on_lost()`` once (e.g. ``bot.close``). ``release()`` stops
        the watch, or waits for a running ``on_lost``: so ``on_lost`` may call ``release()``
        itself but must not wait for another task that awaits ``release()``."""
        if not self._held:
            raise RuntimeError(f"cannot watch the lease on {self.describe()}: it is not held")
        if self._watchdog is not None:
            raise RuntimeError(f"the lease on {self.describe()} is already watched")
        self._watchdog = self._tasks.spawn(
            self._watch(on_lost), name=f"lease watchdog {self.describe()}"
        )
        return self._watchdog

    async def release(self) -> None:
        """Stop the watch and give the lease back. Safe to call more than once, and after a
        failed ``acquire``. If ``on_lost`` is running, wait for it to finish first."""
        task, self._watchdog = self._watchdog, None
        if task is not None and task is not asyncio.current_task():
            if not self._notifying:
                task.cancel()
            await asyncio.wait({task})
        was_held, self._held = self._held, False
        await self._drop()
        if was_held:
            log.info("released the lease on %s", self.describe())

    async def _watch(self, on_lost: Callable[[], Awaitable[object]]) -> None:
        while True:
            await self._pause(self.check_seconds)
            try:
                reason = await self._check()
            except self.transient_errors as exc:
                reason = f"the check failed: {exc!r}"
            if reason is not None:
                break
        self._held, self._lost, self._notifying = False, True, True
        log.error(
            "lost the lease on %s: %s; closing so that a standby takes over",
            self.describe(),
            reason,
        )
        await on_lost()

    async def _pause(self, seconds: float) -> None:
        """Wait between two checks; an implementation may wake up early on a loss."""
        await asyncio.sleep(seconds)

    async def _safe_holder(self) -> str | None:
        try:
            return await self._holder()
        except self.transient_errors:
            return None

    @abstractmethod
    async def _try_acquire(self) -> bool:
        """Take the lease on every shard or on none; False if another process holds one."""

    @abstractmethod
    async def _check(self) -> str | None:
        """None while the lease is still held, else why it is not."""

    @abstractmethod
    async def _drop(self) -> None:
        """Free whatever is held or open; never raises."""

    async def _holder(self) -> str | None:
        """Who holds the lease, if it can be told."""
        return None


class PostgresLease(Lease):
    """Advisory locks on one dedicated asyncpg connection (not the SQLAlchemy pool)."""

    transient_errors = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

    _HELD_SQL = """
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = pg_backend_pid()
          AND ((classid::bigint << 32) | objid::bigint) = ANY($1::bigint[])
    """
    _HOLDER_SQL = """
        SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.pid <> pg_backend_pid()
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = ANY($1::bigint[])
        LIMIT 1
    """

    def __init__(
        self, *, database_url: str, shard_id: int | None, shard_count: int, lease_seconds: float
    ) -> None:
        super().__init__(
            database_url=database_url,
            shard_id=shard_id,
            shard_count=shard_count,
            lease_seconds=lease_seconds,
        )
        self._url: URL = make_url(database_url)
        self.keys: tuple[int, ...] = tuple(shard_key(s, shard_count) for s in self.shards)
        self._conn: asyncpg.Connection | None = None
        self._closed = asyncio.Event()

    def _connect_kwargs(self) -> dict[str, Any]:
        # The same arguments SQLAlchemy's asyncpg dialect would use (host, ssl, …).
        _args, kwargs = self._url.get_dialect()().create_connect_args(self._url)
        accepted = inspect.signature(asyncpg.connect).parameters
        kwargs = {key: value for key, value in kwargs.items() if key in accepted}
        settings = dict(kwargs.pop("server_settings", None) or {})
        settings["application_name"] = f"{APPLICATION_PREFIX}{_holder_label()}"[:63]
        kwargs["server_settings"] = settings
        kwargs["timeout"] = max(5.0, self.lease_seconds)
        return kwargs

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        conn = await asyncpg.connect(**self._connect_kwargs())
        try:
            # The lease lives as long as this idle session: no server idle timeout may end it,
            # and keepalives end it within about lease_seconds if this machine vanishes.
            keepalive = max(1, int(self.lease_seconds / 4))
            if conn.get_server_version().major >= 14:
                await conn.execute("SET idle_session_timeout = 0")
            for name, value in (
                ("tcp_keepalives_idle", keepalive),
                ("tcp_keepalives_interval", keepalive),
                ("tcp_keepalives_count", 3),
            ):
                await conn.execute(f"SET {name} = {value}")
        except BaseException:
            conn.terminate()
            raise
        self._closed.clear()
        conn.add_termination_listener(lambda _conn: self._closed.set())
        self._conn = conn
        return conn

    async def _try_acquire(self) -> bool:
        conn = await self._connection()
        taken: list[int] = []
        for key in self.keys:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                for done in taken:
                    await conn.execute("SELECT pg_advisory_unlock($1)", done)
                return False
            taken.append(key)
        return True

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closed.wait(), seconds)
        except TimeoutError:
            return

    async def _check(self) -> str | None:
        conn = self._conn
        if conn is None or conn.is_closed() or self._closed.is_set():
            return "the connection to PostgreSQL is closed"
        held = await conn.fetchval(self._HELD_SQL, list(self.keys), timeout=self.check_seconds)
        if held != len(self.keys):
            return "the advisory lock is no longer held"
        return None

    async def _holder(self) -> str | None:
        conn = await self._connection()
        # Said once, when this process becomes a standby: worth waiting for on a busy server.
        name = await conn.fetchval(
            self._HOLDER_SQL, list(self.keys), timeout=max(self.check_seconds, HOLDER_SECONDS)
        )
        return str(name).removeprefix(APPLICATION_PREFIX) if name else None

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        # Closing the session frees its advisory locks.
        try:
            await conn.close(timeout=self.check_seconds)
        except self.transient_errors:
            conn.terminate()
        except asyncio.CancelledError:
            conn.terminate()
            raise


class FileLease(Lease):
    """``flock`` on lock files beside an SQLite database file."""

    def __init__(
        self,
        *,
        database_url: str,
        database_file: Path,
        shard_id: int | None,
        shard_count: int,
        lease_seconds: float,
    ) -> None:
        super().__init__(
            database_url=database_url,
            shard_id=shard_id,
            shard_count=shard_count,
            lease_seconds=lease_seconds,
        )
        if shard_count == 1:
            self.paths: tuple[Path, ...] = (Path(f"{database_file}.lease"),)
        else:
            self.paths = tuple(
                Path(f"{database_file}.shard-{s}-of-{shard_count}.lease") for s in self.shards
            )
        self._fds: list[int] = []

    async def _try_acquire(self) -> bool:
        self.paths[0].parent.mkdir(parents=True, exist_ok=True)
        fds: list[int] = []
        try:
            for path in self.paths:
                fds.append(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644))
                try:
                    fcntl.flock(fds[-1], fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                if _replaced(fds[-1], path):
                    return False
            for fd in fds:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{_holder_label()}\n".encode(), 0)
            self._fds, fds = fds, []
            return True
        finally:
            for fd in fds:
                os.close(fd)

    async def _check(self) -> str | None:
        if not self._fds:
            return "the lock file is closed"
        for fd, path in zip(self._fds, self.paths, strict=True):
            if _replaced(fd, path):
                return f"the lock file {path} was removed or replaced"
        return None

    async def _holder(self) -> str | None:
        try:
            text = self.paths[0].read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        return text[:200] or None

    async def _drop(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)  # frees the flock


def _replaced(fd: int, path: Path) -> bool:
    """True if ``path`` no longer names the file open as ``fd`` (removed or replaced)."""
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return True
    mine = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) != (mine.st_dev, mine.st_ino)


class NoLease(Lease):
    """In-memory SQLite: the database dies with the process, so there is nothing to share."""

    async def _try_acquire(self) -> bool:
        return True

    async def _check(self) -> str | None:
        return None

    async def _drop(self) -> None:
        return None


def _sqlite_file(url: URL) -> Path | None:
    """The database file of an SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        database = urlparse(database).path
        if not database:
            return None
    return Path(database)


def lease_for(
    database_url: str, *, shard_id: int | None, shard_count: int, lease_seconds: float
) -> Lease:
    """The lease for these shards on this database: PostgreSQL advisory locks, an SQLite lock
    file, or nothing for in-memory SQLite. ``shard_id=None`` means every shard of
    ``shard_count`` in this process (it then conflicts with a process serving any one of them).
    """
    url = make_url(database_url)
    options: dict[str, Any] = {
        "database_url": database_url,
        "shard_id": shard_id,
        "shard_count": shard_count,
        "lease_seconds": lease_seconds,
    }
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresLease(**options)
    if backend == "sqlite":
        database_file = _sqlite_file(url)
        if database_file is None:
            return NoLease(**options)
        return FileLease(database_file=database_file, **options)
    raise ValueError(f"no lease for a {backend} database ({safe_url(database_url)})")
