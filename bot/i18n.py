r"""Translations: French source texts, English catalog (STYLE.md rule 10).

French is the source language: every msgid *is* the French text, and the English translations
live in ``bot/locales/en/LC_MESSAGES/partage.po``. No ``.mo`` file is built or committed:
:meth:`I18n.load` reads each ``.po`` with Babel and compiles it in memory, so a catalog that does
not parse or compile stops start-up.

Code translates through a per-locale object, then formats with named placeholders::

    tr = i18n.for_reader(interaction.locale)  # English dates day first for en-GB
    tr._("Bonjour {nom}", nom=membre.nom)
    tr.n_("{n} place restante", "{n} places restantes", n, n=n)
    tr.p_("bouton", "Oui")
    tr.pn_("rappel", "dans {n} jour", "dans {n} jours", n, n=n)

Services never translate: they mark ids with ``N_`` (``bot.errors``) and raise ``UserError``; the
edge calls :meth:`Translations.user_error`. Slash-command vocabulary is declared in French
(``bot.command_text``) and localized for ``en-US``/``en-GB`` by :class:`PartageTranslator`,
which looks each string up in the English catalog under a message context: ``command-name``,
``command-description``, ``option-name``, ``option-description``, ``choice-name``.

Extraction keywords (``babel.cfg``): ``_`` and ``N_`` (msgid), ``n_:1,2`` (singular, plural),
``p_:1c,2`` (context, msgid), ``pn_:1c,2,3``. Babel matches the last name before ``(``, so
``tr._(...)`` is extracted as ``_``. Only string literals are extracted: never pass a variable
or an f-string. After changing texts, from the repository root::

    pybabel extract -F babel.cfg -o bot/locales/partage.pot --project=Partage --version=0.1.0 .
    pybabel update -i bot/locales/partage.pot -d bot/locales -D partage -l en \
        --no-fuzzy-matching --ignore-obsolete

then translate every new (empty) msgstr of the English ``.po``. ``tests/test_catalogs.py`` fails
until every French text has its English (an empty or ``#, fuzzy`` msgstr counts as missing).
"""

from __future__ import annotations

import functools
import gettext
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import babel
import babel.dates
import babel.numbers
import babel.units
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from discord import AppCommandType, Locale, app_commands
from discord.abc import Snowflake
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.errors import Quantity, UserError

log = logging.getLogger(__name__)

DOMAIN = "partage"
SOURCE_LOCALE = "fr"
SUPPORTED: tuple[str, ...] = ("fr", "en")

# Babel locales used for dates and plural rules.
_BABEL_LOCALES: Mapping[str, str] = {"fr": "fr_CA", "en": "en_CA"}

# English as British readers write dates, day first: « 2 December 2026 » (Discord's en-GB);
# every other English reader gets "December 2, 2026". One English catalog serves both.
BRITISH = "en-GB"

# Message contexts of the slash-command vocabulary, by where discord.py asks for a string.
CONTEXT_COMMAND_NAME = "command-name"
CONTEXT_COMMAND_DESCRIPTION = "command-description"
CONTEXT_OPTION_NAME = "option-name"
CONTEXT_OPTION_DESCRIPTION = "option-description"
CONTEXT_CHOICE_NAME = "choice-name"
_COMMAND_CONTEXTS: Mapping[TranslationContextLocation, str] = {
    TranslationContextLocation.command_name: CONTEXT_COMMAND_NAME,
    TranslationContextLocation.group_name: CONTEXT_COMMAND_NAME,
    TranslationContextLocation.command_description: CONTEXT_COMMAND_DESCRIPTION,
    TranslationContextLocation.group_description: CONTEXT_COMMAND_DESCRIPTION,
    TranslationContextLocation.parameter_name: CONTEXT_OPTION_NAME,
    TranslationContextLocation.parameter_description: CONTEXT_OPTION_DESCRIPTION,
    TranslationContextLocation.choice_name: CONTEXT_CHOICE_NAME,
}

DateFormat = Literal["full", "long", "medium"]
TimestampStyle = Literal["t", "T", "d", "D", "f", "F", "R"]

