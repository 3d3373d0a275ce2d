"""The slash-command vocabulary, read from the real command tree (STYLE.md rule 11).

Every command declares its own names and descriptions next to its code; there is no list of
commands to keep in step. These tests build the production bot, load every extension, and walk
the tree Discord would receive: each name, description, option and choice must have its English
in the catalog under its context and follow Discord's rules in both languages.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from discord import app_commands

from bot import command_text
from bot.config import Settings
from bot.i18n import (
    CONTEXT_COMMAND_NAME,
    CONTEXT_OPTION_NAME,
    catalog_path,
    command_strings,
    default_locales_dir,
)
from db.migrate import upgrade
from partage.app import build_bot
from partage.compose import EXTENSIONS

ROOT = Path(__file__).resolve().parent.parent
NAME_RE = re.compile(r"^[-_\w]{1,32}$")


@dataclass(frozen=True)
class Vocabulary:
    """What the real tree holds, read while the bot is loaded (closing unloads its cogs)."""

    strings: set[tuple[str, str]]  # command_strings(): what the translator will be asked
    top_level: list[str]
    children: dict[str, list[str]]  # group -> subcommand names; command -> option names
    declared: dict[str, tuple[str, list[str]]]  # command -> module, its descriptions


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Vocabulary:
    """The production bot's command tree, every extension loaded (no Discord needed); built once
    for the module."""
    path = tmp_path_factory.mktemp("vocabulary") / "p.db"
    settings = Settings(
        discord={"token": "x" * 24}, database={"url": f"sqlite+aiosqlite:///{path}"}
    )
    upgrade(settings.database.url)

    async def load() -> Vocabulary:
        bot = build_bot(settings)
        async with bot:
            for name in EXTENSIONS:
                await bot.load_extension(name)
            return read(bot.tree)

    return asyncio.run(load())


def read(tree: app_commands.CommandTree[Any]) -> Vocabulary:
    children: dict[str, list[str]] = {}
    declared: dict[str, tuple[str, list[str]]] = {}
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Group):
            children[command.qualified_name] = [c.name for c in command.commands]
        else:
            children[command.qualified_name] = [p.display_name for p in command.parameters]
            texts = [command.description, *(p.description for p in command.parameters)]
            declared[command.qualified_name] = (command.module or "", texts)
    return Vocabulary(
        command_strings(tree), [c.name for c in tree.get_commands()], children, declared
    )


def english() -> dict[tuple[str | None, str], str]:
    with catalog_path(default_locales_dir(), "en").open("rb") as f:
        return {(m.context, m.id): m.string for m in read_po(f) if m.id}


def test_every_string_of_the_real_tree_has_its_english(tree: Vocabulary) -> None:
    strings = tree.strings
    assert len(strings) > 100  # the whole tree, not an empty one
    catalog = english()
    assert sorted(s for s in strings if not catalog.get(s)) == []


def test_the_real_tree_follows_discords_rules_in_both_languages(tree: Vocabulary) -> None:
    catalog = english()
    problems = []
    for context, text in tree.strings:
        for shown, language in ((text, "fr"), (catalog.get((context, text), ""), "en")):
            if context in (CONTEXT_COMMAND_NAME, CONTEXT_OPTION_NAME):
                ok = bool(NAME_RE.match(shown)) and shown == shown.lower() and shown.isascii()
            else:
                ok = 1 <= len(shown) <= 100
            if not ok:
                problems.append(f"[{context}] {language} {shown!r}")
    assert problems == []


def test_english_names_are_unique_where_discord_needs_it(tree: Vocabulary) -> None:
    catalog = english()
    top = [catalog[(CONTEXT_COMMAND_NAME, name)] for name in tree.top_level]
    assert len(top) == len(set(top)) > 10
    for qualified, names in tree.children.items():
        context = CONTEXT_COMMAND_NAME if qualified in groups_of(tree) else CONTEXT_OPTION_NAME
        english_names = [catalog[(context, n)] for n in names]
        assert len(english_names) == len(set(english_names)), qualified


def groups_of(tree: Vocabulary) -> set[str]:
    return set(tree.children) - set(tree.declared)


def test_each_command_declares_its_words_where_it_is_defined(tree: Vocabulary) -> None:
    """No central table of descriptions: each description in the tree is written in the source
    file of its command's cog (the shared module keeps only option names and choices)."""
    assert not hasattr(command_text, "DESCRIPTIONS")
    assert not hasattr(command_text, "OPTION_DESCRIPTIONS")
    assert len(tree.declared) > 20
    for qualified, (module, texts) in tree.declared.items():
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        for text in texts:
            assert text in source, (qualified, module, text)


def test_the_readme_lists_every_command_of_the_tree(tree: Vocabulary) -> None:
    """The README's command tables are written by hand: a command the bot registers and the
    README never names fails here (« /atelier presences » or « /atelier creer|modifier … »)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for qualified in tree.declared:
        first, *rest = qualified.split()
        if rest:
            pattern = re.escape("/" + first) + r"\s+[\w|-]*?" + re.escape(rest[0]) + r"(?![\w-])"
        else:
            pattern = re.escape("/" + first) + r"(?![\w-])"
        if not re.search(pattern, readme):
            missing.append(qualified)
    assert missing == []
