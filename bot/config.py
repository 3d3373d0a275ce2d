"""Typed, validated settings, loaded once at start-up and passed in (STYLE.md rule 11).

``load_settings()`` reads, from highest to lowest priority:

1. the ``DISCORD_TOKEN`` environment variable (for ``discord.token`` only);
2. environment variables ``PARTAGE_<SECTION>__<KEY>``, e.g. ``PARTAGE_DATABASE__URL`` or
   ``PARTAGE_REMINDERS__OFFSETS='["1d", "1h"]'`` (lists as JSON; offsets also ``1d,1h``);
3. a TOML file (``config.toml`` in the working directory unless a path is given);
4. the built-in defaults below.

Any bad value, unknown key or unreadable file raises ``ConfigError``, whose message names the key
and the expected form, and never contains the bot token or a database password.

Building ``Settings(...)`` directly reads neither a file nor the environment: defaults plus the
given values, which is what tests want.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.logsetup import LEVELS, mask_secrets, register_secret

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("config.toml")
ENV_PREFIX = "PARTAGE_"
ENV_DELIMITER = "__"
TOKEN_ENV = "DISCORD_TOKEN"
TOKEN_HELP = (
    "create an application at https://discord.com/developers/applications, open its Bot page, "
    "press Reset Token, and put the token in the DISCORD_TOKEN environment variable "
    "(or discord.token in config.toml)"
)


class ConfigError(Exception):
    """The configuration cannot be used. Each problem names its key and the expected form."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------------------------
# Value types and their parsers. Parsers raise ValueError with the expected form; the offending
# value is added by the error formatter (masked where it may be secret).
# --------------------------------------------------------------------------------------------


def _reject_bool(value: object) -> None:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")