# Date and time together, as they read naturally in each language (Babel's own "full" adds
# seconds and the zone name). French follows Québec usage: "13 h 30", "9 h 05", "9 h" (no
# "9 h 00"), "1er", with non-breaking spaces inside the time.
_DATETIME_PATTERNS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "full": "EEEE d{er} MMMM y 'à' H\u00a0'h'{mm}",
        "long": "d{er} MMMM y 'à' H\u00a0'h'{mm}",
        "medium": "d{er} MMM y 'à' H\u00a0'h'{mm}",
    },
    "en": {
        "full": "EEEE, MMMM d, y 'at' h:mm a",
        "long": "MMMM d, y 'at' h:mm a",
        "medium": "MMM d, y, h:mm a",
    },
    BRITISH: {
        "full": "EEEE d MMMM y 'at' HH:mm",
        "long": "d MMMM y 'at' HH:mm",
        "medium": "d MMM y, HH:mm",
    },
}
_TIME_PATTERNS: Mapping[str, str] = {"fr": "H\u00a0'h'{mm}", "en": "h:mm a", BRITISH: "HH:mm"}
_DATE_PATTERNS: Mapping[str, Mapping[str, str]] = {
    "fr": {"full": "EEEE d{er} MMMM y", "long": "d{er} MMMM y", "medium": "d{er} MMM y"},
    "en": {"full": "EEEE, MMMM d, y", "long": "MMMM d, y", "medium": "MMM d, y"},
    BRITISH: {"full": "EEEE d MMMM y", "long": "d MMMM y", "medium": "d MMM y"},
}


class CatalogError(Exception):
    """A message catalog is missing or cannot be read or compiled."""


def default_locales_dir() -> Path:
    """The catalogs shipped with the bot: ``bot/locales``."""
    return Path(__file__).resolve().parent / "locales"


def catalog_path(locales_dir: Path, locale: str) -> Path:
    """Where the ``.po`` file of ``locale`` lives."""
    return locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def locale_for(discord_locale: str | Locale | None) -> str:
    """The bot locale of a Discord locale: any English one is ``"en"``, all else ``"fr"``."""
    if discord_locale is None:
        return SOURCE_LOCALE
    value = (discord_locale.value if isinstance(discord_locale, Locale) else discord_locale).lower()
    if value == "en" or value.startswith(("en-", "en_")):
        return "en"
    return SOURCE_LOCALE


def reader_locale(discord_locale: str | Locale | None) -> str:
    """What Partage stores of a reader's Discord locale, for messages sent later (reminders,
    notices, clicks answered from a queue): ``"fr"``, ``"en"``, or ``"en-GB"`` (English texts,
    dates day first). :meth:`I18n.for_locale` takes each of them."""
    if discord_locale is not None:
        value = discord_locale.value if isinstance(discord_locale, Locale) else discord_locale
        if value.replace("_", "-").lower() == BRITISH.lower():
            return BRITISH
    return locale_for(discord_locale)


