"""Value types of the settings and their parsers (each names the expected form)."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    SecretStr,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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
RetryAttempts = _int_between(1, 100)
RetentionMonths = _int_between(1, 120)
GraceDays = _int_between(0, 365)
CadenceDays = _int_between(1, 90)
ShardCount = _int_between(1, 65535)

_SHARD_ID_EXPECTED = "expected a shard number from 0, or nothing for every shard"


def _parse_shard_id(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _to_int(value, _SHARD_ID_EXPECTED)
    if number < 0:
        raise ValueError(_SHARD_ID_EXPECTED)
    return number


OptionalShardId = Annotated[int | None, PlainValidator(_parse_shard_id)]

MIN_LEASE_SECONDS, MAX_LEASE_SECONDS = 1.0, 3600.0
_LEASE_EXPECTED = (
    f"expected a number of seconds from {MIN_LEASE_SECONDS:g} to {MAX_LEASE_SECONDS:g}, "
    "such as 15 or 2.5"
)


def _parse_lease_seconds(value: object) -> float:
    _reject_bool(value)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(_LEASE_EXPECTED) from None
    if not isinstance(value, int | float) or not (MIN_LEASE_SECONDS <= value <= MAX_LEASE_SECONDS):
        raise ValueError(_LEASE_EXPECTED)
    return float(value)


LeaseSeconds = Annotated[float, PlainValidator(_parse_lease_seconds, json_schema_input_type=float)]

_FLAG_EXPECTED = "expected true or false"
_FLAG_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _parse_flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _FLAG_WORDS[value.strip().lower()]
    raise ValueError(_FLAG_EXPECTED)


Flag = Annotated[bool, PlainValidator(_parse_flag, json_schema_input_type=bool)]

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
