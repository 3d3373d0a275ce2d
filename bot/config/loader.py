"""Loading: TOML file, PARTAGE_* environment, DISCORD_TOKEN; errors named by key."""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
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
    _FLAG_EXPECTED,
    DEFAULT_CONFIG_PATH,
    ENV_DELIMITER,
    ENV_PREFIX,
    TEXT_EXPECTED,
    TOKEN_ENV,
    ConfigError,
    ConfigValueError,
    Problem,
    safe_url,
)
from bot.errors import N_
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


def _shown_value(loc: Loc, value: object) -> object:
    """The offending value to show, or None to show nothing (secrets, big structures)."""
    if any(part == "token" for part in loc):
        return None
    if loc[-2:] == ("database", "url") and isinstance(value, str):
        return safe_url(value)
    if isinstance(value, str):
        return value if len(value) <= 78 else value[:77] + "…"
    if isinstance(value, bool | int | float):
        return value
    return None


UNKNOWN_KEY = N_("clé inconnue")
UNKNOWN_SECTION = N_("section ou clé inconnue")
UNKNOWN_KEY_CLOSE = N_("clé inconnue (vouliez-vous dire « {proche} » ?)")
UNKNOWN_SECTION_CLOSE = N_("section ou clé inconnue (vouliez-vous dire « {proche} » ?)")
UNKNOWN_KEY_KNOWN = N_("clé inconnue (clés connues : {connues})")
UNKNOWN_SECTION_KNOWN = N_("section ou clé inconnue (clés connues : {connues})")
ONE_OF = N_("une de ces valeurs est attendue : {valeurs}")
JSON_EXPECTED = N_("du JSON valide est attendu")

# pydantic's own error types (its constraints and basic types), by what they expect.
_PYDANTIC_MESSAGES: Mapping[str, str] = {
    "missing": N_("clé obligatoire absente"),
    "model_type": N_("une table est attendue (une [section] en TOML)"),
    "model_attributes_type": N_("une table est attendue (une [section] en TOML)"),
    "dict_type": N_("une table est attendue (une [section] en TOML)"),
    "tuple_type": N_("une liste est attendue"),
    "list_type": N_("une liste est attendue"),
    "int_type": N_("un nombre entier est attendu"),
    "int_parsing": N_("un nombre entier est attendu"),
    "int_from_float": N_("un nombre entier est attendu"),
    "float_type": N_("un nombre est attendu"),
    "float_parsing": N_("un nombre est attendu"),
    "bool_type": _FLAG_EXPECTED,
    "bool_parsing": _FLAG_EXPECTED,
    "string_type": TEXT_EXPECTED,
    "greater_than_equal": N_("un nombre d'au moins {ge} est attendu"),
    "greater_than": N_("un nombre plus grand que {gt} est attendu"),
    "less_than_equal": N_("un nombre d'au plus {le} est attendu"),
    "less_than": N_("un nombre plus petit que {lt} est attendu"),
    "string_too_short": N_("un texte d'au moins {min_length} caractère(s) est attendu"),
    "string_too_long": N_("un texte d'au plus {max_length} caractère(s) est attendu"),
}


