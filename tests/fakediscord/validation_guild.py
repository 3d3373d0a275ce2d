"""Checks of guild objects and application commands, mirroring Discord's 400 answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .errors import FormErrors
from .validation import Path, check_localizations

log = logging.getLogger(__name__)

# Discord: ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$ (\w is close enough here).
COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
AUTO_ARCHIVE_DURATIONS = frozenset({60, 1440, 4320, 10080})


def check_name(
    errs: FormErrors, path: Path, name: Any, *, required: bool, limit: int = 100
) -> None:
    if name is None and not required:
        return
    errs.length_between(path, name, 1, limit)


def validate_channel(payload: dict[str, Any], *, creating: bool, channel_type: int) -> None:
    errs = FormErrors()
    check_name(errs, ("name",), payload.get("name"), required=creating)
    topic_limit = 4096 if channel_type in (15, 16) else 1024
    errs.max_length(("topic",), payload.get("topic"), topic_limit)
    slowmode = payload.get("rate_limit_per_user")
    if slowmode is not None and not 0 <= int(slowmode) <= 21600:
        errs.add(
            ("rate_limit_per_user",), "NUMBER_TYPE_MAX", "int value should be <= 21600 and >= 0."
        )
    if creating and channel_type not in (0, 2, 4, 5, 13, 15, 16):
        errs.add(
            ("type",), "ENUM_TYPE_COERCE", f'Value "{channel_type}" is not a valid enum value.'
        )
    duration = payload.get("default_auto_archive_duration") or payload.get("auto_archive_duration")
    if duration is not None and duration not in AUTO_ARCHIVE_DURATIONS:
        errs.add(
            ("auto_archive_duration",),
            "BASE_TYPE_CHOICES",
            "Value must be one of {60, 1440, 4320, 10080}.",
        )
    for i, ow in enumerate(payload.get("permission_overwrites") or []):
        if ow.get("type") not in (0, 1, "0", "1"):
            errs.add(
                ("permission_overwrites", i, "type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {0, 1}.",
            )
    tags = payload.get("available_tags")
    if tags is not None:
        errs.max_length(("available_tags",), tags, 20)
        for i, tag in enumerate(tags):
            check_name(
                errs, ("available_tags", i, "name"), tag.get("name"), required=True, limit=20
            )
    errs.raise_if_any()


def validate_thread(payload: dict[str, Any]) -> None:
    errs = FormErrors()
    check_name(errs, ("name",), payload.get("name"), required=True)
    duration = payload.get("auto_archive_duration")
    if duration is not None and duration not in AUTO_ARCHIVE_DURATIONS:
        errs.add(
            ("auto_archive_duration",),
            "BASE_TYPE_CHOICES",
            "Value must be one of {60, 1440, 4320, 10080}.",
        )
    errs.max_length(("applied_tags",), payload.get("applied_tags"), 5)
    errs.raise_if_any()


def validate_role(payload: dict[str, Any]) -> None:
    errs = FormErrors()
    errs.max_length(("name",), payload.get("name"), 100)
    color = payload.get("color")
    if color is not None and not 0 <= int(color) <= 0xFFFFFF:
        errs.add(("color",), "NUMBER_TYPE_MAX", "int value should be <= 16777215 and >= 0.")
    errs.raise_if_any()


def parse_time(errs: FormErrors, path: Path, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        errs.add(path, "DATE_TYPE_PARSE", "Could not parse date.")
        return None
    if moment.tzinfo is None:
        errs.add(path, "DATE_TYPE_PARSE", "Timestamp must carry a timezone.")
        return None
    return moment


def validate_scheduled_event(
    payload: dict[str, Any], *, existing: Any | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """Validate a create/edit payload; returns the parsed (start, end) times."""
    errs = FormErrors()
    check_name(errs, ("name",), payload.get("name"), required=existing is None)
    errs.max_length(("description",), payload.get("description"), 1000)
    if ("privacy_level" in payload or existing is None) and payload.get("privacy_level") != 2:
        errs.add(("privacy_level",), "ENUM_TYPE_COERCE", "privacy_level must be 2 (GUILD_ONLY).")
    entity_type = payload.get("entity_type", getattr(existing, "entity_type", None))
    if entity_type not in (1, 2, 3):
        errs.add(
            ("entity_type",),
            "ENUM_TYPE_COERCE",
            f'Value "{entity_type}" is not a valid enum value.',
        )
    start = parse_time(errs, ("scheduled_start_time",), payload.get("scheduled_start_time"))
    end = parse_time(errs, ("scheduled_end_time",), payload.get("scheduled_end_time"))
    if existing is None and start is None and not errs:
        errs.add(("scheduled_start_time",), "BASE_TYPE_REQUIRED", "This field is required")
    if start is not None and start <= now:
        errs.add(
            ("scheduled_start_time",),
            "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
            "Cannot schedule event in the past.",
        )
    final_start = start or getattr(existing, "scheduled_start_time", None)
    final_end = (
        end if "scheduled_end_time" in payload else getattr(existing, "scheduled_end_time", None)
    )
    if entity_type == 3:
        metadata = payload.get("entity_metadata")
        location = (
            (metadata or {}).get("location")
            if metadata is not None or existing is None
            else (existing.location)
        )
        if not location:
            errs.add(
                ("entity_metadata", "location"), "BASE_TYPE_REQUIRED", "This field is required"
            )
        else:
            errs.max_length(("entity_metadata", "location"), location, 100)
        if final_end is None:
            errs.add(("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required")
        if payload.get("channel_id") is not None:
            errs.add(("channel_id",), "BASE_TYPE_INVALID", "External events cannot have a channel")
    elif (
        entity_type in (1, 2)
        and payload.get("channel_id", getattr(existing, "channel_id", None)) is None
    ):
        errs.add(("channel_id",), "BASE_TYPE_REQUIRED", "This field is required")
    if final_start is not None and final_end is not None and final_end <= final_start:
        errs.add(
            ("scheduled_end_time",),
            "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
            "The end time must be after the start time.",
        )
    errs.raise_if_any()
    return start, end


# ----- application commands ---------------------------------------------------------------


def validate_commands(commands: Sequence[dict[str, Any]]) -> None:
    """A bulk overwrite (PUT) of application commands."""
    errs = FormErrors()
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        key = (cmd.get("name"), cmd.get("type", 1))
        if key in seen:
            errs.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)  # type: ignore[arg-type]
        validate_command(cmd, errs, (i,))
    errs.raise_if_any()


def validate_command(cmd: dict[str, Any], errs: FormErrors | None = None, path: Path = ()) -> None:
    own = errs is None
    if errs is None:
        errs = FormErrors()
    ctype = cmd.get("type", 1)
    if ctype == 1:
        _check_command_name(errs, (*path, "name"), cmd.get("name"))
        errs.length_between((*path, "description"), cmd.get("description"), 1, 100)
        check_localizations(cmd, path, errs, name_rule=_check_command_name)
        _validate_options(cmd.get("options") or [], (*path, "options"), errs, depth=0)
        if _command_size(cmd) > 4000:
            errs.add(
                path or ("name",),
                "APPLICATION_COMMAND_TOO_LARGE",
                "Command exceeds maximum size (4000)",
            )
    elif ctype in (2, 3):
        errs.length_between((*path, "name"), cmd.get("name"), 1, 32)
        if cmd.get("description"):
            errs.add(
                (*path, "description"),
                "BASE_TYPE_INVALID",
                "Context menu commands cannot have a description",
            )
        check_localizations(cmd, path, errs, name_rule=None)
    else:
        errs.add((*path, "type"), "ENUM_TYPE_COERCE", f'Value "{ctype}" is not a valid enum value.')
    if own:
        errs.raise_if_any()


def _check_command_name(errs: FormErrors, path: Path, name: Any) -> None:
    if not isinstance(name, str) or not COMMAND_NAME_RE.match(name):
        errs.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    elif name != name.lower():
        errs.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name must be lowercase")


def _validate_options(
    options: list[dict[str, Any]], path: Path, errs: FormErrors, *, depth: int
) -> None:
    errs.max_length(path, options, 25)
    names: set[str] = set()
    seen_optional = False
    kinds = {"sub" if o.get("type") in (1, 2) else "param" for o in options}
    if len(kinds) > 1:
        errs.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-commands and options cannot be mixed",
        )
    for i, opt in enumerate(options):
        opath = (*path, i)
        otype = opt.get("type")
        _check_command_name(errs, (*opath, "name"), opt.get("name"))
        errs.length_between((*opath, "description"), opt.get("description"), 1, 100)
        check_localizations(opt, opath, errs, name_rule=_check_command_name)
        if opt.get("name") in names:
            errs.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(opt.get("name"))
        if otype not in range(1, 12):
            errs.add(
                (*opath, "type"), "ENUM_TYPE_COERCE", f'Value "{otype}" is not a valid enum value.'
            )
            continue
        if otype in (1, 2):
            if (otype == 2 and depth > 0) or (otype == 1 and depth > 1):
                errs.add(
                    (*opath, "type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands nest too deep",
                )
            sub = opt.get("options") or []
            if otype == 2 and any(o.get("type") != 1 for o in sub):
                errs.add(
                    (*opath, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Groups only hold sub-commands",
                )
            _validate_options(sub, (*opath, "options"), errs, depth=depth + 1)
            continue
        if opt.get("required"):
            if seen_optional:
                errs.add(
                    (*opath, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = opt.get("choices") or []
        errs.max_length((*opath, "choices"), choices, 25)
        if choices and opt.get("autocomplete"):
            errs.add(
                (*opath, "autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Autocomplete cannot be used with choices",
            )
        for k, choice in enumerate(choices):
            errs.length_between((*opath, "choices", k, "name"), choice.get("name"), 1, 100)
            if isinstance(choice.get("value"), str):
                errs.length_between((*opath, "choices", k, "value"), choice["value"], 1, 100)
            check_localizations(choice, (*opath, "choices", k), errs, name_rule=None)
        for key in ("min_length", "max_length"):
            value = opt.get(key)
            if value is not None and not (0 if key == "min_length" else 1) <= value <= 6000:
                errs.add((*opath, key), "NUMBER_TYPE_MAX", "int value should be <= 6000.")


def _command_size(cmd: dict[str, Any]) -> int:
    size = len(cmd.get("name") or "") + len(cmd.get("description") or "")
    for opt in cmd.get("options") or []:
        size += _command_size(opt)
        for choice in opt.get("choices") or []:
            size += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return size
