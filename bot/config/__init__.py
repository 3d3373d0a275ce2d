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

from bot.config.loader import load_settings
from bot.config.sections import (
    AteliersConfig,
    ChantierConfig,
    DatabaseConfig,
    DiscordConfig,
    JumelageConfig,
    LoggingConfig,
    PrivacyConfig,
    ProcessesConfig,
    QuestionsConfig,
    RemindersConfig,
    Settings,
    TimeConfig,
    WebConfig,
)
from bot.config.values import (
    DEFAULT_CONFIG_PATH,
    TOKEN_HELP,
    ConfigError,
    WeeklyTime,
    format_duration,
    parse_duration,
    parse_weekly_time,
    safe_url,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "TOKEN_HELP",
    "AteliersConfig",
    "ChantierConfig",
    "ConfigError",
    "DatabaseConfig",
    "DiscordConfig",
    "JumelageConfig",
    "LoggingConfig",
    "PrivacyConfig",
    "ProcessesConfig",
    "QuestionsConfig",
    "RemindersConfig",
    "Settings",
    "TimeConfig",
    "WebConfig",
    "WeeklyTime",
    "format_duration",
    "load_settings",
    "parse_duration",
    "parse_weekly_time",
    "safe_url",
]
