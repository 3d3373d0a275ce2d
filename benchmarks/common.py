"""Shared set-up for benchmarks: throw-away databases and a fixed clock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Base
from db.session import create_engine
from tests.dbutil import fresh_postgres_database

POSTGRES_ENV = "PARTAGE_TEST_POSTGRES_URL"
NOW = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)


def backends() -> list[str]:
    """SQLite always; PostgreSQL when PARTAGE_TEST_POSTGRES_URL is set."""
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database holding the schema, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            try:
                yield engine
            finally:
                await engine.dispose()
        return
    async with fresh_postgres_database(os.environ[POSTGRES_ENV]) as url:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        try:
            yield engine
        finally:
            await engine.dispose()
