"""Translations, plurals, placeholders, dates and the command translator (bot/i18n.py)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation, locale_str

from bot.errors import N_, NotFound
from bot.i18n import (
    CatalogError,
    I18n,
    PartageTranslator,
    Translations,
    catalog_path,
    command_strings,
    discord_timestamp,
    locale_for,
    reader_locale,
)

SAMPLE_PO = r"""
msgid ""
msgstr ""
"Language: en\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "Bonjour {nom}"
msgstr "Hello {nom}"

msgid "{n} place restante"
msgid_plural "{n} places restantes"
msgstr[0] "{n} place left"
msgstr[1] "{n} places left"

msgctxt "bouton"
msgid "Oui"
msgstr "Yes"

msgctxt "rappel"
msgid "dans {n} jour"
msgid_plural "dans {n} jours"
msgstr[0] "in {n} day"
msgstr[1] "in {n} days"

msgid "Atelier n° {id} introuvable."
msgstr "Workshop #{id} not found."

msgctxt "command-name"
msgid "aide"
msgstr "help"

msgctxt "option-name"
msgid "chantier"
msgstr "workstream"

#, fuzzy
msgid "Texte flou"
msgstr "Fuzzy text"
"""

INSTANT = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)  # 13:30 in Toronto (EST)


def write_catalog(locales_dir: Path, text: str, locale: str = "en") -> None:
    path = catalog_path(locales_dir, locale)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def i18n(tmp_path: Path) -> I18n:
    write_catalog(tmp_path, SAMPLE_PO)
    return I18n.load(tmp_path)


@pytest.fixture
def fr(i18n: I18n) -> Translations:
    return i18n.for_locale("fr")


@pytest.fixture
def en(i18n: I18n) -> Translations:
    return i18n.for_locale("en")


def test_english_translates_then_formats(en: Translations) -> None:
    assert en._("Bonjour {nom}", nom="Ana") == "Hello Ana"
    assert en.p_("bouton", "Oui") == "Yes"


def test_french_is_the_source_text_formatted(fr: Translations) -> None:
    assert fr._("Bonjour {nom}", nom="Ana") == "Bonjour Ana"
    assert fr.p_("bouton", "Oui") == "Oui"


def test_english_falls_back_to_french_for_a_missing_or_fuzzy_text(en: Translations) -> None:
    assert en._("Pas encore traduit, {nom}", nom="Ana") == "Pas encore traduit, Ana"
    assert en._("Texte flou") == "Texte flou"
    assert en.p_("autre", "Oui") == "Oui"


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 place restante"), (1, "1 place restante"), (2, "2 places restantes")],
)
def test_french_plural_counts_zero_and_one_as_singular(
    fr: Translations, n: int, expected: str
) -> None:
    assert fr.n_("{n} place restante", "{n} places restantes", n, n=n) == expected


def test_french_plural_of_a_million_is_plural(fr: Translations) -> None:
    # CLDR gives French a "many" category (1 000 000): it reads as the plural form.
    assert fr.n_("{n} place", "{n} places", 1_000_000) == "1000000 places"


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0 places left"), (1, "1 place left"), (2, "2 places left")]
)
def test_english_plural_counts_only_one_as_singular(
    en: Translations, n: int, expected: str
) -> None:
    assert en.n_("{n} place restante", "{n} places restantes", n, n=n) == expected


def test_plural_passes_n_as_a_named_value_and_supports_contexts(
    fr: Translations, en: Translations
) -> None:
    assert fr.n_("{n} place restante", "{n} places restantes", 3) == "3 places restantes"
    assert en.pn_("rappel", "dans {n} jour", "dans {n} jours", 1) == "in 1 day"
    assert en.pn_("rappel", "dans {n} jour", "dans {n} jours", 7) == "in 7 days"
    assert fr.pn_("rappel", "dans {n} jour", "dans {n} jours", 0) == "dans 0 jour"


def test_english_plural_missing_from_the_catalog_uses_the_french_rule(en: Translations) -> None:
    assert en.n_("{n} nouvel atelier", "{n} nouveaux ateliers", 0) == "0 nouvel atelier"
    assert en.n_("{n} nouvel atelier", "{n} nouveaux ateliers", 2) == "2 nouveaux ateliers"


def test_a_missing_value_logs_and_returns_the_unformatted_translation(
    en: Translations, fr: Translations, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.i18n"):
        assert en._("Bonjour {nom}") == "Hello {nom}"
        assert fr._("Bonjour {nom}", prenom="Ana") == "Bonjour {nom}"
    assert len(caplog.records) == 2
    assert "Bonjour {nom}" in caplog.records[0].getMessage()


def test_user_error_is_translated_with_its_values(fr: Translations, en: Translations) -> None:
    err = NotFound(N_("Atelier n° {id} introuvable."), id=42)
    assert en.user_error(err) == "Workshop #42 not found."
    assert fr.user_error(err) == "Atelier n°\u00a042 introuvable."


@pytest.mark.parametrize(
    ("discord_locale", "expected"),
    [
        ("en-US", "en"),
        ("en-GB", "en"),
        ("en", "en"),
        (discord.Locale.american_english, "en"),
        (discord.Locale.british_english, "en"),
        ("fr", "fr"),
        (discord.Locale.french, "fr"),
        (None, "fr"),
        ("de", "fr"),
        ("es-ES", "fr"),
    ],
)
def test_locale_for_maps_any_english_to_en_and_all_else_to_fr(
    i18n: I18n, discord_locale: Any, expected: str
) -> None:
    assert locale_for(discord_locale) == expected
    assert i18n.locale_for(discord_locale) == expected


def test_an_unsupported_locale_gets_french(i18n: I18n) -> None:
    assert i18n.for_locale("de").locale == "fr"


def test_discord_timestamp() -> None:
    assert discord_timestamp(INSTANT) == "<t:1796322600:F>"
    assert discord_timestamp(INSTANT, "R") == "<t:1796322600:R>"
    with pytest.raises(ValueError, match="aware"):
        discord_timestamp(datetime(2026, 12, 3, 13, 30))
    with pytest.raises(ValueError, match="style"):
        discord_timestamp(INSTANT, "X")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("locale", "fmt", "expected"),
    [
        ("fr", "full", "jeudi 3 décembre 2026 à 13\u00a0h\u00a030"),
        ("fr", "long", "3 décembre 2026 à 13\u00a0h\u00a030"),
        ("fr", "medium", "3 déc. 2026 à 13\u00a0h\u00a030"),
        ("en", "full", "Thursday, December 3, 2026 at 1:30 p.m."),
        ("en", "long", "December 3, 2026 at 1:30 p.m."),
        ("en", "medium", "Dec 3, 2026, 1:30 p.m."),
    ],
)
def test_format_datetime_in_the_zone_and_language(
    i18n: I18n, locale: str, fmt: Any, expected: str
) -> None:
    assert i18n.for_locale(locale).format_datetime(INSTANT, "America/Toronto", fmt) == expected


def test_format_datetime_follows_quebec_usage_for_the_first_and_early_hours(
    fr: Translations, en: Translations
) -> None:
    new_year = datetime(2027, 1, 1, 14, 5, tzinfo=UTC)
    nine_o_five = "vendredi 1er janvier 2027 à 9\u00a0h\u00a005"
    assert fr.format_datetime(new_year, "America/Toronto") == nine_o_five
    nine = datetime(2027, 1, 1, 14, 0, tzinfo=UTC)
    assert fr.format_datetime(nine, "America/Toronto") == "vendredi 1er janvier 2027 à 9\u00a0h"
    assert en.format_datetime(nine, "America/Toronto") == "Friday, January 1, 2027 at 9:00 a.m."
    assert en.format_datetime(new_year, "America/Toronto") == "Friday, January 1, 2027 at 9:05 a.m."
    with pytest.raises(ValueError, match="aware"):
        fr.format_datetime(datetime(2027, 1, 1, 9, 5), "America/Toronto")


def test_format_date(fr: Translations, en: Translations) -> None:
    assert fr.format_date(date(2026, 12, 3)) == "jeudi 3 décembre 2026"
    assert fr.format_date(date(2026, 12, 1), "long") == "1er décembre 2026"
    assert en.format_date(date(2026, 12, 3), "medium") == "Dec 3, 2026"
    with pytest.raises(ValueError, match="format"):
        fr.format_date(date(2026, 12, 3), "short")  # type: ignore[arg-type]


def context(location: TranslationContextLocation) -> Any:
    return TranslationContext(location=location, data=None)  # type: ignore[call-overload]


async def test_translator_gives_english_names_to_english_locales_only(i18n: I18n) -> None:
    translator = i18n.translator()
    assert isinstance(translator, PartageTranslator)
    name = context(TranslationContextLocation.command_name)
    group = context(TranslationContextLocation.group_name)
    aide = locale_str("aide")
    assert await translator.translate(aide, discord.Locale.american_english, name) == "help"
    assert await translator.translate(aide, discord.Locale.british_english, name) == "help"
    assert await translator.translate(aide, discord.Locale.british_english, group) == "help"
    assert await translator.translate(aide, discord.Locale.french, name) is None
    assert await translator.translate(aide, discord.Locale.german, name) is None


async def test_translator_uses_the_context_and_returns_none_when_missing(i18n: I18n) -> None:
    translator = i18n.translator()
    us = discord.Locale.american_english
    option = context(TranslationContextLocation.parameter_name)
    assert await translator.translate(locale_str("chantier"), us, option) == "workstream"
    # "chantier" has no command-name entry in the sample catalog, "aide" no option-name one.
    name = context(TranslationContextLocation.command_name)
    assert await translator.translate(locale_str("chantier"), us, name) is None
    assert await translator.translate(locale_str("aide"), us, option) is None
    other = context(TranslationContextLocation.other)
    assert await translator.translate(locale_str("aide"), us, other) is None


async def test_shipped_catalog_localizes_the_help_command() -> None:
    translator = I18n.load().translator()
    name = context(TranslationContextLocation.command_name)
    for locale in (discord.Locale.american_english, discord.Locale.british_english):
        assert await translator.translate(locale_str("aide"), locale, name) == "help"
    assert await translator.translate(locale_str("aide"), discord.Locale.french, name) is None


def test_a_catalog_that_does_not_parse_stops_loading(tmp_path: Path) -> None:
    write_catalog(tmp_path, 'msgid "Bonjour"\nmsgstr "Hello"\nmsgtxt "typo"\n')
    with pytest.raises(CatalogError, match=r"partage\.po"):
        I18n.load(tmp_path)


def test_a_missing_english_catalog_stops_loading(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"partage\.po"):
        I18n.load(tmp_path)


class _Recorder(app_commands.Translator):
    """Records every (context, string) that discord.py asks a translator for."""

    def __init__(self) -> None:
        self.asked: set[tuple[str, str]] = set()

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: Any
    ) -> str | None:
        names = {
            TranslationContextLocation.command_name: "command-name",
            TranslationContextLocation.group_name: "command-name",
            TranslationContextLocation.command_description: "command-description",
            TranslationContextLocation.group_description: "command-description",
            TranslationContextLocation.parameter_name: "option-name",
            TranslationContextLocation.parameter_description: "option-description",
            TranslationContextLocation.choice_name: "choice-name",
        }
        self.asked.add((names[context.location], string.message))
        return None


async def test_command_strings_lists_what_discord_py_asks_the_translator() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)
    guild = discord.Object(id=1234)

    @tree.command(name="aide", description="Ce que fait Partage")
    async def aide(interaction: discord.Interaction) -> None: ...

    atelier = app_commands.Group(name="atelier", description="Gérer les ateliers")

    @atelier.command(name="creer", description="Créer un atelier")
    @app_commands.rename(capacite_max="capacite")
    @app_commands.describe(capacite_max="Le nombre de places", genre="Le genre")
    @app_commands.choices(
        genre=[
            app_commands.Choice(name="atelier", value="atelier"),
            app_commands.Choice(name="formation", value="formation"),
        ]
    )
    async def creer(
        interaction: discord.Interaction, capacite_max: int, genre: str = "atelier"
    ) -> None: ...

    tree.add_command(atelier)

    @tree.command(name="statistiques", description="Les chiffres", guild=guild)
    async def statistiques(interaction: discord.Interaction) -> None: ...

    @tree.context_menu(name="Profil du membre")
    async def profil(interaction: discord.Interaction, member: discord.Member) -> None: ...

    recorder = _Recorder()
    for command in [*tree.get_commands(), *tree.get_commands(guild=guild)]:
        await command.get_translated_payload(tree, recorder)

    found = command_strings(tree, guilds=[guild])
    assert found == recorder.asked
    assert ("option-name", "capacite") in found
    assert ("choice-name", "formation") in found
    assert ("command-name", "statistiques") in found
    assert ("command-name", "Profil du membre") in found
    assert ("command-name", "statistiques") not in command_strings(tree)


@pytest.mark.parametrize(
    ("discord_locale", "long_date", "full_datetime"),
    [
        ("en-GB", "2 December 2026", "Wednesday 2 December 2026 at 13:30"),
        (discord.Locale.british_english, "2 December 2026", "Wednesday 2 December 2026 at 13:30"),
        ("en-US", "December 2, 2026", "Wednesday, December 2, 2026 at 1:30 p.m."),
        (discord.Locale.american_english, "December 2, 2026", None),
        ("fr", "2 décembre 2026", "mercredi 2 décembre 2026 à 13\u00a0h\u00a030"),
        (None, "2 décembre 2026", None),
        ("de", "2 décembre 2026", None),
    ],
)
def test_a_reader_gets_the_date_order_of_their_discord_locale(
    i18n: I18n, discord_locale: Any, long_date: str, full_datetime: str | None
) -> None:
    tr = i18n.for_reader(discord_locale)
    assert tr.format_date(date(2026, 12, 2), "long") == long_date
    if full_datetime is not None:
        instant = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)
        assert tr.format_datetime(instant, "America/Toronto") == full_datetime


def test_british_readers_share_the_one_english_catalog(i18n: I18n, en: Translations) -> None:
    british = i18n.for_reader("en-GB")
    assert british.locale == "en" and british.dates == "en-GB"
    assert british._("Bonjour {nom}", nom="Ana") == "Hello Ana"
    assert british.format_date(date(2026, 12, 1), "medium") == "1 Dec 2026"
    assert british.format_number(10000) == en.format_number(10000) == "10,000"
    assert en.dates == "en" and en.format_date(date(2026, 12, 1), "medium") == "Dec 1, 2026"


@pytest.mark.parametrize(
    ("discord_locale", "stored"),
    [
        ("fr", "fr"),
        ("en-US", "en"),
        ("en-GB", "en-GB"),
        ("en_GB", "en-GB"),
        ("de", "fr"),
        (None, "fr"),
    ],
)
def test_the_stored_reader_locale_keeps_the_british_date_order(
    discord_locale: str | None, stored: str
) -> None:
    assert reader_locale(discord_locale) == stored
    tr = I18n.load().for_locale(stored)
    written = tr.format_date(date(2026, 12, 3), "long")
    assert (
        written
        == {"fr": "3 décembre 2026", "en": "December 3, 2026", "en-GB": "3 December 2026"}[stored]
    )


@pytest.mark.parametrize(
    ("locale", "at", "written"),
    [
        ("fr", datetime(2026, 12, 3, 20, 0, tzinfo=UTC), "15\u00a0h"),
        ("fr", datetime(2026, 12, 3, 20, 30, tzinfo=UTC), "15\u00a0h\u00a030"),
        ("en-GB", datetime(2026, 12, 3, 20, 30, tzinfo=UTC), "15:30"),
    ],
)
def test_a_time_of_day_alone_is_written_as_in_a_full_date(
    locale: str, at: datetime, written: str
) -> None:
    tr = I18n.load().for_locale(locale)
    assert tr.format_time(at, "America/Toronto") == written
    assert tr.format_datetime(at, "America/Toronto", "long").endswith(written)
