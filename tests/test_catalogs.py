"""Structural tests of the message catalogs (STYLE.md: every French string has its English).

The extraction check runs Babel over bot/, cogs/, db/ and partage/ with babel.cfg, exactly as
``pybabel extract`` does, so a new ``tr._("…")`` or ``N_("…")`` without English fails here.
"""

from __future__ import annotations

import gettext
import re
import shutil
import string
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import command_text
from bot.i18n import (
    CONTEXT_CHOICE_NAME,
    CONTEXT_COMMAND_DESCRIPTION,
    CONTEXT_COMMAND_NAME,
    CONTEXT_OPTION_DESCRIPTION,
    CONTEXT_OPTION_NAME,
    I18n,
    catalog_path,
    default_locales_dir,
)

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
LOCALES = default_locales_dir()
ENGLISH_PO = catalog_path(LOCALES, "en")
SOURCE_DIRS = ("bot", "cogs", "db", "partage")

# Discord's rules: names lowercase, ^[-_\w]{1,32}$; descriptions and choice names 1–100 chars.
NAME_RE = re.compile(r"^[-_\w]{1,32}$")

Key = tuple[str | None, str]  # (context, msgid or singular)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


def english() -> Catalog:
    return read_catalog(ENGLISH_PO)


def messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def key(message_id: str | tuple[str, ...], context: str | None) -> Key:
    return (context, message_id if isinstance(message_id, str) else message_id[0])


def extract(root: Path) -> list[tuple[str, int, str | tuple[str, ...], str | None]]:
    """(file, line, msgid(s), context) for every marked string under root, per babel.cfg."""
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    # extract_from_dir walks the whole root; babel.cfg's patterns pick the source directories.
    return [
        (filename, lineno, msgid, context)
        for filename, lineno, msgid, _comments, context in extract_from_dir(
            root, method_map, options_map
        )
    ]


def untranslated(root: Path, catalog: Catalog) -> list[str]:
    """A line per extracted string that ``catalog`` does not translate (missing/empty/fuzzy)."""
    translated: set[Key] = set()
    for m in messages(catalog):
        complete = all(m.string) if m.pluralizable else bool(m.string)
        if complete and not m.fuzzy:
            translated.add(key(m.id, m.context))
    problems = []
    for filename, lineno, msgid, context in extract(root):
        if key(msgid, context) not in translated:
            where = f"{filename}:{lineno}"
            ctx = f" [{context}]" if context else ""
            problems.append(f"{where}{ctx} {msgid!r} has no English translation")
    return problems