def discord_timestamp(dt: datetime, style: TimestampStyle = "F") -> str:
    """A Discord timestamp such as ``<t:1796322600:F>``, shown in each reader's own zone."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"discord_timestamp needs an aware datetime, got {dt!r}")
    if style not in ("t", "T", "d", "D", "f", "F", "R"):
        raise ValueError(f"unknown Discord timestamp style {style!r}")
    return f"<t:{int(dt.timestamp())}:{style}>"


NBSP = "\u00a0"  # espace insécable: before « : », inside « », in « n° 3 », « 13 h 30 »
NNBSP = "\u202f"  # espace fine insécable: before « ; », « ! », « ? »
_BEFORE_COLON = re.compile(r" (?=:)")
_BEFORE_TALL = re.compile(r" (?=[;!?])")
_AFTER_OPENING = re.compile(r"« ")
_BEFORE_CLOSING = re.compile(r" »")
_AFTER_NUMERO = re.compile(r"\bn° ")


@functools.lru_cache(maxsize=4096)
def typographie(template: str) -> str:
    """A French template with the non-breaking spaces French typography wants, so that Discord
    never breaks a line before « : » or inside « … »: ``espace insécable`` before the colon,
    inside guillemets and after « n° »; ``espace fine insécable`` before ; ! ? (Québec usage
    accepts it there). Applied to our templates only, never to what members typed."""
    text = _BEFORE_COLON.sub(NBSP, template)
    text = _BEFORE_TALL.sub(NNBSP, text)
    text = _AFTER_OPENING.sub("«" + NBSP, text)
    text = _BEFORE_CLOSING.sub(NBSP + "»", text)
    return _AFTER_NUMERO.sub("n°" + NBSP, text)


_VOWELS = frozenset("aeiouyhàâäéèêëîïôöùûüÿæœAEIOUYHÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ")


def elides(word: str) -> bool:
    """Whether French writes « d' », « l' » before ``word`` (« Profil d'Amélie », « d'Hélène »):
    it starts with a vowel or an h (taken as mute, as in most first names)."""
    stripped = word.lstrip()
    return bool(stripped) and stripped[0] in _VOWELS


def _format(text: str, values: Mapping[str, Any], locale: str, msgid: str) -> str:
    """``text.format(**values)``; on a missing or bad value, log it and return ``text`` as is.
    A French text first gets its non-breaking spaces (``typographie``)."""
    if locale == SOURCE_LOCALE:
        text = typographie(text)
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        log.warning(
            "i18n: cannot format message %r (locale %s, text %r) with values %s: %r",
            msgid,
            locale,
            text,
            sorted(values),
            exc,
        )
        return text


class Translations:
    """The texts of one locale: translate, then format with named placeholders."""

    def __init__(
        self,
        locale: str,
        catalog: gettext.NullTranslations,
        known: frozenset[tuple[str | None, str]] = frozenset(),
        *,
        dates: str | None = None,
    ) -> None:
        self.locale = locale
        self._catalog = catalog
        # (context, msgid) pairs that have a translation in this locale's catalog.
        self._known = known
        self._source_locale = babel.Locale.parse(SOURCE_LOCALE)
        self._babel_locale = _BABEL_LOCALES[locale]
        #: How dates are written: the locale's way, or a variant of it (``BRITISH``).
        self.dates = dates or locale
        self._dates_babel_locale = "en_GB" if self.dates == BRITISH else self._babel_locale

    def with_dates(self, dates: str) -> Translations:
        """The same texts, with dates written as ``dates`` writes them (``BRITISH``)."""
        if dates not in _DATE_PATTERNS:
            raise ValueError(f"unknown date style {dates!r}")
        return Translations(self.locale, self._catalog, self._known, dates=dates)

    def __repr__(self) -> str:
        return f"<Translations {self.locale} ({self.message_count} messages)>"

    @property
    def message_count(self) -> int:
        """How many messages the catalog translates (0 for the source language)."""
        return len(self._known)

    def has(self, message: str, context: str | None = None) -> bool:
        """Whether the catalog translates ``message`` (in ``context``)."""
        return (context, message) in self._known

    def lookup(self, context: str | None, message: str) -> str | None:
        """The raw translation of ``message`` in ``context``, or None if the catalog lacks it."""
        if not self.has(message, context):
            return None
        if context is None:
            return self._catalog.gettext(message)
        return self._catalog.pgettext(context, message)

    def _(self, message: str, /, **values: Any) -> str:
        """Translate ``message`` (its French text) and format it with ``values``."""
        return _format(self._catalog.gettext(message), values, self.locale, message)

    def p_(self, context: str, message: str, /, **values: Any) -> str:
        """Translate ``message`` in ``context`` and format it with ``values``."""
        return _format(self._catalog.pgettext(context, message), values, self.locale, message)

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """Pick the form for ``n``, translate it, format it; ``n`` is also a named value."""
        return self._plural(None, singular, plural, n, values)

    def pn_(self, context: str, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """Like :meth:`n_`, in a message context."""
        return self._plural(context, singular, plural, n, values)

    def _plural(
        self,
        context: str | None,
        singular: str,
        plural: str,
        n: int,
        values: Mapping[str, Any],
    ) -> str:
        if self.has(singular, context):
            if context is None:
                text = self._catalog.ngettext(singular, plural, n)
            else:
                text = self._catalog.npgettext(context, singular, plural, n)
        else:
            # The source language (or a missing translation): French forms, French rule
            # (0 and 1 singular), straight from CLDR through Babel.
            text = singular if self._source_locale.plural_form(abs(n)) == "one" else plural
        return _format(text, {"n": n, **values}, self.locale, singular)

    def user_error(self, err: UserError) -> str:
        """The translated, formatted text of a :class:`~bot.errors.UserError`."""
        message = err.message_id
        values = {k: self._as_written(v) for k, v in err.values.items()}
        return _format(self._catalog.gettext(message), values, self.locale, message)

    def _as_written(self, value: Any) -> Any:
        """A value of a message as the reader's language writes it: a date, a quantity."""
        if type(value) is date:
            return self.format_date(value, "long")
        if isinstance(value, Quantity):
            return self.format_number(value)
        return value

    def format_datetime(self, dt: datetime, zone: str, fmt: DateFormat = "full") -> str:
        """A date and time that stands alone, e.g. « jeudi 3 décembre 2026 à 13 h 30 »."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"format_datetime needs an aware datetime, got {dt!r}")
        local = dt.astimezone(ZoneInfo(zone))
        pattern = self._pattern(_DATETIME_PATTERNS, fmt, local.day)
        pattern = pattern.replace("{mm}", "\u00a0mm" if local.minute else "")
        return babel.dates.format_datetime(
            local, pattern, tzinfo=local.tzinfo, locale=self._dates_babel_locale
        )

    def format_time(self, dt: datetime, zone: str) -> str:
        """The time of day alone, as in :meth:`format_datetime`: « 15 h », « 15 h 30 »,
        "3:30 PM", "15:30"."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"format_time needs an aware datetime, got {dt!r}")
        local = dt.astimezone(ZoneInfo(zone))
        pattern = _TIME_PATTERNS[self.dates].replace("{mm}", "\u00a0mm" if local.minute else "")
        return babel.dates.format_datetime(
            local, pattern, tzinfo=local.tzinfo, locale=self._dates_babel_locale
        )

    def format_number(self, n: int) -> str:
        """A quantity with the reader's digit grouping: « 10 000 » (French, non-breaking
        space), "10,000" (English)."""
        return babel.numbers.format_decimal(n, locale=self._babel_locale)

    def format_percent(self, ratio: float) -> str:
        """A rate as the reader writes it: « 83 % » (French, non-breaking space), "83%"."""
        return babel.numbers.format_percent(ratio, locale=self._babel_locale)

    def format_size(self, size: int) -> str:
        """A file size as the reader writes it: « 1,2 Mo », "34 kB"."""
        if size >= 1_000_000:
            value, unit = round(size / 1e6, 1), "digital-megabyte"
        else:
            value, unit = max(1, round(size / 1e3)), "digital-kilobyte"
        return babel.units.format_unit(value, unit, length="short", locale=self._babel_locale)

    def format_date(self, d: date, fmt: DateFormat = "full") -> str:
        """A date that stands alone: « jeudi 3 décembre 2026 », "Thursday, December 3, 2026",
        "Thursday 3 December 2026" (``BRITISH``)."""
        pattern = self._pattern(_DATE_PATTERNS, fmt, d.day)
        return babel.dates.format_date(d, pattern, locale=self._dates_babel_locale)

    def _pattern(self, patterns: Mapping[str, Mapping[str, str]], fmt: str, day: int) -> str:
        try:
            pattern = patterns[self.dates][fmt]
        except KeyError:
            raise ValueError(f"unknown date format {fmt!r}") from None
        # Québec French writes the first of the month "1er".
        return pattern.replace("{er}", "'er'" if day == 1 else "")


