"""Value types of the settings and their parsers (each names the expected form)."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    SecretStr,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import N_, UserError

if TYPE_CHECKING:
    from bot.i18n import Translations

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("config.toml")
ENV_PREFIX = "PARTAGE_"
ENV_DELIMITER = "__"
TOKEN_ENV = "DISCORD_TOKEN"
#: What to do when no bot token is set (a catalog message: French, English in the .po).
TOKEN_HELP = N_(
    "aucun jeton de bot n'est défini : créez une application sur "
    "https://discord.com/developers/applications, ouvrez sa page Bot, cliquez sur Reset Token "
    "et mettez le jeton dans la variable d'environnement DISCORD_TOKEN (ou discord.token dans "
    "config.toml)"
)


class ConfigValueError(UserError, ValueError):
    """A value refused by a parser or validator: a catalog message id (French, marked ``N_``) and
    its named values, translated when the problem is shown. A ``ValueError``, so that pydantic
    reports it as ``value_error`` and keeps it in ``error["ctx"]["error"]``; ``key`` names the
    key when a model-level check is about another key than the one pydantic reports."""

    def __init__(self, message_id: str, /, *, key: str | None = None, **values: Any) -> None:
        super().__init__(message_id, **values)
        self.key = key


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the configuration, kept apart from its wording.

    ``key`` is the dotted key (``time.timezone``), None for the file itself; ``message_id`` a
    catalog message (None: ``values["texte"]`` is shown as is, a text from elsewhere);
    ``shown`` the offending value as TOML writes it, None when it must not be shown (a secret)
    or says nothing; ``variable`` the environment variable it came from, else ``path`` the
    file. Every text in it is already masked (no token, no password).
    """

    key: str | None
    message_id: str | None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    shown: object = None
    variable: str | None = None
    path: str | None = None


LINE = N_("configuration : {cle} : {probleme}")
LINE_WITHOUT_KEY = N_("configuration : {probleme}")
RECEIVED = N_("{ligne} (valeur reçue : {valeur})")
FROM_VARIABLE = N_("{ligne} (variable {variable})")
FROM_VARIABLES = N_("{ligne} (variables {variables})")
FROM_FILE = N_("{ligne} (fichier {fichier})")


class ConfigError(Exception):
    """The configuration cannot be used. Each problem names its key and the expected form.

    ``render(tr)`` says it in the reader's language, one line per problem; ``str()`` is the
    French text, for logs. A plain string is kept as one problem shown as is."""

    def __init__(self, problems: str | Problem | Iterable[str | Problem]) -> None:
        items = (problems,) if isinstance(problems, str | Problem) else tuple(problems)
        self.problems: tuple[Problem, ...] = tuple(
            p if isinstance(p, Problem) else Problem(None, None, {"texte": p}) for p in items
        )
        super().__init__(*self.problems)

    def render(self, tr: Translations) -> str:
        """Every problem, one line each, in ``tr``'s language."""
        return "\n".join(render_problem(tr, p) for p in self.problems)

    def __str__(self) -> str:
        from bot.i18n import source_translations

        return self.render(source_translations())


def render_problem(tr: Translations, problem: Problem) -> str:
    """One problem as a line: key, what is expected, the value received, where it came from."""
    if problem.message_id is None:  # a text from elsewhere, shown as it was written
        text = str(problem.values.get("texte", ""))
        if problem.key is None:
            return text
    else:
        text = tr.user_error(UserError(problem.message_id, **problem.values))
    if problem.key is None:
        line = tr._(LINE_WITHOUT_KEY, probleme=text)
    else:
        line = tr._(LINE, cle=problem.key, probleme=text)
    if problem.shown is not None:
        line = tr._(RECEIVED, ligne=line, valeur=_quoted(tr, problem.shown))
    if problem.variable is not None:
        if ", " in problem.variable:
            line = tr._(FROM_VARIABLES, ligne=line, variables=problem.variable)
        else:
            line = tr._(FROM_VARIABLE, ligne=line, variable=problem.variable)
    elif problem.path is not None:
        line = tr._(FROM_FILE, ligne=line, fichier=problem.path)
    return line


