"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

POSTGRES_ENV = "PARTAGE_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = (
    f"{POSTGRES_ENV} is not set: the PostgreSQL variant of this test is skipped "
    "(set it, e.g. postgresql+asyncpg://root@127.0.0.1:5432/test, to run it)"
)


#: Every database test runs on both.
DATABASES = ["sqlite", "postgresql"]


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@asynccontextmanager
async def fresh_postgres_database(
    base_url: str, *, template: str | None = None
) -> AsyncIterator[str]:
    """Create a database next to ``base_url``'s (empty, or a copy of ``template``), yield its
    async URL, then drop it."""
    url = make_url(base_url)
    name = f"partage_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_later(admin_dsn, name)


# Dropping a database takes PostgreSQL a few tenths of a second (most of a small test's time):
# a thread of this test process drops them one after the other while the next tests run, and
# the process waits for it at exit, so nothing is left behind.
_dropper = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-db")
atexit.register(_dropper.shutdown, wait=True)


def _drop_later(admin_dsn: str, name: str) -> None:
    async def drop() -> None:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    _dropper.submit(asyncio.run, drop())


# --- Templates: one database per test process, copied for each test ------------------------------
# Building the schema for each test (Alembic's migrations for the end-to-end tests, create_all for
# the service tests) costs a quarter to half a second, most of a small test. Each test process
# builds one template per backend once; every test gets a copy (a file copy for SQLite, CREATE
# DATABASE … TEMPLATE for PostgreSQL). The migrations themselves are tested from an empty
# database (tests/db).


def _build_schema(url: str, *, migrate: bool) -> None:
    if migrate:
        from db.migrate import upgrade

        upgrade(url)
        return

    async def create_all() -> None:
        from db.models import Base
        from db.session import create_engine

        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
        finally:
            await engine.dispose()

    asyncio.run(create_all())


def sqlite_template(directory: Path, *, migrate: bool) -> Path:
    """A SQLite file holding the schema (at the head migration when ``migrate``)."""
    path = directory / ("migrated.db" if migrate else "schema.db")
    _build_schema(f"sqlite+aiosqlite:///{path}", migrate=migrate)
    return path


def sqlite_copy(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def postgres_template(base_url: str | None, *, migrate: bool) -> Iterator[str | None]:
    """For a session fixture: a PostgreSQL database holding the schema, usable as a TEMPLATE,
    dropped at the end; None without PostgreSQL."""
    if base_url is None:
        yield None
        return
    url = make_url(base_url)
    name = f"partage_template_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        _build_schema(url.set(database=name).render_as_string(hide_password=False), migrate=migrate)
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def copy_of_template(
    backend: str, directory: Path, sqlite: Path, postgres: str | None
) -> AsyncIterator[str]:
    """A database copied from this process's template of ``backend`` (``sqlite`` or
    ``postgresql``); the test is skipped without PostgreSQL."""
    if backend == "sqlite":
        yield sqlite_copy(sqlite, directory / "partage.db")
        return
    base = postgres_url()
    if base is None or postgres is None:
        import pytest

        pytest.skip(POSTGRES_SKIP_REASON)
    async with fresh_postgres_database(base, template=postgres) as url:
        yield url


# --- what a piece of code sent to the database --------------------------------------------------


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement the engine sends meanwhile, on one line, upper case (the transaction's
    own BEGIN and COMMIT and SQLite's PRAGMAs included: see ``queries``)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def queries(seen: list[str], *verbs: str) -> list[str]:
    """The statements that read or write (or only those beginning with one of ``verbs``)."""
    wanted = verbs or ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
    return [s for s in seen if s.split(None, 1)[0] in wanted]
