"""Programme import: many ateliers at once from a CSV or TOML file. No Discord here.

A file as a whole is read first and refused with ``InvalidInput`` (nothing saved) when it cannot
be used: wrong extension, too large, not UTF-8, malformed, an unknown column or key, too many
rows. Then each atelier row is checked and created in its own transaction, so good rows are
imported and bad rows reported with the reason (a ``UserError`` the caller translates).

Importing the same file again changes nothing: every atelier carries a ``source_key`` (the row's
``cle``, else a digest of its title, séances and chantier), and a row whose key already exists in
the server is skipped. The ``(guild_id, source_key)`` unique constraint settles concurrent imports.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import logging
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.dates import SeanceSpec, parse_seances
from bot.errors import N_, Conflict, InvalidInput, NotFound, UserError
from cogs.ateliers.calendar_checks import PlanningWarning
from cogs.ateliers.service import (
    DEFAULT_LIEU,
    AtelierDraft,
    AtelierService,
    validate_numbers,
    validate_text,
)
from cogs.chantiers.service import ChantierService, slugify
from db.models import Atelier, Genre

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
MAX_ROWS = 500
CLE_MAX = 100
DEFAULT_DUREE = 90
COLUMNS = (
    "titre", "dates", "genre", "chantier", "duree", "lieu", "lien", "capacite", "description", "cle"
)  # fmt: skip
REQUIRED_COLUMNS = ("titre", "dates")
CHANTIER_KEYS = ("slug", "nom", "description", "emoji")

BAD_EXTENSION = N_("Le fichier « {fichier} » n'est ni un CSV ni un TOML (extension .csv ou .toml).")
TOO_LARGE = N_("Le fichier « {fichier} » est trop gros : {taille} Kio, au plus {max} Kio.")
NOT_UTF8 = N_(
    "Le fichier « {fichier} » n'est pas en UTF-8 (ligne {ligne}). "
    "Dans Excel, enregistrez-le au format « CSV UTF-8 »."
)
EMPTY_FILE = N_("Le fichier « {fichier} » ne contient aucun atelier.")
TOO_MANY_ROWS = N_("Le fichier « {fichier} » compte {n} ateliers : au plus {max} par import.")
BAD_CSV = N_("Le fichier CSV « {fichier} » est illisible à la ligne {ligne} : {erreur}.")
BAD_TOML = N_("Le fichier TOML « {fichier} » est mal formé : {erreur}.")
UNKNOWN_COLUMN = N_("Colonne inconnue « {colonne} ». Colonnes possibles : {colonnes}.")
MISSING_COLUMN = N_("Il manque la colonne « {colonne} ».")
DUPLICATE_COLUMN = N_("La colonne « {colonne} » figure deux fois.")
UNKNOWN_SECTION = N_(
    "Section inconnue « {cle} » : un programme contient [[chantiers]] et [[ateliers]]."
)
NOT_TABLES = N_("« {cle} » doit être une liste de tables [[{cle}]].")
UNKNOWN_KEY = N_("Clé inconnue « {cle} » dans [[{table}]] n° {n}. Clés possibles : {cles}.")
EXTRA_CELLS = N_("La ligne compte {n} cellules, plus que les {max} colonnes de l'en-tête.")
NOT_TEXT = N_("La valeur du champ « {champ} » doit être un texte.")
NOT_INTEGER = N_("La valeur « {valeur} » du champ « {champ} » n'est pas un nombre entier.")
UNKNOWN_GENRE = N_("Genre inconnu « {genre} ». Genres possibles : {genres}.")
UNKNOWN_CHANTIER = N_("Chantier inconnu « {chantier} ». Chantiers du serveur : {chantiers}.")
CLE_TOO_LONG = N_("La clé « {cle} » dépasse {max} caractères.")
DUPLICATE_CLE = N_("La clé « {cle} » est déjà prise plus haut dans le fichier (n° {autre}).")
ALREADY_IMPORTED = N_("Déjà importé (atelier n° {id}).")


class Where(enum.StrEnum):
    """What a row's ``line`` counts."""

    LIGNE = "ligne"  # CSV: the line number, the header being line 1
    ATELIER = "atelier"  # TOML: the index of the [[ateliers]] table, from 1
    CHANTIER = "chantier"  # TOML: the index of the [[chantiers]] table, from 1


