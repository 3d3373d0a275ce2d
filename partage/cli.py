"""The command line: ``python -m bot run|check|import|db upgrade`` (also ``partage-bot``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, load_settings
from bot.errors import N_, InvalidInput, UserError
from bot.i18n import NBSP
from bot.logsetup import setup_logging

if TYPE_CHECKING:
    from bot.i18n import Translations
    from bot.lease import Lease

log = logging.getLogger("bot")

EXIT_OK, EXIT_PROBLEM, EXIT_CONFIG = 0, 1, 2


def _parser(tr: Translations) -> argparse.ArgumentParser:
    """The command line's grammar, its help in ``tr``'s language (build it inside
    :func:`argparse_speaks`, which also translates argparse's own words)."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description=tr._(N_("Partage, le bot de l'Opération Partage."))
    )
    command_metavar = tr._(N_("COMMANDE"))
    file_metavar = tr._(N_("FICHIER"))
    sub = parser.add_subparsers(dest="command", required=True, metavar=command_metavar)
    config_help = tr._(
        N_(
            "fichier de configuration (par défaut : ./config.toml s'il existe, sinon les valeurs "
            "intégrées)"
        )
    )

    def command(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
        return parser

    run = command(sub, "run", tr._(N_("lancer le bot (applique d'abord les migrations)")))
    check = command(sub, "check", tr._(N_("vérifier la configuration et la base de données")))
    imp = command(sub, "import", tr._(N_("importer un fichier de programme (CSV ou TOML)")))
    imp.add_argument("file", type=Path, metavar=file_metavar, help=tr._(N_("le programme")))
    imp.add_argument(
        "--guild",
        type=int,
        metavar="ID",
        help=tr._(N_("identifiant du serveur où importer (par défaut : discord.guild_id)")),
    )
    save = command(sub, "backup", tr._(N_("écrire une sauvegarde de la base dans FICHIER")))
    save.add_argument("file", type=Path, metavar=file_metavar, help=tr._(N_("la sauvegarde")))
    load = command(
        sub,
        "restore",
        tr._(N_("remplacer la base par la sauvegarde FICHIER (le bot doit être arrêté)")),
    )
    load.add_argument("file", type=Path, metavar=file_metavar, help=tr._(N_("la sauvegarde")))
    db = command(sub, "db", tr._(N_("commandes de la base de données")))
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar=command_metavar)
    upgrade = command(db_sub, "upgrade", tr._(N_("appliquer les migrations")))
    lang_help = tr._(N_("langue des messages (par défaut : selon LANG, sinon fr)"))
    # Also before the command (« python -m bot --lang en --help »); main reads it from argv.
    parser.add_argument("--lang", choices=LANGUAGES, help=lang_help)
    for each in (run, check, imp, save, load, upgrade):
        each.add_argument("--config", type=Path, metavar=file_metavar, help=config_help)
        each.add_argument("--lang", choices=LANGUAGES, help=lang_help)
    return parser


LANGUAGES = ("fr", "en")