def _describe(error: Mapping[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
    """(the key when the check names its own, the message id, its values) of one pydantic
    error; a message id of None shows ``values["texte"]`` as is."""
    kind = error["type"]
    loc: Loc = tuple(error["loc"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = list(model.model_fields) if model is not None else []
        section = len(loc) == 1
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return (
                None,
                UNKNOWN_SECTION_CLOSE if section else UNKNOWN_KEY_CLOSE,
                {"proche": close[0]},
            )
        if known:
            message = UNKNOWN_SECTION_KNOWN if section else UNKNOWN_KEY_KNOWN
            return None, message, {"connues": ", ".join(known)}
        return None, UNKNOWN_SECTION if section else UNKNOWN_KEY, {}
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return None, ONE_OF, {"valeurs": ", ".join(choices) or str(ctx.get("expected", ""))}
    if kind in _PYDANTIC_MESSAGES:
        return None, _PYDANTIC_MESSAGES[kind], dict(ctx)
    cause = ctx.get("error")
    if kind == "value_error" and isinstance(cause, ConfigValueError):
        return cause.key, cause.message_id, dict(cause.values)
    text = str(cause) if kind == "value_error" and cause is not None else str(error["msg"])
    text = text.replace("Input should be ", "expected ", 1)
    # A model-level check in English may name its own keys ("section.key: …").
    key = None
    if loc and text.startswith(f"{loc[0]}."):
        key, _, text = text.partition(": ")
    return key, None, {"texte": text}


def _masked(value: Any, secrets: Sequence[str]) -> Any:
    return mask_secrets(value, secrets) if isinstance(value, str) else value


def _problems(
    exc: ValidationError, origins: Mapping[Loc, str], path: Path | None, secrets: Sequence[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        own_key, message, values = _describe(error)
        shown = None
        if error["type"] not in ("extra_forbidden", "missing"):
            shown = _shown_value(loc, error.get("input"))
        origin = next(
            (
                name
                for length in range(len(loc), 0, -1)
                if (name := origins.get(tuple(str(p) for p in loc[:length]))) is not None
            ),
            None,
        )
        problems.append(
            Problem(
                key=_masked(own_key or _dotted(loc), secrets),
                message_id=message,
                values={k: _masked(v, secrets) for k, v in values.items()},
                shown=_masked(shown, secrets),
                variable=origin,
                path=None if origin is not None or path is None else str(path),
            )
        )
    return problems


_TOML_PLACE = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def _file_problem(path: Path, exc: Exception) -> Problem:
    """What is wrong with the file itself: not TOML, not UTF-8, unreadable."""
    if isinstance(exc, tomllib.TOMLDecodeError):
        detail = mask_secrets(str(exc))
        place = _TOML_PLACE.search(detail)
        if place is None:
            values = {"chemin": str(path), "detail": detail}
            return Problem(None, N_("{chemin} : TOML invalide ({detail})"), values)
        values = {
            "chemin": str(path),
            "ligne": int(place[1]),
            "colonne": int(place[2]),
            "detail": _TOML_PLACE.sub("", detail),
        }
        return Problem(
            None,
            N_("{chemin} : TOML invalide à la ligne {ligne}, colonne {colonne} ({detail})"),
            values,
        )
    if isinstance(exc, UnicodeDecodeError):
        return Problem(None, N_("{chemin} n'est pas du texte UTF-8"), {"chemin": str(path)})
    reason = getattr(exc, "strerror", None) or str(exc)
    return Problem(
        None,
        N_("{chemin} : lecture impossible ({erreur})"),
        {"chemin": str(path), "erreur": reason},
    )


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
        raise ConfigError(
            Problem(None, N_("fichier introuvable : {chemin}"), {"chemin": str(path)})
        )
    elif not path.is_file():
        raise ConfigError(Problem(None, N_("{chemin} n'est pas un fichier"), {"chemin": str(path)}))

    sources: list[PydanticBaseSettingsSource] = [
        _DiscordTokenSource(Settings, environ),
        _EnvSource(Settings, environ),
    ]
    toml_data: Mapping[str, Any] = {}
    if path is not None:
        try:
            toml_source = TomlConfigSettingsSource(Settings, toml_file=path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(_file_problem(path, exc)) from None
        toml_data = toml_source.toml_data
        sources.append(toml_source)

    secrets = _secret_candidates(environ, toml_data)
    origins = _env_origins(environ)
    problems: list[Problem] = []
    try:
        settings = Settings(_build_sources=(tuple(sources), {}))
    except ValidationError as exc:
        problems = _problems(exc, origins, path, secrets)
    except SettingsError as exc:
        field = re.search(r'field "(\w+)"', str(exc))
        names = sorted(
            name for loc, name in origins.items() if field is not None and loc[0] == field[1]
        )
        key = field[1] if field is not None else ENV_PREFIX + "*"
        problems = [Problem(key, JSON_EXPECTED, variable=", ".join(names) or None)]
    if problems:
        # Raised outside the except blocks: the pydantic error, which holds the raw values
        # (the token among them), is not kept as the context of this one.
        raise ConfigError(problems)

    settings._source_path = path
    token = settings.token_value()
    if token is not None:
        register_secret(token)
    log.debug("configuration loaded from %s", path if path is not None else "the built-in defaults")
    return settings