def placeholders(text: str) -> set[str]:
    """The named fields of a str.format template (ValueError if it does not parse)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    return names


# --- The catalogs themselves ---------------------------------------------------------------


def all_po_files() -> list[Path]:
    return sorted(LOCALES.glob("*/LC_MESSAGES/*.po"))


def test_the_english_catalog_exists_and_no_french_one_is_needed() -> None:
    assert ENGLISH_PO in all_po_files()


@pytest.mark.parametrize("path", all_po_files(), ids=lambda p: str(p.relative_to(LOCALES)))
def test_every_catalog_compiles(path: Path) -> None:
    buffer = BytesIO()
    write_mo(buffer, read_catalog(path))
    buffer.seek(0)
    gettext.GNUTranslations(buffer)


def test_the_shipped_catalogs_load() -> None:
    i18n = I18n.load()
    assert i18n.for_locale("en").message_count > 0


def test_english_plural_forms_header() -> None:
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in ENGLISH_PO.read_text(encoding="utf-8")
    assert english().num_plurals == 2


def test_english_has_no_fuzzy_and_no_empty_translation() -> None:
    problems = []
    for m in messages(english()):
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id!r}")
        if not (all(m.string) if m.pluralizable else m.string):
            problems.append(f"empty: {m.id!r}")
    assert problems == []


def test_placeholders_are_the_same_in_french_and_english() -> None:
    problems = []
    for m in messages(english()):
        ids = m.id if m.pluralizable else (m.id,)
        strings = m.string if m.pluralizable else (m.string,)
        try:
            expected = set().union(*(placeholders(s) for s in ids))
            got = [placeholders(s) for s in strings]
        except ValueError as exc:
            problems.append(f"{m.id!r}: not a format string ({exc})")
            continue
        if m.pluralizable:
            # A singular may spell the number out ("one place left"), never add or lose a value.
            if set().union(*got) != expected or any(not g <= expected for g in got):
                problems.append(f"{m.id!r}: {expected} vs {got}")
        elif got[0] != expected:
            problems.append(f"{m.id!r}: {sorted(expected)} vs {sorted(got[0])}")
    assert problems == []


def test_french_plural_entries_have_both_forms() -> None:
    problems = [
        repr(m.id)
        for m in messages(english())
        if m.pluralizable and (len(m.id) != 2 or not all(m.id) or m.id[0] == m.id[1])
    ]
    assert problems == []


# --- Every marked string of the source tree has its English --------------------------------


def test_every_extracted_string_has_english() -> None:
    problems = untranslated(ROOT, english())
    assert problems == [], "\n".join(
        [
            *problems,
            "Re-extract and update the catalog (see bot/i18n.py), then translate the new entries.",
        ]
    )


def test_the_check_reports_a_new_string_without_english(tmp_path: Path) -> None:
    cog = tmp_path / "cogs" / "nouveau" / "cog.py"
    cog.parent.mkdir(parents=True)
    cog.write_text(
        "def render(tr, n):\n"
        '    return tr._("Nouveau texte") + tr.n_("{n} chose", "{n} choses", n, n=n)\n',
        encoding="utf-8",
    )
    shutil.copytree(ROOT / "bot" / "locales", tmp_path / "bot" / "locales")
    problems = untranslated(tmp_path, english())
    assert len(problems) == 2
    assert "cogs/nouveau/cog.py:2 'Nouveau texte' has no English translation" in problems


def test_the_check_passes_a_translated_string(tmp_path: Path) -> None:
    service = tmp_path / "cogs" / "nouveau" / "service.py"
    service.parent.mkdir(parents=True)
    service.write_text('N_("Texte traduit")\np_("bouton", "Oui")\n', encoding="utf-8")
    catalog = Catalog(locale="en")
    catalog.add("Texte traduit", "Translated text")
    catalog.add("Oui", "Yes", context="bouton")
    assert untranslated(tmp_path, catalog) == []
    partial = Catalog(locale="en")
    partial.add("Texte traduit", "Translated text")
    partial.add("Oui", "", context="bouton")
    assert untranslated(tmp_path, partial) == [
        "cogs/nouveau/service.py:2 [bouton] 'Oui' has no English translation"
    ]


def test_babel_extracts_method_calls_with_the_configured_keywords(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "tr = i18n.for_locale('en')\n"
        'tr._("Bonjour {nom}", nom=nom)\n'
        'self.tr._("Par un attribut")\n'
        'tr.n_("{n} place restante", "{n} places restantes", n, n=n)\n'
        'tr.p_("bouton", "Oui")\n'
        'tr.pn_("rappel", "dans {n} jour", "dans {n} jours", n)\n'
        'raise NotFound(N_("Atelier n° {id} introuvable."), id=42)\n'
        "tr._(variable)\n"
        'tr._(f"Jamais {extrait}")\n',
        encoding="utf-8",
    )
    with BABEL_CFG.open(encoding="utf-8") as f:
        _method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    keywords = options_map["bot/**.py"]["keywords"]
    found = [
        (msgid, context)
        for _lineno, msgid, _comments, context in extract_from_file(
            "python", str(sample), keywords=keywords
        )
    ]
    assert found == [
        ("Bonjour {nom}", None),
        ("Par un attribut", None),
        (("{n} place restante", "{n} places restantes"), None),
        ("Oui", "bouton"),
        (("dans {n} jour", "dans {n} jours"), "rappel"),
        ("Atelier n° {id} introuvable.", None),
    ]


def test_babel_cfg_gives_the_same_keywords_to_every_source_dir() -> None:
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    assert {pattern for pattern, _method in method_map} == {f"{d}/**.py" for d in SOURCE_DIRS}
    assert len({repr(options["keywords"]) for options in options_map.values()}) == 1


# --- The slash-command vocabulary (bot/command_text.py) ------------------------------------

MEMBER_COMMANDS = {
    "aide": set(),
    "chantiers": set(),
    "rejoindre": {"chantier"},
    "quitter": {"chantier"},
    "ateliers": {"chantier"},
    "rsvp": {"atelier", "reponse", "seance"},
    "mes-inscriptions": set(),
    "rappels": {"messages-prives"},
    "profil": set(),
    "profil voir": set(),
    "profil modifier": set(),
    "profil supprimer": set(),
    "annuaire": {"region", "chantier", "municipalite", "mot-cle"},
    "jumelage": {"participer"},
    "mes-donnees": set(),
}
CREER = {"titre", "chantier", "dates", "duree", "lieu", "lien", "capacite", "genre", "description"}
STAFF_COMMANDS = {
    "atelier": set(),
    "atelier creer": CREER,
    "atelier modifier": {"atelier"} | CREER,
    "atelier annuler": {"atelier", "raison"},
    "atelier participants": {"atelier"},
    "atelier annoncer": {"atelier", "salon"},
    "chantier": set(),
    "chantier creer": {"nom", "description", "emoji"},
    "chantier archiver": {"chantier"},
    "programme": set(),
    "programme importer": {"fichier"},
    "statistiques": {"debut", "fin"},
}
# Between the ateliers (issue 13): COMMANDS.md's /question is /question poser (Discord cannot
# invoke a group that has sub-commands).
BETWEEN_COMMANDS = {
    "question": set(),
    "question poser": {"chantier"},
    "question resolue": set(),
    "faq": {"mot-cle"},
    "ressource": {"chantier", "participer"},
    "referentiels": {"mot-cle", "chantier"},
    "atelier documents": {"atelier", "titre", "lien", "fichier"},
}
COMMANDS = MEMBER_COMMANDS | STAFF_COMMANDS | BETWEEN_COMMANDS


def test_command_text_covers_every_command_and_option_of_commands_md() -> None:
    assert set(command_text.DESCRIPTIONS) == set(COMMANDS)
    options = {(cmd, opt) for cmd, opts in COMMANDS.items() for opt in opts}
    assert set(command_text.OPTION_DESCRIPTIONS) == options
    words = {word for name in COMMANDS for word in name.split()}
    assert set(command_text.COMMAND_NAMES) == words
    assert set(command_text.OPTION_NAMES) == {opt for _cmd, opt in options}
    assert command_text.CHOICES == {
        "reponse": ("oui", "peut-etre", "non"),
        "genre": ("atelier", "referentiel", "formation", "echange", "synthese"),
    }


def command_entries() -> dict[str, list[Message]]:
    by_context: dict[str, list[Message]] = {}
    for m in messages(english()):
        if m.context in (
            CONTEXT_COMMAND_NAME,
            CONTEXT_COMMAND_DESCRIPTION,
            CONTEXT_OPTION_NAME,
            CONTEXT_OPTION_DESCRIPTION,
            CONTEXT_CHOICE_NAME,
        ):
            by_context.setdefault(m.context, []).append(m)
    return by_context


def test_command_vocabulary_has_english_in_its_context() -> None:
    entries = {(m.context, m.id) for ms in command_entries().values() for m in ms if m.string}
    expected = {
        *((CONTEXT_COMMAND_NAME, n) for n in command_text.COMMAND_NAMES),
        *((CONTEXT_OPTION_NAME, n) for n in command_text.OPTION_NAMES),
        *((CONTEXT_CHOICE_NAME, n) for names in command_text.CHOICES.values() for n in names),
        *((CONTEXT_COMMAND_DESCRIPTION, d) for d in command_text.DESCRIPTIONS.values()),
        *((CONTEXT_OPTION_DESCRIPTION, d) for d in command_text.OPTION_DESCRIPTIONS.values()),
    }
    assert expected - entries == set()


def test_command_vocabulary_follows_discord_rules_in_both_languages() -> None:
    problems = []
    for context, entries in command_entries().items():
        for m in entries:
            for text, language in ((m.id, "fr"), (m.string, "en")):
                if context in (CONTEXT_COMMAND_NAME, CONTEXT_OPTION_NAME):
                    ok = bool(NAME_RE.match(text)) and text == text.lower() and text.isascii()
                else:
                    ok = 1 <= len(text) <= 100
                if not ok:
                    problems.append(f"[{context}] {language} {text!r}")
    assert problems == []


def test_english_command_names_are_unique_where_discord_needs_it() -> None:
    english_names = {m.id: m.string for m in command_entries()[CONTEXT_COMMAND_NAME]}
    top_level = [english_names[name] for name in COMMANDS if " " not in name]
    assert len(top_level) == len(set(top_level))
    for command, opts in COMMANDS.items():
        options = {m.id: m.string for m in command_entries()[CONTEXT_OPTION_NAME]}
        translated = [options[o] for o in opts]
        assert len(translated) == len(set(translated)), command
