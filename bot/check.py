"""``python -m bot check``: what the configuration and the database look like.

It changes nothing: an SQLite database that does not exist yet is said so (``run`` creates it)
and is not created; migrations not applied yet are information (``run`` applies them). A
problem is what would stop ``run``: no token, a database that cannot be reached."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, format_duration
from bot.i18n import Translations
from db.migrate import current_revision, head_revision
from db.session import create_engine

log = logging.getLogger(__name__)


def _say(line: str) -> None:
    print(line)  # noqa: T201 - this command reports on the console


async def run_checks(settings: Settings, tr: Translations) -> int:
    """Print what was found; return 1 if anything would stop the bot."""
    problems: list[str] = []
    _say(
        tr._("Configuration : {source}", source=settings.source_path)
        if settings.source_path
        else tr._("Configuration : valeurs par défaut")
    )
    _say(tr._("  jeton : présent") if settings.has_token else tr._("  jeton : ABSENT"))
    if not settings.has_token:
        problems.append(tr._("pas de jeton de bot (discord.token ou DISCORD_TOKEN)"))
    guild = settings.discord.guild_id
    _say(
        tr._("  serveur : {id}", id=guild)
        if guild
        else tr._("  serveur : tous (commandes globales)")
    )
    _say(tr._("  rôle de l'équipe : {role}", role=settings.discord.staff_role))
    _say(tr._("  fuseau horaire : {zone}", zone=settings.time.timezone))
    offsets = ", ".join(format_duration(o) for o in settings.reminders.offsets)
    digest = settings.reminders.digest or tr._("aucun")
    _say(tr._("  rappels : {delais} ; résumé : {resume}", delais=offsets, resume=digest))
    slugs = ", ".join(c.slug for c in settings.chantiers) or tr._("aucun")
    _say(tr._("  chantiers : {slugs}", slugs=slugs))
    _say(tr._("Base de données : {url}", url=settings.database.safe_url))
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database or "")
        if not await asyncio.to_thread(path.is_file):  # connecting would create it
            _say(tr._("  pas encore créée : « run » la créera ({chemin})", chemin=path))
            return _verdict(tr, problems)
    engine = create_engine(settings.database.url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(current_revision)
    except Exception as err:
        # SQLAlchemy's errors, the network's, and asyncpg's own (a database that does not
        # exist is raised as is while connecting); anything else is a bug.
        if not isinstance(err, SQLAlchemyError | OSError) and not _from_asyncpg(err):
            raise
        problems.append(tr._("base injoignable ({erreur})", erreur=_reason(err)))
    else:
        head = head_revision()
        _say(
            tr._(
                "  schéma : {actuel} (le plus récent : {dernier})",
                actuel=current or "—",
                dernier=head,
            )
        )
        if current != head:
            _say(tr._("  des migrations restent à appliquer : « run » les applique au démarrage"))
    finally:
        await engine.dispose()
    return _verdict(tr, problems)


def _from_asyncpg(err: BaseException) -> bool:
    return type(err).__module__.split(".")[0] == "asyncpg"


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"[:200]


def _verdict(tr: Translations, problems: list[str]) -> int:
    for problem in problems:
        _say(tr._("Problème : {probleme}", probleme=problem))
    if problems:
        _say(tr.n_("{n} problème.", "{n} problèmes.", len(problems)))
    else:
        _say(tr._("Tout est prêt."))
    return 1 if problems else 0
