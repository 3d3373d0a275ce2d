"""The SQLite driver adapter (``db/sqlite_driver.py``): one trip to aiosqlite's thread per
statement, and everything the bot relies on unchanged (rows, ids of inserted rows, RETURNING,
counts of changed rows, executemany, errors, transactions, streamed results)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import sqlite_driver

pytestmark = pytest.mark.parametrize("schema_db_url", ["sqlite"], indirect=True)

thing = Table(
    "thing",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True),
)


@pytest.fixture
async def things(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.run_sync(thing.metadata.create_all)
    return engine


def _count_trips(engine: AsyncEngine) -> list[str]:
    """Record each function sent to aiosqlite's thread, on every pooled connection."""
    trips: list[str] = []
    pool = engine.sync_engine.pool
    original = pool._creator  # type: ignore[attr-defined]

    def creator() -> Any:
        adapted = original()
        raw = adapted._connection
        send = raw._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(getattr(fn, "__name__", repr(fn)))
            return await send(fn, *args, **kwargs)

        raw._execute = counted
        return adapted

    pool._creator = creator  # type: ignore[attr-defined]
    return trips


async def test_the_engine_uses_the_adapter(things: AsyncEngine) -> None:
    assert things.dialect.driver == "partage_aiosqlite"
    assert things.url.drivername == sqlite_driver.NAME


async def test_one_trip_per_statement(things: AsyncEngine) -> None:
    await things.dispose()
    trips = _count_trips(things)
    async with things.begin() as conn:
        trips.clear()
        await conn.execute(insert(thing).values(name="a"))
        await conn.execute(select(thing.c.id))
        await conn.execute(update(thing).values(name="b"))
        assert trips == ["_run", "_run", "_run"]


async def test_rows_ids_returning_and_counts(things: AsyncEngine) -> None:
    async with things.begin() as conn:
        first = await conn.execute(insert(thing).values(name="a"))
        assert first.inserted_primary_key == (1,)
        returned = await conn.execute(insert(thing).values(name="b").returning(thing.c.id))
        assert returned.scalar_one() == 2
        many = await conn.execute(
            insert(thing).returning(thing.c.id, thing.c.name),
            [{"name": "c"}, {"name": "d"}],
        )
        assert sorted(many.all()) == [(3, "c"), (4, "d")]
        changed = await conn.execute(update(thing).where(thing.c.id > 2).values(name=None))
        assert changed.rowcount == 2
        executemany = await conn.execute(
            update(thing).where(thing.c.id == text(":i")).values(name=text(":n")),
            [{"i": 3, "n": "x"}, {"i": 4, "n": "y"}],
        )
        assert executemany.rowcount == 2
        rows = (await conn.execute(select(thing.c.name).order_by(thing.c.id))).scalars().all()
        assert rows == ["a", "b", "x", "y"]


async def test_errors_and_rollback(things: AsyncEngine) -> None:
    async with things.begin() as conn:
        await conn.execute(insert(thing).values(name="a"))
    with pytest.raises(IntegrityError):
        async with things.begin() as conn:
            await conn.execute(insert(thing).values(name="b"))
            await conn.execute(insert(thing).values(name="a"))
    async with things.connect() as conn:
        names = (await conn.execute(select(thing.c.name))).scalars().all()
    assert names == ["a"]


async def test_streamed_results(things: AsyncEngine) -> None:
    async with things.begin() as conn:
        await conn.execute(insert(thing), [{"name": f"n{i}"} for i in range(50)])
    async with things.connect() as conn:
        result = await conn.stream(select(thing.c.id).order_by(thing.c.id))
        seen = [row.id async for row in result]
    assert seen == list(range(1, 51))
