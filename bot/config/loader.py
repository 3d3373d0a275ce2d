"""Loading: TOML file, PARTAGE_* environment, DISCORD_TOKEN; errors named by key."""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.sections import (
    Settings,
)
from bot.config.values import (
    DEFAULT_CONFIG_PATH,
    ENV_DELIMITER,
    ENV_PREFIX,
    TOKEN_ENV,
    ConfigError,
    safe_url,
)
from bot.logsetup import mask_secrets, register_secret

# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

log = logging.getLogger(__name__)


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