@dataclass(frozen=True)
class RowOutcome:
    """An imported row (``created``) or one already there (``skipped``)."""

    line: int
    where: Where
    titre: str
    atelier_id: int | None
    source_key: str


@dataclass(frozen=True)
class RowError:
    line: int
    where: Where
    titre: str | None
    error: UserError  # message id and values, translated by the caller


@dataclass
class ImportReport:
    fichier: str
    created: list[RowOutcome] = field(default_factory=list)
    skipped: list[RowOutcome] = field(default_factory=list)
    refused: list[RowError] = field(default_factory=list)
    chantiers_created: list[str] = field(default_factory=list)  # slugs
    #: Created but not announced: no chantier with a channel, no ``ateliers.annonces_salon``.
    unannounced: list[RowOutcome] = field(default_factory=list)
    #: Created on a Québec holiday or overlapping another atelier of its chantier (saved all
    #: the same: the report says so).
    warnings: list[tuple[RowOutcome, list[PlanningWarning]]] = field(default_factory=list)

    @property
    def n_created(self) -> int:
        return len(self.created)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    @property
    def n_refused(self) -> int:
        return len(self.refused)

    @property
    def n_rows(self) -> int:
        return self.n_created + self.n_skipped + self.n_refused


@dataclass(frozen=True)
class _Row:
    line: int
    where: Where
    values: dict[str, Any]
    error: UserError | None = None  # a fault found while reading (extra CSV cells)


