"""Backup and restore of the whole database (``python -m bot backup|restore FICHIER``).

- SQLite: the online backup API of SQLite (``sqlite3.Connection.backup``), which copies a
  consistent snapshot even while the bot writes; a restore copies the file back the same way.
- PostgreSQL: ``pg_dump`` in its custom format, restored with ``pg_restore --clean``; both
  are PostgreSQL's own client tools (package ``postgresql-client``), found on the ``PATH``.

The file says what it holds: a SQLite database starts with ``SQLite format 3``, a custom dump
with ``PGDMP``; a file of the other kind, or of neither, is refused before anything changes.
A restore replaces everything in the database: the caller makes sure the bot is stopped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.errors import N_, UserError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(UserError):
    """A backup or restore that cannot be done, with what to do about it."""


NO_TOOL = N_(
    "L'outil « {outil} » de PostgreSQL est introuvable : installez le paquet "
    "postgresql-client (même version majeure que le serveur), puis recommencez."
)
TOOL_FAILED = N_("« {outil} » a échoué (code {code}) : {erreur}")
NO_FILE = N_("Le fichier « {fichier} » n'existe pas.")
WRONG_KIND = N_(
    "Le fichier « {fichier} » n'est pas une sauvegarde {base} de Partage "
    "(python -m bot backup en fait une)."
)
NO_DATABASE = N_("La base SQLite « {chemin} » n'existe pas : rien à sauvegarder.")
EXISTS = N_("Le fichier « {fichier} » existe déjà : choisissez un autre nom.")


@dataclass(frozen=True)
class Done:
    """The backup written, for the command line's one line."""

    path: Path
    size: int


def backup(url: str, dest: Path) -> Done:
    """Write a backup of the database at ``url`` to ``dest`` (which must not exist)."""
    if dest.exists():
        raise BackupError(EXISTS, fichier=str(dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = _sqlite_path(parsed)
        if not source.is_file():
            raise BackupError(NO_DATABASE, chemin=str(source))
        partial = dest.with_name(dest.name + ".partiel")
        try:
            with sqlite3.connect(source) as src, sqlite3.connect(partial) as out:
                src.backup(out)
            partial.replace(dest)
        finally:
            partial.unlink(missing_ok=True)
    else:
        _pg_tool("pg_dump", parsed, ["--format=custom", "--no-owner", f"--file={dest}"])
    return Done(dest, dest.stat().st_size)


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup ``source``."""
    if not source.is_file():
        raise BackupError(NO_FILE, fichier=str(source))
    parsed = make_url(url)
    with source.open("rb") as f:
        head = f.read(16)
    if parsed.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC) or not _has_schema(source):
            raise BackupError(WRONG_KIND, fichier=str(source), base="SQLite")
        target = _sqlite_path(parsed)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as out:
            src.backup(out)
        return
    if not head.startswith(PG_MAGIC):
        raise BackupError(WRONG_KIND, fichier=str(source), base="PostgreSQL")
    _pg_tool(
        "pg_restore",
        parsed,
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
        database_flag=True,
    )


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "")


def _has_schema(path: Path) -> bool:
    """A Partage database: it has Alembic's version table."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None


def _pg_tool(tool: str, url: URL, args: list[str], *, database_flag: bool = False) -> None:
    """Run ``pg_dump`` or ``pg_restore`` on the database of ``url``; its password goes in the
    environment (``PGPASSWORD``), never on the command line."""
    found = shutil.which(tool)
    if found is None:
        raise BackupError(NO_TOOL, outil=tool)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    command = [found, *args, f"--dbname={target}" if database_flag else target]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(
            TOOL_FAILED, outil=tool, code=result.returncode, erreur=(lines or ["?"])[-1][:300]
        )