@functools.cache
def source_translations() -> Translations:
    """The texts of the source language (French), which need no catalog: for ``str()`` of
    errors and for logs."""
    return Translations(SOURCE_LOCALE, gettext.NullTranslations())


#: Catalogs already read in this process, by file and version: a process that builds several
#: bots (the tests) reads each ``.po`` once. A changed file is read again.
_CATALOGS: dict[tuple[Path, str, int, int], Translations] = {}


def _read_catalog(path: Path, locale: str) -> Translations:
    """Read a ``.po``, compile it in memory and wrap it; any problem raises CatalogError."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise CatalogError(f"cannot load message catalog {path}: {exc}") from exc
    key = (path.resolve(), locale, stat.st_mtime_ns, stat.st_size)
    if key not in _CATALOGS:
        _CATALOGS[key] = _compile_catalog(path, locale)
    return _CATALOGS[key]


def _compile_catalog(path: Path, locale: str) -> Translations:
    try:
        with path.open("rb") as f:
            catalog = read_po(f, locale=_BABEL_LOCALES[locale], domain=DOMAIN, abort_invalid=True)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        compiled = gettext.GNUTranslations(buffer)
    except Exception as exc:  # a bad catalog must stop start-up, whatever the cause
        raise CatalogError(f"cannot load message catalog {path}: {exc}") from exc
    known = frozenset(
        (message.context, message.id[0] if message.pluralizable else message.id)
        for message in catalog
        if message.id
        and not message.fuzzy
        and (all(message.string) if message.pluralizable else message.string)
    )
    return Translations(locale, compiled, known)


class I18n:
    """All the catalogs, loaded once at start-up and passed to whoever renders text."""

    def __init__(self, translations: Mapping[str, Translations]) -> None:
        self._translations = dict(translations)
        self._british = self._translations["en"].with_dates(BRITISH)

    @classmethod
    def load(cls, locales_dir: Path | None = None) -> I18n:
        """Read and compile the ``.po`` of every supported locale but the source one."""
        locales_dir = locales_dir or default_locales_dir()
        translations: dict[str, Translations] = {}
        for locale in SUPPORTED:
            path = catalog_path(locales_dir, locale)
            if locale == SOURCE_LOCALE and not path.exists():
                translations[locale] = Translations(locale, gettext.NullTranslations())
                continue
            translations[locale] = _read_catalog(path, locale)
            log.debug(
                "i18n: loaded %s catalog %s (%d messages)",
                locale,
                path,
                translations[locale].message_count,
            )
        return cls(translations)

    @staticmethod
    def locale_for(discord_locale: str | Locale | None) -> str:
        """See :func:`locale_for`."""
        return locale_for(discord_locale)

    def for_locale(self, locale: str) -> Translations:
        """The texts of ``"fr"``, ``"en"`` or ``"en-GB"`` (:func:`reader_locale`); an unknown
        locale gets French."""
        if locale == BRITISH:
            return self._british
        try:
            return self._translations[locale]
        except KeyError:
            log.warning("i18n: unsupported locale %r, using %s", locale, SOURCE_LOCALE)
            return self._translations[SOURCE_LOCALE]

    def for_reader(self, discord_locale: str | Locale | None) -> Translations:
        """The texts of a Discord user's locale (an interaction's): English for any English
        one, dates day first for en-GB (« 2 December 2026 »); French for every other."""
        return self.for_locale(reader_locale(discord_locale))

    def translator(self) -> PartageTranslator:
        """The translator to set on the command tree."""
        return PartageTranslator(self.for_locale("en"))


class PartageTranslator(app_commands.Translator):
    """Localizes slash commands for Discord's English locales from the English catalog.

    Commands are declared in French; each name, description, option and choice is looked up in
    the English catalog under its context (``command-name``…). Other Discord locales, and any
    string the catalog lacks, get None: Discord then shows the French default.
    """

    def __init__(self, english: Translations) -> None:
        self._english = english

    #: Discord's English locales (asked for each string in every one of Discord's ~30
    #: locales at each sync: a set lookup, not :func:`locale_for`, for the others).
    _ENGLISH = frozenset(locale for locale in Locale if locale_for(locale) == "en")

    async def translate(
        self, string: locale_str, locale: Locale, context: TranslationContextTypes
    ) -> str | None:
        if locale not in self._ENGLISH:
            return None
        message_context = _COMMAND_CONTEXTS.get(context.location)
        if message_context is None:
            return None
        return self._english.lookup(message_context, string.message)


def command_strings(
    tree: app_commands.CommandTree[Any], *, guilds: Iterable[Snowflake] = ()
) -> set[tuple[str, str]]:
    """Every (context, French string) :class:`PartageTranslator` will be asked for by ``tree``.

    Walks the global commands and those of ``guilds``: command, group and context-menu names,
    descriptions, option names and descriptions, choice names. A structural test asserts that
    the English catalog has each of them.
    """
    found: set[tuple[str, str]] = set()
    for guild in (None, *guilds):
        for menu in tree.walk_commands(guild=guild, type=AppCommandType.user):
            found.add((CONTEXT_COMMAND_NAME, menu.name))
        for menu in tree.walk_commands(guild=guild, type=AppCommandType.message):
            found.add((CONTEXT_COMMAND_NAME, menu.name))
        for command in tree.walk_commands(guild=guild):
            found.add((CONTEXT_COMMAND_NAME, command.name))
            found.add((CONTEXT_COMMAND_DESCRIPTION, command.description))
            if isinstance(command, app_commands.Group):
                continue
            for parameter in command.parameters:
                found.add((CONTEXT_OPTION_NAME, parameter.display_name))
                found.add((CONTEXT_OPTION_DESCRIPTION, parameter.description))
                for choice in parameter.choices:
                    found.add((CONTEXT_CHOICE_NAME, choice.name))
    return found