def _quoted(tr: Translations, value: object) -> str:
    """A value as TOML writes it; text in the reader's quotation marks (« x », "x")."""
    if isinstance(value, str):
        if tr.locale == "fr":
            return f"«\u00a0{value}\u00a0»"
        return json.dumps(str(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Value types and their parsers. Parsers raise ConfigValueError with the expected form; the
# offending value is added by the error formatter (masked where it may be secret).
# --------------------------------------------------------------------------------------------


def _reject_bool(value: object) -> None:
    if isinstance(value, bool):
        raise ConfigValueError(N_("un nombre est attendu, pas true ni false"))


def _to_int(value: object, expected: ConfigValueError) -> int:
    _reject_bool(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise expected


def _int_between(low: int, high: int) -> Any:
    """An int type bounded by ``low`` and ``high`` (inclusive), with a readable error."""

    def parse(value: object) -> int:
        expected = ConfigValueError(
            N_("un nombre entier de {minimum} à {maximum} est attendu"), minimum=low, maximum=high
        )
        number = _to_int(value, expected)
        if not low <= number <= high:
            raise expected
        return number

    return Annotated[int, PlainValidator(parse, json_schema_input_type=int)]


_SNOWFLAKE_EXPECTED = N_(
    "un identifiant Discord est attendu : un nombre entier positif comme 123456789012345678"
)


def _parse_snowflake(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _to_int(value, ConfigValueError(_SNOWFLAKE_EXPECTED))
    if not 0 < number < 2**63:
        raise ConfigValueError(_SNOWFLAKE_EXPECTED)
    return number


OptionalSnowflake = Annotated[int | None, PlainValidator(_parse_snowflake)]
RetryAttempts = _int_between(1, 100)
RetentionMonths = _int_between(1, 120)
GraceDays = _int_between(0, 365)
CadenceDays = _int_between(1, 90)
ShardCount = _int_between(1, 65535)
Port = _int_between(0, 65535)
# Between the ateliers (questions.*)
BumpHours = _int_between(1, 720)
WeeklyCap = _int_between(1, 50)

_SHARD_ID_EXPECTED = N_(
    "un numéro de fragment (shard) à partir de 0 est attendu, ou rien pour tous les fragments"
)


def _parse_shard_id(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _to_int(value, ConfigValueError(_SHARD_ID_EXPECTED))
    if number < 0:
        raise ConfigValueError(_SHARD_ID_EXPECTED)
    return number


OptionalShardId = Annotated[int | None, PlainValidator(_parse_shard_id)]

MIN_LEASE_SECONDS, MAX_LEASE_SECONDS = 1.0, 3600.0
_LEASE_EXPECTED = N_("un nombre de secondes de {minimum} à {maximum} est attendu, comme 15 ou 2.5")


def _lease_expected() -> ConfigValueError:
    return ConfigValueError(
        _LEASE_EXPECTED, minimum=f"{MIN_LEASE_SECONDS:g}", maximum=f"{MAX_LEASE_SECONDS:g}"
    )


def _parse_lease_seconds(value: object) -> float:
    _reject_bool(value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _lease_expected() from None
    if not isinstance(value, int | float) or not (MIN_LEASE_SECONDS <= value <= MAX_LEASE_SECONDS):
        raise _lease_expected()
    return float(value)


LeaseSeconds = Annotated[float, PlainValidator(_parse_lease_seconds, json_schema_input_type=float)]

_FLAG_EXPECTED = N_("true ou false est attendu")
_FLAG_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _parse_flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _FLAG_WORDS[value.strip().lower()]
    raise ConfigValueError(_FLAG_EXPECTED)


Flag = Annotated[bool, PlainValidator(_parse_flag, json_schema_input_type=bool)]

_DURATION_RE = re.compile(r"\s*(\d+)\s*([smhdj])\s*", re.IGNORECASE)
_DURATION_UNITS = {
    "d": timedelta(days=1),
    "j": timedelta(days=1),  # « jours »
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}


def match_duration(text: str) -> tuple[int, timedelta] | None:
    """``"7d"`` (or ``"7j"``), ``"1h"``, ``"30m"``, ``"45s"``: the amount and the unit; None
    when ``text`` is not a duration (each caller says what bounds it wants)."""
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        return None
    return int(match.group(1)), _DURATION_UNITS[match.group(2).lower()]


MAX_OFFSET = timedelta(days=365)
_DURATION_EXPECTED = N_("une durée est attendue, comme « 7d », « 1h » ou « 30m »")
_DURATION_POSITIVE = N_(
    "une durée plus grande que zéro est attendue, comme « 7d », « 1h » ou « 30m »"
)
_DURATION_AT_MOST = N_(
    "une durée d'au plus 365 jours est attendue, comme « 7d », « 1h » ou « 30m »"
)
_DURATION_BETWEEN = N_("une durée de 1s à 365d est attendue, comme « 7d », « 1h » ou « 30m »")


def parse_duration(text: str) -> timedelta:
    """Parse ``"7d"``, ``"1h"``, ``"30m"``, ``"45s"`` into a positive ``timedelta``."""
    found = match_duration(text)
    if found is None:
        raise ConfigValueError(_DURATION_EXPECTED)
    amount, unit = found
    if amount == 0:
        raise ConfigValueError(_DURATION_POSITIVE)
    if amount > MAX_OFFSET // unit:
        raise ConfigValueError(_DURATION_AT_MOST)
    return amount * unit


def format_duration(delta: timedelta) -> str:
    """The shortest text ``parse_duration`` reads back as ``delta``: 1 day → ``"1d"``."""
    seconds = int(delta.total_seconds())
    for unit in ("d", "h", "m"):
        size = int(_DURATION_UNITS[unit].total_seconds())
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _parse_offset(value: object) -> timedelta:
    if isinstance(value, timedelta):
        if not timedelta(0) < value <= MAX_OFFSET:
            raise ConfigValueError(_DURATION_BETWEEN)
        return value
    if not isinstance(value, str):
        raise ConfigValueError(_DURATION_EXPECTED)
    return parse_duration(value)


def _split_offsets(value: object) -> object:
    """Environment values arrive as text: a JSON list or ``7d,1d,1h``."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise ConfigValueError(N_('une liste est attendue, comme ["7d", "1d", "1h"]')) from None
    return [part for part in (p.strip() for p in text.split(",")) if part]


Offset = Annotated[
    timedelta,
    PlainValidator(_parse_offset, json_schema_input_type=str),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]

WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mon", "monday", "lun", "lundi"),
        ("tue", "tuesday", "mar", "mardi"),
        ("wed", "wednesday", "mer", "mercredi"),
        ("thu", "thursday", "jeu", "jeudi"),
        ("fri", "friday", "ven", "vendredi"),
        ("sat", "saturday", "sam", "samedi"),
        ("sun", "sunday", "dim", "dimanche"),
    )
):
    for _name in _names:
        WEEKDAYS[_name] = _index
WEEKDAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclasses.dataclass(frozen=True, slots=True)
class WeeklyTime:
    """A weekday (0 = Monday, as ``date.weekday()``) and a wall-clock time in ``time.timezone``."""

    weekday: int
    at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be from 0 (Monday) to 6 (Sunday)")
        if self.at.tzinfo is not None:
            raise ValueError("the time is a wall-clock time, without a time zone")

    @property
    def day_name(self) -> str:
        """``"mon"`` … ``"sun"`` (also what APScheduler's ``day_of_week`` accepts)."""
        return WEEKDAY_ABBREVIATIONS[self.weekday]

    def __str__(self) -> str:
        return f"{self.day_name} {self.at:%H:%M}"


_DIGEST_RE = re.compile(r"\s*([^\W\d_]+)\.?\s+(\d{1,2})\s*[:h]\s*(\d{2})\s*", re.IGNORECASE)
_DIGEST_EXPECTED = N_(
    "un jour de la semaine et une heure sont attendus, comme « lun 08:30 » (ou « mon 08:30 » ; "
    '"" désactive le résumé)'
)


def parse_weekly_time(text: str) -> WeeklyTime:
    """Parse ``"mon 08:30"`` (or ``"lun 8h30"``) into a ``WeeklyTime``."""
    match = _DIGEST_RE.fullmatch(text)
    if match is None or match.group(1).lower() not in WEEKDAYS:
        raise ConfigValueError(_DIGEST_EXPECTED)
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ConfigValueError(_DIGEST_EXPECTED)
    return WeeklyTime(WEEKDAYS[match.group(1).lower()], time(hour, minute))


def _parse_digest(value: object) -> WeeklyTime | None:
    if value is None or value is False:
        return None
    if isinstance(value, WeeklyTime):
        return value
    if not isinstance(value, str):
        raise ConfigValueError(_DIGEST_EXPECTED)
    if not value.strip():
        return None
    return parse_weekly_time(value)


Digest = Annotated[
    WeeklyTime | None,
    PlainValidator(_parse_digest, json_schema_input_type=str),
    PlainSerializer(lambda v: "" if v is None else str(v), return_type=str, when_used="json"),
]


def _parse_token(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise ConfigValueError(N_("le jeton du bot est attendu sous forme de texte"))
    value = value.strip()
    if not value:
        return None
    if any(ch.isspace() for ch in value):
        raise ConfigValueError(
            N_("le jeton du bot est attendu seul, sans espace ni préfixe « Bot »")
        )
    return value


Token = Annotated[SecretStr | None, BeforeValidator(_parse_token)]


TEXT_EXPECTED = N_("du texte est attendu")
TEXT_NOT_EMPTY = N_("un texte non vide est attendu")
TEXT_AT_MOST = N_("un texte d'au plus {maximum} caractères est attendu")


def _text(
    value: object,
    *,
    expected: str = TEXT_EXPECTED,
    min_length: int = 0,
    max_length: int,
    allow_int: bool = False,
) -> str:
    """Text of ``min_length`` to ``max_length`` characters once stripped; ``expected`` names
    what is wanted when the value is not text at all."""
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ConfigValueError(expected)
    value = value.strip()
    if len(value) < min_length:
        raise ConfigValueError(TEXT_NOT_EMPTY)
    if len(value) > max_length:
        raise ConfigValueError(TEXT_AT_MOST, maximum=max_length)
    return value


ASYNC_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_URL_EXPECTED = N_(
    "une adresse SQLAlchemy asynchrone est attendue : sqlite+aiosqlite:///chemin/du/fichier.db "
    "ou postgresql+asyncpg://utilisateur:motdepasse@hote/base"
)
_URL_DRIVER = N_(
    "une adresse SQLAlchemy asynchrone est attendue : sqlite+aiosqlite:///chemin/du/fichier.db "
    "ou postgresql+asyncpg://utilisateur:motdepasse@hote/base ; le pilote « {pilote} » n'en est "
    "pas un"
)
_URL_DRIVER_HINT = N_(
    "une adresse SQLAlchemy asynchrone est attendue : sqlite+aiosqlite:///chemin/du/fichier.db "
    "ou postgresql+asyncpg://utilisateur:motdepasse@hote/base ; le pilote « {pilote} » n'en est "
    "pas un (utilisez « {correct} »)"
)


def safe_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (or a placeholder if it cannot be read)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return "(unreadable URL, not shown)"
