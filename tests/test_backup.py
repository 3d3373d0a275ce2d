"""Backup, erase, restore: every atelier, séance, inscription and reminder is back, on SQLite
and PostgreSQL, through the command line an operator types (``python -m bot backup|restore``).
A restore is refused while a bot holds the database, and a file that is not a backup of that
kind of database is refused before anything changes."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import select, text

from bot.clock import ManualClock
from bot.lease import lease_for
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.batch import Answer
from cogs.inscriptions.service import InscriptionService
from db.migrate import upgrade
from db.models import Atelier, Inscription, Rappel, Reponse, Seance
from db.session import create_engine, session_factory
from tests.cliutil import run_cli
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

ROOT = Path(__file__).resolve().parents[1]


async def _populate(url: str, clock: ManualClock) -> None:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        ateliers = ateliers_service(sessions, clock)
        rsvp = InscriptionService(sessions, clock)
        for n in range(3):
            info = await ateliers.create(
                GUILD,
                AtelierDraft(
                    titre=f"Atelier {n}",
                    seances=[seance(date(2026, 12, 3 + n)), seance(date(2026, 12, 10 + n))],
                    capacite=2,
                ),
            )
            await rsvp.answer_many(
                info.id, [Answer(GUILD, user(i), Reponse.OUI, locale="fr") for i in range(4)]
            )
    finally:
        await engine.dispose()


async def _snapshot(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            out = {}
            for model, columns in (
                (Atelier, ("id", "titre", "capacite", "etat")),
                (Seance, ("id", "atelier_id", "starts_at")),
                (Inscription, ("id", "atelier_id", "membre_id", "etat", "rang_attente")),
                (Rappel, ("id", "seance_id", "kind", "due_at")),
            ):
                table = model.__table__
                rows = await conn.execute(
                    select(*(table.c[c] for c in columns)).order_by(table.c.id)
                )
                out[table.name] = [tuple(r) for r in rows]
            return out
    finally:
        await engine.dispose()


async def _erase(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        return
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _cli(url: str, *args: str) -> tuple[int, str, str]:
    """``python -m bot ARGS`` in a child process, as an operator runs it."""
    done = await asyncio.to_thread(
        run_cli, *args, cwd=ROOT, PARTAGE_DATABASE__URL=url, LANG="C.UTF-8"
    )
    return done.returncode, done.stdout, done.stderr


async def test_backup_erase_restore_brings_everything_back(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    await asyncio.to_thread(upgrade, db_url)
    await _populate(db_url, clock)
    before = await _snapshot(db_url)
    assert len(before["inscription"]) == 12 and len(before["rappel"]) > 0
    file = tmp_path / "sauvegardes" / "partage.sauvegarde"

    code, out, err = await _cli(db_url, "backup", str(file))
    assert (code, err) == (0, ""), err
    assert out.startswith("Sauvegarde écrite\u00a0: ") and str(file) in out

    await _erase(db_url)
    code, out, err = await _cli(db_url, "restore", str(file), "--lang", "en")
    assert (code, err) == (0, ""), err
    assert out.startswith("Database restored from ")
    assert await _snapshot(db_url) == before

    code, _, err = await _cli(db_url, "backup", str(file))
    assert code == 2 and "existe déjà" in err  # never overwritten


async def test_restore_is_refused_while_a_bot_holds_the_database(
    db_url: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(upgrade, db_url)
    file = tmp_path / "b"
    assert (await _cli(db_url, "backup", str(file)))[0] == 0
    lease = lease_for(db_url, shard_id=None, shard_count=1, lease_seconds=15)
    await lease.acquire(wait=False)
    try:
        code, out, err = await _cli(db_url, "restore", str(file))
    finally:
        await lease.release()
    assert code == 2 and out == ""
    assert (
        err.strip()
        == "Le bot tourne sur cette base\u00a0: arrêtez-le, puis recommencez la restauration."
    )


async def test_a_file_that_is_not_such_a_backup_is_refused(db_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(upgrade, db_url)
    before = await _snapshot(db_url)
    other = tmp_path / "notes.txt"
    other.write_text("pas une sauvegarde", encoding="utf-8")
    code, out, err = await _cli(db_url, "restore", str(other))
    assert code == 2 and out == ""
    assert "n'est pas une sauvegarde" in err and "Traceback" not in err
    missing = await _cli(db_url, "restore", str(tmp_path / "absent"))
    assert missing[0] == 2 and "n'existe pas" in missing[2]
    assert await _snapshot(db_url) == before