# argparse's own words, which it writes in English, with their French: each is a catalog
# message whose English (in the .po) is argparse's original text.
_ARGPARSE_WORDS: Mapping[str, str] = {
    "usage: ": N_("utilisation : "),
    "positional arguments": N_("arguments positionnels"),
    "options": N_("options"),
    "show this help message and exit": N_("afficher cette aide et quitter"),
    "%(prog)s: error: %(message)s\n": N_("%(prog)s : erreur : %(message)s\n"),
    "the following arguments are required: %s": N_("ces arguments sont obligatoires : %s"),
    "one of the arguments %s is required": N_("un des arguments %s est obligatoire"),
    "unrecognized arguments: %s": N_("arguments inconnus : %s"),
    "argument %(argument_name)s: %(message)s": N_("argument %(argument_name)s : %(message)s"),
    "invalid choice: %(value)r (choose from %(choices)s)": N_(
        "choix invalide : %(value)r (choisissez parmi %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": N_("valeur invalide pour %(type)s : %(value)r"),
    "expected one argument": N_("un argument est attendu"),
    "expected at most one argument": N_("au plus un argument est attendu"),
    "expected at least one argument": N_("au moins un argument est attendu"),
    "ambiguous option: %(option)s could match %(matches)s": N_(
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "not allowed with argument %s": N_("interdit avec l'argument %s"),
    "ignored explicit argument %r": N_("argument explicite ignoré : %r"),
}


_HEADINGS = frozenset(("positional arguments", "options"))


@contextlib.contextmanager
def argparse_speaks(tr: Translations) -> Iterator[None]:
    """argparse writes its own words (« usage: », « options », its error messages) through the
    functions ``_`` and ``ngettext`` that it imports from :mod:`gettext` into its module, and
    looks them up when it builds a parser, formats the help or reports an error. While the
    block runs, those two names are ours: argparse's English goes through our catalogs in
    ``tr``'s language (a word we do not know stays argparse's). They are put back afterwards,
    even when argparse exits (``--help``, an error), so nothing else sees the change."""

    def gettext(message: str) -> str:
        french = _ARGPARSE_WORDS.get(message)
        if french is None:
            return message
        if message in _HEADINGS and tr.locale == "fr":
            # argparse adds the colon after a heading itself: the space before it is ours.
            return tr._(french) + NBSP
        return tr._(french)

    def ngettext(singular: str, plural: str, n: int) -> str:
        if singular == "expected %s argument":
            return tr.n_("%s argument attendu", "%s arguments attendus", n)
        return singular if n == 1 else plural

    module: Any = argparse
    saved = module._, module.ngettext
    module._, module.ngettext = gettext, ngettext
    try:
        yield
    finally:
        module._, module.ngettext = saved


def language_asked(argv: Sequence[str]) -> str | None:
    """The language named by ``--lang en`` or ``--lang=en``, read before parsing so that the
    help and argparse's errors are already in it."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        else:
            continue
        if value in LANGUAGES:
            return value
    return None


def _load(path: Path | None, *, quiet: bool = False) -> Settings:
    """The settings, and logging set up; ``quiet`` (a one-shot command whose lines are its
    answer): warnings and errors only."""
    settings = load_settings(path)
    setup_logging("WARNING" if quiet else settings.logging.level, settings.logging.format)
    return settings


BAD_TOKEN = N_(
    "Discord refuse le jeton du bot : dans le portail des développeurs (Bot → Reset Token), "
    "copiez un nouveau jeton dans discord.token ou DISCORD_TOKEN."
)
NO_MEMBERS_INTENT = N_(
    "Discord refuse la connexion : activez « Server Members Intent » dans le portail des "
    "développeurs (Bot → Privileged Gateway Intents), puis relancez."
)
NO_PG_DATABASE = N_(
    "La base PostgreSQL « {base} » n'existe pas : créez-la (createdb {base}) ou corrigez "
    "database.url."
)
PG_REFUSED = N_(
    "PostgreSQL refuse la connexion de « {utilisateur} » : vérifiez l'utilisateur et le mot de "
    "passe de database.url."
)
UNREACHABLE = N_(
    "La base de données ne répond pas à {adresse} : vérifiez que le serveur tourne et database.url."
)
SQLITE_UNOPENABLE = N_(
    "Impossible d'ouvrir la base SQLite « {chemin} » : vérifiez le dossier et ses droits."
)


def expected_failure(tr: Translations, err: BaseException, settings: Settings) -> str | None:
    """The one line for a failure an operator can fix (bad token, intent not enabled, database
    missing, refused or unreachable), or None: then it is a bug, and keeps its traceback."""
    import sqlite3

    import discord
    from sqlalchemy.engine import make_url

    url = make_url(settings.database.url)
    seen: set[int] = set()
    chain: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None)]
        todo += list(getattr(current, "exceptions", ()))
    for e in chain:
        name = type(e).__name__
        if isinstance(e, discord.LoginFailure):
            return tr._(BAD_TOKEN)
        if isinstance(e, discord.PrivilegedIntentsRequired):
            return tr._(NO_MEMBERS_INTENT)
        if name == "InvalidCatalogNameError":
            return tr._(NO_PG_DATABASE, base=url.database or "?")
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return tr._(PG_REFUSED, utilisateur=url.username or "?")
        if isinstance(e, sqlite3.OperationalError) and "unable to open" in str(e):
            return tr._(SQLITE_UNOPENABLE, chemin=url.database or "?")
    for e in chain:
        if isinstance(e, ConnectionRefusedError | TimeoutError) or (
            isinstance(e, OSError) and "Connect call failed" in str(e)
        ):
            return tr._(UNREACHABLE, adresse=f"{url.host or 'localhost'}:{url.port or 5432}")
    return None


def cmd_run(settings: Settings, tr: Translations) -> int:
    token = settings.require_token()
    return asyncio.run(_run(settings, token, tr))


async def _run(settings: Settings, token: str, tr: Translations) -> int:
    """Take the lease of this process's shards (or wait for it as a standby), migrate, then
    serve until closed. Exit non-zero when the lease was lost, so that the service manager
    starts the process again (it then waits as a standby)."""
    from bot.app import run_bot
    from bot.lease import LeaseUnavailable, lease_for
    from db.migrate import upgrade
    from partage.app import build_bot

    processes = settings.processes
    lease = lease_for(
        settings.database.url,
        shard_id=processes.shard_id,
        shard_count=processes.shard_count,
        lease_seconds=processes.lease_seconds,
    )
    try:
        if not await _acquire(lease, wait=processes.standby):
            return EXIT_OK
    except LeaseUnavailable as err:
        say(
            tr,
            N_(
                "Un autre processus Partage{qui} détient le fragment {fragment} de la base "
                "{base} : celui-ci ne démarre pas (processes.standby = false)."
            ),
            error=True,
            qui=_holder_text(tr, err.holder),
            fragment=err.shards,
            base=err.database,
        )
        return EXIT_CONFIG
    try:
        # Migrations run by the lease holder only: two processes never migrate at once.
        await asyncio.to_thread(upgrade, settings.database.url)
        shards = (
            {"shard_id": processes.shard_id, "shard_count": processes.shard_count}
            if processes.shard_id is not None
            else {}
        )
        bot = build_bot(settings, **shards)
        bot.holds_lease = True
        lease.watch(bot.close)
        await run_bot(bot, token)
    finally:
        await lease.release()
    return EXIT_PROBLEM if lease.lost else EXIT_OK


def _holder_text(tr: Translations, holder: str | None) -> str:
    """`` (processus 4321 sur vps-partage)`` in the operator's language, or nothing."""
    from bot.lease import holder_parts

    if not holder:
        return ""
    parts = holder_parts(holder)
    if parts is None:
        return f" ({holder})"
    pid, host = parts
    return " (" + tr._("processus {pid} sur {hote}", pid=pid, hote=host) + ")"


async def _acquire(lease: Lease, *, wait: bool) -> bool:
    """Take the lease; a standby stopped by SIGTERM or SIGINT while it waits returns False."""
    from bot.app import on_stop_signals

    waiting = asyncio.ensure_future(lease.acquire(wait=wait))

    def _stop(signame: str) -> None:
        log.info("%s received while waiting for the lease: stopping", signame)
        waiting.cancel()

    with on_stop_signals(_stop):
        try:
            await waiting
        except asyncio.CancelledError:
            if not waiting.cancelled():
                raise
            return False
    return True


def cmd_upgrade(settings: Settings, tr: Translations) -> int:
    from db.migrate import upgrade

    upgrade(settings.database.url)
    say(tr, N_("Base au schéma le plus récent : {base}"), base=settings.database.safe_url)
    return EXIT_OK


def cli_translations(lang: str | None) -> Translations:
    """The command line's language: ``--lang``, else English for an English ``LANG``, else
    French."""
    from bot.i18n import I18n, locale_for

    return I18n.load().for_locale(lang or locale_for(os.environ.get("LANG")))


def say(tr: Translations, message: str, /, *, error: bool = False, **values: object) -> None:
    print(tr._(message, **values), file=sys.stderr if error else sys.stdout)


def cmd_backup(settings: Settings, file: Path, tr: Translations) -> int:
    from partage.backup import backup

    done = backup(settings.database.url, file)  # a BackupError is said by main
    say(
        tr,
        N_("Sauvegarde écrite : {fichier} ({taille})."),
        fichier=done.path,
        taille=tr.format_size(done.size),
    )
    return EXIT_OK


def cmd_restore(settings: Settings, file: Path, tr: Translations) -> int:
    from partage.backup import restore

    if asyncio.run(_bot_is_running(settings)):
        say(
            tr,
            N_("Le bot tourne sur cette base : arrêtez-le, puis recommencez la restauration."),
            error=True,
        )
        return EXIT_CONFIG
    restore(settings.database.url, file)  # a BackupError is said by main
    say(
        tr,
        N_(
            "Base restaurée depuis {fichier} : {base}. Au prochain démarrage, le bot applique "
            "les migrations qui manqueraient."
        ),
        fichier=file,
        base=settings.database.safe_url,
    )
    return EXIT_OK


async def _bot_is_running(settings: Settings) -> bool:
    """Whether a bot process holds the lease of this database (every shard)."""
    from bot.lease import LeaseUnavailable, lease_for

    lease = lease_for(
        settings.database.url,
        shard_id=None,
        shard_count=settings.processes.shard_count,
        lease_seconds=settings.processes.lease_seconds,
    )
    try:
        await lease.acquire(wait=False)
    except LeaseUnavailable:
        return True
    await lease.release()
    return False


def cmd_check(settings: Settings, tr: Translations) -> int:
    from bot.check import run_checks

    return asyncio.run(run_checks(settings, tr))


def cmd_import(settings: Settings, file: Path, guild: int | None, tr: Translations) -> int:
    from db.migrate import upgrade
    from partage.backup import NO_FILE
    from partage.importer import import_programme

    guild_id = guild or settings.discord.guild_id
    if guild_id is None:
        raise InvalidInput(
            N_(
                "Nommez le serveur où importer : --guild ID, ou discord.guild_id dans la "
                "configuration."
            )
        )
    if not file.is_file():
        raise InvalidInput(NO_FILE, fichier=str(file))
    upgrade(settings.database.url)
    return asyncio.run(import_programme(settings, file.name, file.read_bytes(), guild_id, tr))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    tr = cli_translations(language_asked(argv))
    with argparse_speaks(tr):
        args = _parser(tr).parse_args(argv)
    try:
        settings = _load(args.config, quiet=args.command in ("backup", "restore"))
    except ConfigError as err:
        print(err.render(tr), file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG
    try:
        if args.command == "run":
            return cmd_run(settings, tr)
        if args.command == "check":
            return cmd_check(settings, tr)
        if args.command == "import":
            return cmd_import(settings, args.file, args.guild, tr)
        if args.command == "backup":
            return cmd_backup(settings, args.file, tr)
        if args.command == "restore":
            return cmd_restore(settings, args.file, tr)
        return cmd_upgrade(settings, tr)
    except ConfigError as err:
        print(err.render(tr), file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK
    except UserError as err:  # what the operator can fix, said in one line
        print(tr.user_error(err), file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG
    except Exception as err:
        line = expected_failure(tr, err, settings)
        if line is None:
            raise
        log.debug("expected failure", exc_info=err)
        print(line, file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
