"""French typography in every message the bot can send: each French catalog entry, rendered
with sample values as the bot renders it, has a non-breaking space wherever French wants one
(before « : », inside « », after « n° »; a narrow one before ; ! ?), never an ordinary space
Discord could break the line at. The dates and numbers the bot writes follow Québec usage."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from bot.i18n import NBSP, NNBSP, I18n, Translations, default_locales_dir

#: An ordinary space (or none) where French typography wants a non-breaking one.
WRONG = re.compile(r"(?:[ ]|(?<=\w))[:;!?»](?=\s|$)|« |[ ](?=»)|\bn° ")


@pytest.fixture(scope="module")
def fr() -> Translations:
    return I18n.load().for_locale("fr")


def _entries() -> list[tuple[str | None, str | tuple[str, str]]]:
    with (default_locales_dir() / "partage.pot").open("rb") as f:
        catalog = read_po(f)
    return [(m.context, m.id) for m in catalog if m.id]


def _sample(template: str) -> dict[str, str]:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return {name: "X" for name in names}


def _render(fr: Translations, context: str | None, msgid: str | tuple[str, str]) -> list[str]:
    if isinstance(msgid, tuple):  # plural: both forms
        singular, plural = msgid
        values = _sample(singular) | _sample(plural)
        values.pop("n", None)
        return [fr.n_(singular, plural, n, **values) for n in (1, 2)]
    if context is None:
        return [fr._(msgid, **_sample(msgid))]
    return [fr.p_(context, msgid, **_sample(msgid))]


def test_every_french_message_has_its_non_breaking_spaces(fr: Translations) -> None:
    """Messages (no context) and the slash commands' texts (shown by Discord as written)."""
    problems = []
    for context, msgid in _entries():
        if context is not None and context.startswith(("command-name", "option-name")):
            continue  # names are single words
        texts = _render(fr, None, msgid) if context is None else [str(msgid)]
        for text in texts:
            for found in WRONG.finditer(text):
                problems.append(f"{context or ''} {text!r}: {found.group()!r} at {found.start()}")
    assert problems == [], "\n".join(problems)


def test_the_scan_finds_an_ordinary_space(fr: Translations) -> None:
    assert WRONG.search("Raison : x") and WRONG.search("« x »") and WRONG.search("n° 3")
    assert WRONG.search("Vraiment ?") and WRONG.search("Oui!")
    assert not WRONG.search(fr._("Raison : {raison}", raison="x"))
    assert not WRONG.search(f"«{NBSP}x{NBSP}» n°{NBSP}3 oui{NNBSP}! https://x.ca/?a=1 <t:1:F>")


def test_dates_and_numbers_as_quebec_writes_them(fr: Translations) -> None:
    at_nine = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert fr.format_datetime(at_nine, "America/Toronto") == f"jeudi 3 décembre 2026 à 9{NBSP}h"
    assert fr.format_date(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert fr.format_number(10000) == f"10{NBSP}000"
    assert I18n.load().for_locale("en").format_number(10000) == "10,000"


@pytest.mark.parametrize(
    ("name", "fr_title", "en_title"),
    [
        ("Amélie", "Profil d'Amélie", "Amélie's profile"),
        ("Hélène Roy", "Profil d'Hélène Roy", "Hélène Roy's profile"),
        ("Jean Roy", "Profil de Jean Roy", "Jean Roy's profile"),
        ("Ève", "Profil d'Ève", "Ève's profile"),
    ],
)
def test_profile_titles_elide_de_before_a_vowel(name: str, fr_title: str, en_title: str) -> None:
    from datetime import datetime

    from cogs.membres.render import profile_embed
    from cogs.membres.service import ProfilInfo

    info = ProfilInfo(
        1, 2, None, None, None, (), (), False, datetime.now(UTC), "1", datetime.now(UTC)
    )
    i18n = I18n.load()
    assert profile_embed(i18n.for_locale("fr"), info, {}, name).title == fr_title
    assert profile_embed(i18n.for_locale("en"), info, {}, name).title == en_title
