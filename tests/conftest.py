"""Shared fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from db.session import create_engine, session_factory
from tests.dbutil import (
    DATABASES,
    POSTGRES_SKIP_REASON,
    copy_of_template,
    fresh_postgres_database,
    postgres_template,
    postgres_url,
    sqlite_template,
)


@pytest.fixture(params=DATABASES)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'partage.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    async with fresh_postgres_database(base) as url:
        yield url


@pytest.fixture(scope="session")
def _schema_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("schema"), migrate=False)


@pytest.fixture(scope="session")
def _schema_postgres() -> Iterator[str | None]:
    yield from postgres_template(postgres_url(), migrate=False)


@pytest.fixture(params=DATABASES)
async def schema_db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _schema_sqlite: Path,
    _schema_postgres: str | None,
) -> AsyncIterator[str]:
    """A database holding the current schema (a copy of this process's template), once per
    backend."""
    async with copy_of_template(request.param, tmp_path, _schema_sqlite, _schema_postgres) as url:
        yield url


@pytest.fixture
async def engine(schema_db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database holding the current schema."""
    eng = create_engine(schema_db_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock set to a fixed Sunday noon in Montréal."""
    return ManualClock(datetime(2026, 11, 22, 17, 0, tzinfo=UTC))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests, one line per reason (``-rs`` would print one per test location)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"SKIPPED {count} tests: {reason}")


#: Modules whose tests wait on real time or real processes (10 to 45 s each). They run first,
#: spread over the workers, so that the workers finish together instead of one of them starting
#: a 45-second test at the end (pytest-xdist hands out tests in collection order).
LONG_MODULES = (
    "tests/e2e/test_reminders_faults.py",
    "tests/e2e/test_reminders_processes.py",
    "tests/e2e/test_crash_writes.py",
    "tests/e2e/test_series_crash.py",
    "tests/e2e/test_questions_crash.py",
    "tests/e2e/test_processes.py",
    "tests/e2e/test_restart.py",
    "tests/e2e/test_reminders.py",
    "tests/e2e/test_reminders_changes.py",
    # Not as long, but each has tests of 5 to 15 s (processes, a browser, Discord held up): they
    # must not be the last to start.
    "tests/bot/test_cli.py",
    "tests/e2e/test_between.py",
    "tests/e2e/test_calendrier_browser.py",
    "tests/e2e/test_operator_failures.py",
    "tests/test_backup.py",
    "tests/test_wheel.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.partition("::")[0]
        return LONG_MODULES.index(module) if module in LONG_MODULES else len(LONG_MODULES)

    items.sort(key=rank)