def fold(text: str) -> str:
    """Lowercase, accents dropped, blanks collapsed: ``Référentiel `` → ``referentiel``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def digest_key(titre: str, seances: Sequence[SeanceSpec], chantier_slug: str | None) -> str:
    """The key of a row without ``cle``: same title, séances and chantier give the same key."""
    times = sorted(f"{s.local_date.isoformat()}T{s.local_time or ''}" for s in seances)
    text = "\n".join([fold(titre), ",".join(times), chantier_slug or ""])
    return "auto:" + hashlib.sha256(text.encode()).hexdigest()[:40]


# --- reading the file ----------------------------------------------------------------------


def read_file(filename: str, data: bytes) -> tuple[list[_Row], list[_Row]]:
    """The atelier rows and chantier rows of a programme file, or ``InvalidInput`` when the file
    as a whole is unusable."""
    extension = PurePath(filename).suffix.lower()
    if extension not in (".csv", ".toml"):
        raise InvalidInput(BAD_EXTENSION, fichier=filename)
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            TOO_LARGE, fichier=filename, taille=-(-len(data) // 1024), max=MAX_BYTES // 1024
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            NOT_UTF8, fichier=filename, ligne=data[: exc.start].count(b"\n") + 1
        ) from None
    ateliers, chantiers = (
        (_read_csv(filename, text), []) if extension == ".csv" else _read_toml(filename, text)
    )
    if not ateliers:
        raise InvalidInput(EMPTY_FILE, fichier=filename)
    if len(ateliers) > MAX_ROWS:
        raise InvalidInput(TOO_MANY_ROWS, fichier=filename, n=len(ateliers), max=MAX_ROWS)
    return ateliers, chantiers


def _read_csv(filename: str, text: str) -> list[_Row]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[_Row] = []
    header: list[str] | None = None
    try:
        while True:
            line = reader.line_num + 1  # where the next record starts
            cells = next(reader, None)
            if cells is None:
                break
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and Excel's trailing ";;;;"
            if header is None:
                header = _header(cells)
                continue
            error = None
            if any(cell.strip() for cell in cells[len(header) :]):
                error = InvalidInput(EXTRA_CELLS, n=len(cells), max=len(header))
            rows.append(_Row(line, Where.LIGNE, dict(zip(header, cells, strict=False)), error))
    except csv.Error as exc:
        raise InvalidInput(
            BAD_CSV, fichier=filename, ligne=reader.line_num, erreur=str(exc)
        ) from None
    return rows


def _header(cells: list[str]) -> list[str]:
    names = [fold(cell) for cell in cells]
    for cell, name in zip(cells, names, strict=True):
        if name not in COLUMNS:
            raise InvalidInput(UNKNOWN_COLUMN, colonne=cell.strip(), colonnes=", ".join(COLUMNS))
        if names.count(name) > 1:
            raise InvalidInput(DUPLICATE_COLUMN, colonne=cell.strip())
    for name in REQUIRED_COLUMNS:
        if name not in names:
            raise InvalidInput(MISSING_COLUMN, colonne=name)
    return names


def _read_toml(filename: str, text: str) -> tuple[list[_Row], list[_Row]]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(BAD_TOML, fichier=filename, erreur=str(exc)) from None
    for key in document:
        if key not in ("chantiers", "ateliers"):
            raise InvalidInput(UNKNOWN_SECTION, cle=key)
    return (
        _tables(document, "ateliers", COLUMNS, Where.ATELIER),
        _tables(document, "chantiers", CHANTIER_KEYS, Where.CHANTIER),
    )


def _tables(document: dict[str, Any], name: str, keys: Sequence[str], where: Where) -> list[_Row]:
    tables = document.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise InvalidInput(NOT_TABLES, cle=name)
    for n, table in enumerate(tables, 1):
        for key in table:
            if key not in keys:
                raise InvalidInput(UNKNOWN_KEY, cle=key, table=name, n=n, cles=", ".join(keys))
    return [_Row(n, where, table) for n, table in enumerate(tables, 1)]


# --- reading one row -----------------------------------------------------------------------


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(NOT_TEXT, champ=name)
    return value.strip().replace("\r\n", "\n")


def _integer(values: dict[str, Any], name: str) -> int | None:
    """An integer (TOML) or its digits (CSV); None when empty."""
    value = values.get(name, "")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        return int(text) if text else None
    except ValueError:
        raise InvalidInput(NOT_INTEGER, champ=name, valeur=text[:50]) from None


def _genre(text: str) -> Genre:
    if not text:
        return Genre.ATELIER
    try:
        return Genre(fold(text))
    except ValueError:
        genres = ", ".join(g.value for g in Genre)
        raise InvalidInput(UNKNOWN_GENRE, genre=text[:50], genres=genres) from None


@dataclass
class _Run:
    """One import under way."""

    guild_id: int
    zone: str
    now: datetime
    allow_past: bool
    actor_user_id: int | None
    report: ImportReport
    chantiers: dict[str, int] = field(default_factory=dict)  # slug → id
    channels: dict[int, int | None] = field(default_factory=dict)  # chantier id → channel id
    keys: dict[str, int] = field(default_factory=dict)  # source key → the row that used it


class ImportService:
    """Imports programme files (``/programme importer``, ``python -m bot import``)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        ateliers: AtelierService,
        chantiers: ChantierService,
        *,
        horizon_years: int = 3,
        annonces_salon: int | None = None,
    ) -> None:
        self.sessions = sessions
        #: Where ateliers without a chantier (or whose chantier has no channel) are announced.
        self.annonces_salon = annonces_salon
        self.horizon_years = horizon_years
        self.clock = clock
        self.ateliers = ateliers
        self.chantiers = chantiers

    async def import_file(
        self,
        guild_id: int,
        filename: str,
        data: bytes,
        *,
        zone: str,
        allow_past: bool,
        actor_user_id: int | None = None,
    ) -> ImportReport:
        """Import every good row of the file; report the others. ``allow_past`` lets past
        séances in (the CLI importing the programme's history); otherwise they are refused."""
        ateliers, chantiers = read_file(filename, data)
        run = _Run(
            guild_id, zone, self.clock.now(), allow_past, actor_user_id, ImportReport(filename)
        )
        for row in chantiers:
            await self._import_chantier(run, row)
        known = await self.chantiers.chantiers(guild_id, include_archived=True)
        run.chantiers = {c.slug: c.id for c in known}  # archived: AtelierService says so
        run.channels = {c.id: c.channel_id for c in known}
        for row in ateliers:
            try:
                await self._import_atelier(run, row)
            except UserError as error:
                titre = row.values.get("titre")
                titre = (titre.strip() or None) if isinstance(titre, str) else None
                run.report.refused.append(RowError(row.line, row.where, titre, error))
        r = run.report
        log.info(
            "guild %s: programme %r imported by %s: %d created, %d skipped, %d refused",
            guild_id, filename, actor_user_id, r.n_created, r.n_skipped, r.n_refused
        )  # fmt: skip
        return r

    async def _import_chantier(self, run: _Run, row: _Row) -> None:
        """Create a [[chantiers]] table's chantier unless the server has its slug already."""
        nom = row.values.get("nom")
        try:
            nom, slug, description, emoji = (
                _text(row.values, key) for key in ("nom", "slug", "description", "emoji")
            )
            slug = slugify(slug or nom)  # empty: refused by ChantierService.create
            if slug and await self.chantiers.by_slug(run.guild_id, slug) is not None:
                return
            await self.chantiers.create(
                run.guild_id,
                nom,
                description=description,
                emoji=emoji,
                slug=slug,
                actor_user_id=run.actor_user_id,
            )
            run.report.chantiers_created.append(slug)
        except Conflict:
            return  # created meanwhile by a concurrent import
        except UserError as error:
            titre = nom if isinstance(nom, str) else None
            run.report.refused.append(RowError(row.line, row.where, titre, error))

    async def _import_atelier(self, run: _Run, row: _Row) -> None:
        values = row.values
        if row.error is not None:
            raise row.error
        titre, dates = _text(values, "titre"), _text(values, "dates")
        lieu = _text(values, "lieu") or DEFAULT_LIEU
        lien = _text(values, "lien") or None
        description = _text(values, "description")
        genre = _genre(_text(values, "genre"))
        duree = _integer(values, "duree")
        duree = DEFAULT_DUREE if duree is None else duree
        capacite = _integer(values, "capacite")
        validate_text(titre=titre, description=description, lieu=lieu, lien=lien)
        validate_numbers(duree_minutes=duree, capacite=capacite)
        chantier_text = _text(values, "chantier")
        chantier = slugify(chantier_text) if chantier_text else None
        if chantier is not None and chantier not in run.chantiers:
            known = ", ".join(run.chantiers) or "—"
            raise NotFound(UNKNOWN_CHANTIER, chantier=chantier_text[:50], chantiers=known)
        cle = _text(values, "cle")
        if len(cle) > CLE_MAX:
            raise InvalidInput(CLE_TOO_LONG, cle=cle[:50] + "…", max=CLE_MAX)

        def seances(allow_past: bool) -> list[SeanceSpec]:
            return parse_seances(
                dates,
                zone=run.zone,
                now=run.now,
                duration=timedelta(minutes=duree),
                allow_past=allow_past,
                allow_date_only=True,
                horizon_years=self.horizon_years,
            )

        specs = seances(True)  # the key first: an atelier imported before, now past, is skipped
        key = cle or digest_key(titre, specs, chantier)
        if key in run.keys:
            raise InvalidInput(DUPLICATE_CLE, cle=cle or titre[:50], autre=run.keys[key])
        run.keys[key] = row.line
        existing = await self._existing(run.guild_id, key)
        if existing is None:
            if not run.allow_past:
                specs = seances(False)  # refuses the first past séance, naming it
            draft = AtelierDraft(
                titre=titre,
                seances=specs,
                chantier_id=run.chantiers[chantier] if chantier else None,
                duree_minutes=duree,
                lieu=lieu,
                lien=lien,
                capacite=capacite,
                genre=genre,
                description=description,
                organizer_user_id=run.actor_user_id,
                source_key=key,
            )
            warnings = await self.ateliers.planning_warnings(run.guild_id, draft.chantier_id, specs)
            announce = not run.allow_past
            channel_id = None
            if announce and (draft.chantier_id is None or not run.channels.get(draft.chantier_id)):
                channel_id = self.annonces_salon
            try:
                # Announced (through the outbox) unless it is history from the command line.
                info = await self.ateliers.create(
                    run.guild_id,
                    draft,
                    actor_user_id=run.actor_user_id,
                    announce=announce,
                    channel_id=channel_id,
                )
            except IntegrityError:  # the same key imported meanwhile by a concurrent import
                existing = await self._existing(run.guild_id, key)
                if existing is None:
                    raise
            else:
                outcome = RowOutcome(row.line, row.where, info.titre, info.id, key)
                run.report.created.append(outcome)
                if warnings:
                    run.report.warnings.append((outcome, warnings))
                if announce and channel_id is None and not run.channels.get(draft.chantier_id or 0):
                    run.report.unannounced.append(outcome)
                return
        run.report.skipped.append(RowOutcome(row.line, row.where, titre, existing, key))

    async def _existing(self, guild_id: int, key: str) -> int | None:
        """The id of the server's atelier imported under this key, if any."""
        async with self.sessions() as session:
            stmt = select(Atelier.id).where(Atelier.guild_id == guild_id, Atelier.source_key == key)
            return (await session.execute(stmt)).scalar_one_or_none()
