"""The sections of the settings and the ``Settings`` model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.config.values import (
    _URL_DRIVER,
    _URL_DRIVER_HINT,
    _URL_EXPECTED,
    ASYNC_DRIVERS,
    ENV_DELIMITER,
    ENV_PREFIX,
    TOKEN_HELP,
    BumpHours,
    CadenceDays,
    ConfigError,
    ConfigValueError,
    Digest,
    Flag,
    GraceDays,
    LeaseSeconds,
    Offset,
    OptionalShardId,
    OptionalSnowflake,
    Port,
    Problem,
    RetentionMonths,
    RetryAttempts,
    ShardCount,
    Token,
    WeeklyCap,
    _split_offsets,
    _text,
    format_duration,
    parse_duration,
    safe_url,
)
from bot.errors import N_
from bot.logsetup import LEVELS

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
            value,
            expected=N_("un nom ou un identifiant de rôle est attendu"),
            min_length=1,
            max_length=100,
            allow_int=True,
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
            raise ConfigValueError(_URL_EXPECTED)
        value = value.strip()
        try:
            parsed = make_url(value)
        except (ArgumentError, ValueError):
            raise ConfigValueError(_URL_EXPECTED) from None
        if parsed.drivername not in ASYNC_DRIVERS:
            correct = {"sqlite": "sqlite+aiosqlite://", "postgresql": "postgresql+asyncpg://"}
            if (hint := correct.get(parsed.get_backend_name())) is not None:
                raise ConfigValueError(_URL_DRIVER_HINT, pilote=parsed.drivername, correct=hint)
            raise ConfigValueError(_URL_DRIVER, pilote=parsed.drivername)
        return value

    @property
    def safe_url(self) -> str:
        """The URL with its password masked, for logs and messages."""
        return safe_url(self.url)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        yield "url", self.safe_url


class TimeConfig(_Section):
    timezone: str = "America/Toronto"
    #: How far ahead a séance may be planned (a typo such as « 3026 » is refused).
    horizon_years: int = Field(3, ge=1, le=20)

    @field_validator("timezone", mode="plain")
    @classmethod
    def _check_timezone(cls, value: object) -> str:
        expected = N_("un fuseau horaire IANA est attendu, comme « America/Toronto »")
        if not isinstance(value, str) or not value.strip():
            raise ConfigValueError(expected)
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigValueError(expected) from None
        return value.strip()

    @property
    def zone(self) -> ZoneInfo:
        """The zone in which dates are read and shown."""
        return ZoneInfo(self.timezone)


class RemindersConfig(_Section):
    offsets: Annotated[tuple[Offset, ...], NoDecode] = ("7d", "1d", "1h")  # type: ignore[assignment]
    digest: Digest = "mon 08:30"  # type: ignore[assignment]
    digest_channel: OptionalSnowflake = None
    dm_retry_attempts: RetryAttempts = 30

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
                raise ConfigValueError(
                    N_("des délais distincts sont attendus ; {delai} revient deux fois"),
                    delai=format_duration(delta),
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
    #: "text" (one readable line per record) or "json" (one JSON object per line).
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="plain")
    @classmethod
    def _check_level(cls, value: object) -> str:
        if isinstance(value, str) and value.strip().upper() in LEVELS:
            return value.strip().upper()
        raise ConfigValueError(
            N_("une de ces valeurs est attendue : {valeurs}"), valeurs=", ".join(LEVELS)
        )


class PrivacyConfig(_Section):
    retention_months: RetentionMonths = 24
    departure_grace_days: GraceDays = 30


class JumelageConfig(_Section):
    cadence_days: CadenceDays = 14
    checkin_days: CadenceDays = 7

    @model_validator(mode="after")
    def _checkin_within_cadence(self) -> JumelageConfig:
        if self.checkin_days > self.cadence_days:
            raise ConfigValueError(
                N_("au plus jumelage.cadence_days est attendu ({suivi} > {cadence})"),
                key="jumelage.checkin_days",
                suivi=self.checkin_days,
                cadence=self.cadence_days,
            )
        return self


class AteliersConfig(_Section):
    """Ateliers (issue 12): where imported ateliers without a chantier are announced, and how
    long a freed place is held for the first in line."""

    annonces_salon: OptionalSnowflake = None
    #: When above 0, a freed place is offered to the first in line, who has this many hours to
    #: take it (then it goes to the next); 0: the first in line gets it at once.
    offer_hours: int = Field(0, ge=0, le=168)


class QuestionsConfig(_Section):
    """Questions between the ateliers: the bump of an unanswered question and how often a
    personne-ressource may be mentioned."""

    bump_hours: BumpHours = 48
    weekly_cap: WeeklyCap = 3


class ProcessesConfig(_Section):
    """How several bot processes share one token: one lease per shard (bot/lease.py)."""

    lease_seconds: LeaseSeconds = 15.0
    standby: Flag = True
    shard_id: OptionalShardId = None
    shard_count: ShardCount = 1

    @model_validator(mode="after")
    def _shard_within_count(self) -> ProcessesConfig:
        if self.shard_id is not None and self.shard_id >= self.shard_count:
            raise ConfigValueError(
                N_(
                    "moins que processes.shard_count est attendu ({fragment} >= {nombre} ; "
                    "les fragments sont numérotés à partir de 0)"
                ),
                key="processes.shard_id",
                fragment=self.shard_id,
                nombre=self.shard_count,
            )
        if self.shard_id is None and self.shard_count > 1:
            raise ConfigValueError(
                N_("obligatoire quand processes.shard_count dépasse 1 (un processus par fragment)"),
                key="processes.shard_id",
            )
        return self


class WebConfig(_Section):
    """The site and the calendars the bot process serves (``bot/web.py``, ``cogs/calendrier``)."""

    enabled: Flag = True
    host: str = "127.0.0.1"
    port: Port = 8080
    base_url: str = "http://127.0.0.1:8080"

    @field_validator("host", mode="plain")
    @classmethod
    def _check_host(cls, value: object) -> str:
        return _text(
            value,
            expected=N_("une adresse comme « 127.0.0.1 » est attendue"),
            min_length=1,
            max_length=255,
        )

    @field_validator("base_url", mode="plain")
    @classmethod
    def _check_base_url(cls, value: object) -> str:
        expected = N_(
            "une adresse http:// ou https:// est attendue, comme « https://partage.example.org »"
        )
        text = _text(value, expected=expected, min_length=1, max_length=300)
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ConfigValueError(expected)
        return text.rstrip("/")


_SLUG_RE = re.compile(r"[a-z0-9-]{1,40}")


class ChantierConfig(_Section):
    slug: str
    nom: str
    description: str = ""
    emoji: str = ""

    @field_validator("slug", mode="plain")
    @classmethod
    def _check_slug(cls, value: object) -> str:
        expected = N_(
            "de 1 à 40 lettres minuscules (a-z), chiffres et traits d'union sont attendus, "
            "comme « gouvernance »"
        )
        if not isinstance(value, str) or not _SLUG_RE.fullmatch(value):
            raise ConfigValueError(expected)
        return value

    @field_validator("nom", mode="plain")
    @classmethod
    def _check_nom(cls, value: object) -> str:
        return _text(value, expected=N_("un nom est attendu"), min_length=1, max_length=90)

    @field_validator("description", mode="plain")
    @classmethod
    def _check_description(cls, value: object) -> str:
        return _text(value, expected=N_("une description est attendue"), max_length=1000)

    @field_validator("emoji", mode="plain")
    @classmethod
    def _check_emoji(cls, value: object) -> str:
        return _text(value, expected=N_("un émoji est attendu"), max_length=8)


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
    ateliers: AteliersConfig = Field(default_factory=AteliersConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    jumelage: JumelageConfig = Field(default_factory=JumelageConfig)
    processes: ProcessesConfig = Field(default_factory=ProcessesConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    questions: QuestionsConfig = Field(default_factory=QuestionsConfig)
    chantiers: tuple[ChantierConfig, ...] = Field(default_factory=_default_chantiers)

    _source_path: Path | None = PrivateAttr(default=None)

    @field_validator("chantiers", mode="after")
    @classmethod
    def _unique_slugs(cls, value: tuple[ChantierConfig, ...]) -> tuple[ChantierConfig, ...]:
        first: dict[str, int] = {}
        for index, chantier in enumerate(value):
            if chantier.slug in first:
                raise ConfigValueError(
                    N_(
                        "identifiant « {slug} » en double : chantiers[{index}].slug répète "
                        "chantiers[{premier}].slug (chaque identifiant est unique)"
                    ),
                    slug=chantier.slug,
                    index=index,
                    premier=first[chantier.slug],
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
            raise ConfigError(Problem("discord.token", TOKEN_HELP))
        return token

    def chantier(self, slug: str) -> ChantierConfig | None:
        """The configured chantier with this slug, if any."""
        return next((c for c in self.chantiers if c.slug == slug), None)
