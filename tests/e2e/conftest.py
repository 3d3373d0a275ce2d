"""End-to-end fixtures: the fake Discord, the server on it, settings for the real bot.

**Which database.** A test whose subject is the database itself (crashes and restarts, several
processes, claims under concurrency, erasure) is marked ``both_databases`` and runs on SQLite
and on PostgreSQL. Every other end-to-end test runs on one of the two, in turn (the first of a
module on SQLite, the next on PostgreSQL, …): its flow goes through the same services whose own
tests (``tests/cogs``, ``tests/db``) run on both, and running it twice doubled the suite's time.
``PARTAGE_TEST_E2E_ALL_DATABASES=1`` runs every end-to-end test on both; without
PostgreSQL, all run on SQLite.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.dbutil import (
    DATABASES,
    copy_of_template,
    postgres_template,
    postgres_url,
    sqlite_template,
)
from tests.e2e.harness import Server, build_server, settings_for
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import fake_discord  # noqa: F401

ALL_DATABASES_ENV = "PARTAGE_TEST_E2E_ALL_DATABASES"
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the other database's variant of the tests not marked ``both_databases``."""
    if os.environ.get(ALL_DATABASES_ENV):
        return
    postgres = postgres_url() is not None
    turn: Counter[str] = Counter()  # tests met so far, by module
    chosen: dict[str, str] = {}  # the database of each test (by its id without the database)
    kept, left_out = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("db_url") if callspec else None
        if (
            database is None
            or HERE not in item.path.parents
            or item.get_closest_marker("both_databases")
        ):
            kept.append(item)
            continue
        test = item.nodeid.partition("[")[0] + callspec.id.replace(database, "")
        if test not in chosen:
            module = item.nodeid.partition("::")[0]
            chosen[test] = DATABASES[turn[module] % 2] if postgres else DATABASES[0]
            turn[module] += 1
        (kept if database == chosen[test] else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("migrated"), migrate=True)


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str | None]:
    yield from postgres_template(postgres_url(), migrate=True)


@pytest.fixture(params=DATABASES)
async def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres_template: str | None,
) -> AsyncIterator[str]:
    """A database at the head migration (a copy of this process's template), once per backend."""
    async with copy_of_template(
        request.param, tmp_path, _sqlite_template, _postgres_template
    ) as url:
        yield url


@pytest.fixture
def server(fake_discord: FakeDiscord) -> Server:  # noqa: F811
    return build_server(fake_discord)


@pytest.fixture
def settings(fake_discord: FakeDiscord, server: Server, db_url: str) -> Settings:  # noqa: F811
    return settings_for(fake_discord, server, db_url)
