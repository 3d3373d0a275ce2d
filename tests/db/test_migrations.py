"""An empty database upgraded to head matches the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db.migrate import current_revision, head_revision, upgrade
from db.models import Base
from db.session import create_engine


async def test_upgrade_empty_database_to_head_matches_models(db_url: str) -> None:
    await asyncio.to_thread(upgrade, db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:

            def _diff(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, Base.metadata)

            diff = await conn.run_sync(_diff)
            revision = await conn.run_sync(current_revision)
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == [], f"migrations and models differ: {diff}"
    assert revision == head_revision()
    assert set(Base.metadata.tables) <= tables


async def test_upgrade_is_idempotent(db_url: str) -> None:
    await asyncio.to_thread(upgrade, db_url)
    await asyncio.to_thread(upgrade, db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revision) == head_revision()
    finally:
        await engine.dispose()


async def test_sqlite_pragmas(tmp_path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await engine.dispose()
    assert (mode, fks) == ("wal", 1)
    assert busy >= 5000


async def test_saved_municipalities_become_one_per_municipality(db_url: str) -> None:
    """Migration 0005: « ville de sherbrooke » and « Sherbrooke » saved before are one
    municipality after it (same name, same key), « Montreal » gets its accent."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from db.migrate import upgrade
    from db.models import Base
    from db.session import create_engine

    await asyncio.to_thread(upgrade, db_url, "0004")
    engine = create_engine(db_url)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    tables = Base.metadata.tables
    saved = [
        ("Ville de Sherbrooke", "ville de sherbrooke"),
        ("Sherbrooke", "sherbrooke"),
        ("Montreal", "montreal"),
    ]
    try:
        async with engine.begin() as conn:
            await conn.execute(tables["guild"].insert().values(id=1, name="g", created_at=now))
            for n, (name, key) in enumerate(saved, start=1):
                await conn.execute(
                    tables["membre"]
                    .insert()
                    .values(
                        id=n, guild_id=1, user_id=n, locale="fr", dm_reminders=False, created_at=now
                    )
                )
                await conn.execute(
                    tables["profil"]
                    .insert()
                    .values(
                        guild_id=1,
                        membre_id=n,
                        municipalite=name,
                        municipalite_cle=key,
                        expertise=[],
                        recherche_cle="",
                        visible_annuaire=True,
                        consent_at=now,
                        consent_version="1",
                        created_at=now,
                        updated_at=now,
                    )
                )
        await asyncio.to_thread(upgrade, db_url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT municipalite, municipalite_cle FROM profil ORDER BY membre_id")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("Sherbrooke", "sherbrooke"),
        ("Sherbrooke", "sherbrooke"),
        ("Montréal", "montreal"),
    ]


async def test_the_outbox_takes_the_questions_kinds_from_0009(db_url: str) -> None:
    """Migration 0009 widens the CHECK on outbox.kind for the questions' rows (question, bump,
    nudge, followup) and its downgrade narrows it again; an unknown kind is refused."""
    from datetime import UTC, datetime

    import pytest
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from db.migrate import alembic_config

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    insert = text(
        "INSERT INTO outbox (kind, payload, status, nonce, attempts, created_at, due_at, "
        "expires_at) VALUES (:kind, '{}', 'pending', 'n', 0, :now, :now, :now)"
    )
    await asyncio.to_thread(upgrade, db_url)
    engine = create_engine(db_url)
    try:
        for kind in ("question", "bump", "nudge", "followup", "notice"):
            async with engine.begin() as conn:
                await conn.execute(insert, {"kind": kind, "now": now})
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert, {"kind": "bogus", "now": now})
        await engine.dispose()
        await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0008")
        async with engine.connect() as conn:
            kinds = (await conn.execute(text("SELECT kind FROM outbox"))).scalars().all()
        assert kinds == ["notice"]  # the questions' rows went with the downgrade
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert, {"kind": "question", "now": now})
        await engine.dispose()
        await asyncio.to_thread(upgrade, db_url)
        async with engine.begin() as conn:
            await conn.execute(insert, {"kind": "bump", "now": now})
    finally:
        await engine.dispose()