def _to_int(value: object, expected: str) -> int:
    _reject_bool(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise ValueError(expected)


def _int_between(low: int, high: int) -> Any:
    """An int type bounded by ``low`` and ``high`` (inclusive), with a readable error."""
    expected = f"expected a whole number from {low} to {high}"

    def parse(value: object) -> int:
        number = _to_int(value, expected)
        if not low <= number <= high:
            raise ValueError(expected)
        return number

    return Annotated[int, PlainValidator(parse, json_schema_input_type=int)]


_SNOWFLAKE_EXPECTED = "expected a Discord id: a positive whole number such as 123456789012345678"


def _parse_snowflake(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _to_int(value, _SNOWFLAKE_EXPECTED)
    if not 0 < number < 2**63:
        raise ValueError(_SNOWFLAKE_EXPECTED)
    return number


OptionalSnowflake = Annotated[int | None, PlainValidator(_parse_snowflake)]
RetryAttempts = _int_between(1, 20)
RetentionMonths = _int_between(1, 120)
GraceDays = _int_between(0, 365)
CadenceDays = _int_between(1, 90)

_DURATION_RE = re.compile(r"\s*(\d+)\s*([smhd])\s*", re.IGNORECASE)
_DURATION_UNITS = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
MAX_OFFSET = timedelta(days=365)
_DURATION_EXPECTED = 'expected a duration such as "7d", "1h", "30m"'


def parse_duration(text: str) -> timedelta:
    """Parse ``"7d"``, ``"1h"``, ``"30m"``, ``"45s"`` into a positive ``timedelta``."""
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise ValueError(_DURATION_EXPECTED)
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount == 0:
        raise ValueError(f"{_DURATION_EXPECTED}, greater than zero")
    if amount > MAX_OFFSET // _DURATION_UNITS[unit]:
        raise ValueError(f"{_DURATION_EXPECTED}, at most 365 days")
    return amount * _DURATION_UNITS[unit]


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
            raise ValueError(f"{_DURATION_EXPECTED}, between 1s and 365d")
        return value
    if not isinstance(value, str):
        raise ValueError(_DURATION_EXPECTED)
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
            raise ValueError('expected a list such as ["7d", "1d", "1h"]') from None
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
_DIGEST_EXPECTED = (
    'expected a weekday and a time such as "mon 08:30" (French "lun 08:30" also works; '
    '"" turns the digest off)'
)


def parse_weekly_time(text: str) -> WeeklyTime:
    """Parse ``"mon 08:30"`` (or ``"lun 8h30"``) into a ``WeeklyTime``."""
    match = _DIGEST_RE.fullmatch(text)
    if match is None or match.group(1).lower() not in WEEKDAYS:
        raise ValueError(_DIGEST_EXPECTED)
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(_DIGEST_EXPECTED)
    return WeeklyTime(WEEKDAYS[match.group(1).lower()], time(hour, minute))


def _parse_digest(value: object) -> WeeklyTime | None:
    if value is None or value is False:
        return None
    if isinstance(value, WeeklyTime):
        return value
    if not isinstance(value, str):
        raise ValueError(_DIGEST_EXPECTED)
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
        raise ValueError("expected the bot token as a string")
    value = value.strip()
    if not value:
        return None
    if any(ch.isspace() for ch in value):
        raise ValueError('expected the bot token alone, without spaces or a "Bot " prefix')
    return value


Token = Annotated[SecretStr | None, BeforeValidator(_parse_token)]


def _text(
    value: object, *, what: str, min_length: int = 0, max_length: int, allow_int: bool = False
) -> str:
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected {what}")
    value = value.strip()
    if len(value) < min_length:
        raise ValueError(f"expected {what}, not empty")
    if len(value) > max_length:
        raise ValueError(f"expected {what} of at most {max_length} characters")
    return value


ASYNC_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_URL_EXPECTED = (
    "expected an SQLAlchemy async URL: sqlite+aiosqlite:///path/to/file.db "
    "or postgresql+asyncpg://user:password@host/dbname"
)


def safe_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (or a placeholder if it cannot be read)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return "(unreadable URL, not shown)"


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class DiscordConfig(_Section):
    token: Token = None
    guild_id: OptionalSnowflake = None
    staff_role: str = "Équipe d'animation"

    @field_validator("staff_role", mode="plain")
    @classmethod
    def _check_staff_role(cls, value: object) -> str:
        return _text(
            value, what="a role name or a role id", min_length=1, max_length=100, allow_int=True
        )

    @property
    def staff_role_id(self) -> int | None:
        """The staff role as an id when ``staff_role`` is numeric, else None (a role name)."""
        return int(self.staff_role) if self.staff_role.isdigit() else None


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///data/partage.db"

    @field_validator("url", mode="plain")
    @classmethod
    def _check_url(cls, value: object) -> str:
        if isinstance(value, URL):
            value = value.render_as_string(hide_password=False)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(_URL_EXPECTED)
        value = value.strip()
        try:
            parsed = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(_URL_EXPECTED) from None
        if parsed.drivername not in ASYNC_DRIVERS:
            hint = ""
            if parsed.get_backend_name() == "sqlite":
                hint = ' (use "sqlite+aiosqlite://")'
            elif parsed.get_backend_name() == "postgresql":
                hint = ' (use "postgresql+asyncpg://")'
            raise ValueError(f'{_URL_EXPECTED}; driver "{parsed.drivername}" is not one{hint}')
        return value

    @property
    def safe_url(self) -> str:
        """The URL with its password masked, for logs and messages."""
        return safe_url(self.url)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        yield "url", self.safe_url


class TimeConfig(_Section):
    timezone: str = "America/Toronto"

    @field_validator("timezone", mode="plain")
    @classmethod
    def _check_timezone(cls, value: object) -> str:
        expected = 'expected an IANA time zone such as "America/Toronto"'
        if not isinstance(value, str) or not value.strip():
            raise ValueError(expected)
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(expected) from None
        return value.strip()

    @property
    def zone(self) -> ZoneInfo:
        """The zone in which dates are read and shown."""
        return ZoneInfo(self.timezone)


class RemindersConfig(_Section):
    offsets: Annotated[tuple[Offset, ...], NoDecode] = ("7d", "1d", "1h")  # type: ignore[assignment]
    digest: Digest = "mon 08:30"  # type: ignore[assignment]
    digest_channel: OptionalSnowflake = None
    dm_retry_attempts: RetryAttempts = 5

    _offset_texts: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("offsets", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_offsets(value)

    @field_validator("offsets", mode="after")
    @classmethod
    def _unique_sorted(cls, value: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        seen: set[timedelta] = set()
        for delta in value:
            if delta in seen:
                raise ValueError(
                    f"expected distinct offsets; {format_duration(delta)} appears twice"
                )
            seen.add(delta)
        return tuple(sorted(value, reverse=True))

    @model_validator(mode="wrap")
    @classmethod
    def _keep_texts(cls, data: Any, handler: Any) -> RemindersConfig:
        model: RemindersConfig = handler(data)
        written: dict[timedelta, str] = {}
        raw = data.get("offsets") if isinstance(data, Mapping) else None
        try:
            items = _split_offsets(raw) if raw is not None else ()
        except ValueError:
            items = ()
        for item in items if isinstance(items, list | tuple) else ():
            if isinstance(item, str):
                try:
                    written[parse_duration(item)] = item.strip()
                except ValueError:
                    continue
        if isinstance(data, RemindersConfig):
            written.update(zip(data.offsets, data.offset_texts, strict=True))
        model._offset_texts = tuple(written.get(d, format_duration(d)) for d in model.offsets)
        return model

    @property
    def offset_texts(self) -> tuple[str, ...]:
        """The offsets as written in the configuration, in the order of ``offsets``."""
        return self._offset_texts or tuple(format_duration(d) for d in self.offsets)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="plain")
    @classmethod
    def _check_level(cls, value: object) -> str:
        if isinstance(value, str) and value.strip().upper() in LEVELS:
            return value.strip().upper()
        raise ValueError(f"expected one of {', '.join(LEVELS)}")


class PrivacyConfig(_Section):
    retention_months: RetentionMonths = 24
    departure_grace_days: GraceDays = 30


class JumelageConfig(_Section):
    cadence_days: CadenceDays = 14
    checkin_days: CadenceDays = 7

    @model_validator(mode="after")
    def _checkin_within_cadence(self) -> JumelageConfig:
        if self.checkin_days > self.cadence_days:
            raise ValueError(
                "jumelage.checkin_days: expected at most jumelage.cadence_days "
                f"({self.checkin_days} > {self.cadence_days})"
            )
        return self


_SLUG_RE = re.compile(r"[a-z0-9-]{1,40}")


class ChantierConfig(_Section):
    slug: str
    nom: str
    description: str = ""
    emoji: str = ""

    @field_validator("slug", mode="plain")
    @classmethod
    def _check_slug(cls, value: object) -> str:
        expected = (
            'expected 1 to 40 lowercase letters (a-z), digits and hyphens, such as "gouvernance"'
        )
        if not isinstance(value, str) or not _SLUG_RE.fullmatch(value):
            raise ValueError(expected)
        return value

    @field_validator("nom", mode="plain")
    @classmethod
    def _check_nom(cls, value: object) -> str:
        return _text(value, what="a name", min_length=1, max_length=90)

    @field_validator("description", mode="plain")
    @classmethod
    def _check_description(cls, value: object) -> str:
        return _text(value, what="a description", max_length=1000)

    @field_validator("emoji", mode="plain")
    @classmethod
    def _check_emoji(cls, value: object) -> str:
        return _text(value, what="an emoji", max_length=8)


DEFAULT_CHANTIERS: tuple[dict[str, str], ...] = (
    {
        "slug": "gouvernance",
        "nom": "Politiques québécoises et gouvernance de l'immigration",
        "description": (
            "Les politiques québécoises en immigration et leur gouvernance : le rôle des "
            "municipalités, du MIFI et des partenaires, les programmes d'appui aux "
            "collectivités et leur mise en œuvre dans les régions."
        ),
        "emoji": "🏛️",
    },
    {
        "slug": "accueil-integration",
        "nom": "Accueil, intégration et enracinement",
        "description": (
            "Les approches en matière d'accueil, d'intégration et d'enracinement des "
            "personnes immigrantes dans les collectivités locales, et le développement de "
            "relations interculturelles harmonieuses."
        ),
        "emoji": "🤝",
    },
    {
        "slug": "strategies-intervention",
        "nom": "Stratégies d'intervention",
        "description": (
            "Des stratégies d'intervention adaptées aux réalités des territoires : "
            "territoire, clientèles, catégories d'âge, statut socio-économique, etc., et "
            "des pratiques innovantes ancrées dans les milieux."
        ),
        "emoji": "🧭",
    },
)


def _default_chantiers() -> tuple[ChantierConfig, ...]:
    return tuple(ChantierConfig(**data) for data in DEFAULT_CHANTIERS)


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


class Settings(BaseSettings):
    """All of Partage's configuration. Build it with ``load_settings()``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    time: TimeConfig = Field(default_factory=TimeConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    jumelage: JumelageConfig = Field(default_factory=JumelageConfig)
    chantiers: tuple[ChantierConfig, ...] = Field(default_factory=_default_chantiers)

    _source_path: Path | None = PrivateAttr(default=None)

    @field_validator("chantiers", mode="after")
    @classmethod
    def _unique_slugs(cls, value: tuple[ChantierConfig, ...]) -> tuple[ChantierConfig, ...]:
        first: dict[str, int] = {}
        for index, chantier in enumerate(value):
            if chantier.slug in first:
                raise ValueError(
                    f'duplicate slug "{chantier.slug}": chantiers[{index}].slug repeats '
                    f"chantiers[{first[chantier.slug]}].slug (slugs must be unique)"
                )
            first[chantier.slug] = index
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the given values: reading files and the environment is load_settings's job.
        return (init_settings,)

    @property
    def source_path(self) -> Path | None:
        """The TOML file these settings were read from, None for defaults and environment."""
        return self._source_path

    @property
    def has_token(self) -> bool:
        return self.discord.token is not None

    def token_value(self) -> str | None:
        """The bot token for discord.py, or None. Never log it."""
        token = self.discord.token
        return None if token is None else token.get_secret_value()

    def require_token(self) -> str:
        """The bot token for discord.py; ``ConfigError`` telling how to get one if absent."""
        token = self.token_value()
        if token is None:
            raise ConfigError(f"config: discord.token: no bot token is set; {TOKEN_HELP}")
        return token

    def chantier(self, slug: str) -> ChantierConfig | None:
        """The configured chantier with this slug, if any."""
        return next((c for c in self.chantiers if c.slug == slug), None)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class _EnvSource(EnvSettingsSource):
    """``PARTAGE_*`` variables read from the given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}


class _DiscordTokenSource(PydanticBaseSettingsSource):
    """``DISCORD_TOKEN``, which wins over ``discord.token`` wherever that comes from."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._token = (environ.get(TOKEN_ENV) or "").strip()

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {"discord": {"token": self._token}} if self._token else {}


Loc = tuple[str | int, ...]


def _env_origins(environ: Mapping[str, str]) -> dict[Loc, str]:
    """Map each key path set by an environment variable to that variable's name."""
    origins: dict[Loc, str] = {}
    for name in environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        parts = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split(ENV_DELIMITER))
        if parts and parts[0] in Settings.model_fields:
            origins[parts] = name
        elif (section := parts[0].split("_", 1)[0]) in Settings.model_fields:
            log.warning(
                "environment variable %s is ignored: did you mean %s%s%s…?",
                name,
                ENV_PREFIX,
                section.upper(),
                ENV_DELIMITER,
            )
    if (environ.get(TOKEN_ENV) or "").strip():
        origins[("discord", "token")] = TOKEN_ENV
    return origins


def _secret_candidates(environ: Mapping[str, str], toml_data: Mapping[str, Any]) -> list[str]:
    """Every value that may be a secret, to keep out of error messages."""
    secrets: list[str] = []
    urls: list[object] = []
    for name, value in environ.items():
        upper = name.upper()
        if upper in (TOKEN_ENV, f"{ENV_PREFIX}DISCORD{ENV_DELIMITER}TOKEN"):
            secrets.append(value.strip())
        elif upper == f"{ENV_PREFIX}DATABASE{ENV_DELIMITER}URL":
            urls.append(value)
    discord = toml_data.get("discord")
    if isinstance(discord, Mapping) and isinstance(discord.get("token"), str):
        secrets.append(discord["token"].strip())
    database = toml_data.get("database")
    if isinstance(database, Mapping):
        urls.append(database.get("url"))
    for url in urls:
        if isinstance(url, str):
            try:
                password = make_url(url.strip()).password
            except (ArgumentError, ValueError, TypeError):
                continue
            if password:
                secrets.append(str(password))
    return [s for s in secrets if s]


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(root)"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class holding the key at ``loc`` (for unknown-key suggestions)."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = _find_model(field.annotation)
        if found is None:
            return None
        model = found
    return model


def _find_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _shown_value(loc: Loc, value: object) -> str | None:
    """How to show an offending value, or None to show nothing (secrets, big structures)."""
    if any(part == "token" for part in loc):
        return None
    if loc[-2:] == ("database", "url") and isinstance(value, str):
        return json.dumps(safe_url(value), ensure_ascii=False)
    if isinstance(value, bool | int | float | str) or value is None:
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 80 else text[:77] + "…"
    return None


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    message = str(error["msg"])
    loc: Loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = list(model.model_fields) if model is not None else []
        what = "unknown section or key" if len(loc) == 1 else "unknown key"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return f'{what} (did you mean "{close[0]}"?)'
        return f"{what} (known keys: {', '.join(known)})" if known else what
    if kind == "missing":
        return "missing required key"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a table (a [section] in TOML)"
    if kind in ("tuple_type", "list_type"):
        return "expected a list"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    return message.replace("Input should be ", "expected ", 1)


def _format_errors(
    exc: ValidationError, origins: Mapping[Loc, str], path: Path | None
) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        message = _describe(error)
        # A model-level check names its own keys ("jumelage.checkin_days: …").
        key = _dotted(loc)
        if loc and message.startswith(f"{loc[0]}."):
            key, _, message = message.partition(": ")
        line = f"config: {key}: {message}"
        if error["type"] not in ("extra_forbidden", "missing"):
            shown = _shown_value(loc, error.get("input"))
            if shown is not None:
                line += f" (got {shown})"
        origin = next(
            (
                name
                for length in range(len(loc), 0, -1)
                if (name := origins.get(tuple(str(p) for p in loc[:length]))) is not None
            ),
            None,
        )
        if origin is not None:
            line += f" (from {origin})"
        elif path is not None:
            line += f" (in {path})"
        problems.append(line)
    return problems


def load_settings(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load the settings once: ``DISCORD_TOKEN`` > ``PARTAGE_*`` > TOML file > defaults.

    ``path=None`` reads ``./config.toml`` if it exists, else only the defaults; a given path
    must exist. ``environ`` defaults to ``os.environ``. The token, if any, is registered with
    the logging filter so that it is masked in every log line.
    """
    if environ is None:
        environ = os.environ
    if path is None:
        path = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
    elif not path.exists():
        raise ConfigError(f"config: file not found: {path}")
    elif not path.is_file():
        raise ConfigError(f"config: not a file: {path}")

    sources: list[PydanticBaseSettingsSource] = [
        _DiscordTokenSource(Settings, environ),
        _EnvSource(Settings, environ),
    ]
    toml_data: Mapping[str, Any] = {}
    if path is not None:
        try:
            toml_source = TomlConfigSettingsSource(Settings, toml_file=path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path}: invalid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config: {path}: not UTF-8 text") from None
        except OSError as exc:
            raise ConfigError(f"config: {path}: cannot read: {exc.strerror}") from None
        toml_data = toml_source.toml_data
        sources.append(toml_source)

    secrets = _secret_candidates(environ, toml_data)
    origins = _env_origins(environ)
    problems: list[str] = []
    try:
        settings = Settings(_build_sources=(tuple(sources), {}))
    except ValidationError as exc:
        problems = _format_errors(exc, origins, path)
    except SettingsError as exc:
        field = re.search(r'field "(\w+)"', str(exc))
        names = sorted(
            name for loc, name in origins.items() if field is not None and loc[0] == field[1]
        )
        key = field[1] if field is not None else "(environment)"
        problems = [
            f"config: {key}: expected JSON in the environment variable"
            f" (from {', '.join(names) or 'the environment'})"
        ]
    if problems:
        # Raised outside the except blocks: the pydantic error, which holds the raw values
        # (the token among them), is not kept as the context of this one.
        raise ConfigError(mask_secrets(p, secrets) for p in problems)

    settings._source_path = path
    token = settings.token_value()
    if token is not None:
        register_secret(token)
    log.debug("configuration loaded from %s", path if path is not None else "the built-in defaults")
    return settings
