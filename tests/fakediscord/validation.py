"""Payload checks mirroring what real Discord refuses with 400 "Invalid Form Body"."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from .errors import FormErrors, bad_request

log = logging.getLogger(__name__)

#: Locales Discord accepts as keys of name_localizations / description_localizations.
LOCALES = frozenset(
    {
        *("id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu"),
        *("nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru"),
        *("uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko"),
    }
)
EPHEMERAL = 1 << 6
COMPONENTS_V2 = 1 << 15
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
V2_TOP_LEVEL = frozenset({1, 9, 10, 12, 13, 14, 17})

Path = tuple[str | int, ...]


# ----- messages ---------------------------------------------------------------------------


def validate_message(
    payload: dict[str, Any],
    *,
    new_files: int = 0,
    existing: Any | None = None,
    kept_attachments: int | None = None,
) -> None:
    """Validate a create (``existing`` None) or edit payload of a message.

    ``kept_attachments`` is how many attachments the message keeps after an edit.
    Raises :class:`~tests.fakediscord.errors.ApiError` like Discord would.
    """
    errs = FormErrors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errs.add(("content",), "BASE_TYPE_STRING", "Could not interpret value as string.")
    else:
        errs.max_length(("content",), content, 2000)
    flags = payload.get("flags")
    if flags is None and existing is not None:
        flags = existing.flags
    flags = int(flags or 0)
    embeds = payload.get("embeds")
    if embeds is not None:
        validate_embeds(embeds, errs)
    components = payload.get("components")
    if components is not None:
        validate_components(components, flags, errs)
    if flags & COMPONENTS_V2 and (content or embeds):
        errs.add(
            ("content",) if content else ("embeds",),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used with IS_COMPONENTS_V2",
        )
    if payload.get("allowed_mentions") is not None:
        validate_allowed_mentions(payload["allowed_mentions"], errs)
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        errs.add(("nonce",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    errs.raise_if_any()

    def pick(key: str, default: Any) -> Any:
        if key in payload:
            return payload[key]
        return getattr(existing, key, default) if existing is not None else default

    has_files = new_files + (kept_attachments or 0) > 0
    if kept_attachments is None and existing is not None and "attachments" not in payload:
        has_files = has_files or bool(existing.attachments)
    final_content = pick("content", "") or ""
    if not (
        final_content.strip()
        or pick("embeds", [])
        or pick("components", [])
        or has_files
        or payload.get("sticker_ids")
        or payload.get("poll")
    ):
        raise bad_request(50006, "Cannot send an empty message")


def validate_embeds(embeds: Any, errs: FormErrors) -> None:
    if not isinstance(embeds, list):
        errs.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > 10:
        errs.add(("embeds",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        total += _validate_embed(embed, ("embeds", i), errs)
    if total > 6000:
        errs.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _check_url(errs: FormErrors, path: Path, url: Any, *, image: bool = False) -> None:
    if url is None:
        return
    schemes = ("http", "https", "attachment") if image else ("http", "https")
    parsed = urlparse(str(url))
    if parsed.scheme not in schemes:
        allowed = ", ".join(repr(s) for s in schemes)
        errs.add(
            path,
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{parsed.scheme}" is not supported. Scheme must be one of ({allowed}).',
        )
    elif parsed.scheme != "attachment" and not parsed.netloc:
        errs.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def _validate_embed(embed: dict[str, Any], path: Path, errs: FormErrors) -> int:
    size = 0
    for key, limit in (("title", 256), ("description", 4096)):
        value = embed.get(key)
        errs.max_length((*path, key), value, limit)
        size += len(value or "")
    _check_url(errs, (*path, "url"), embed.get("url"))
    color = embed.get("color")
    if color is not None and not (isinstance(color, int) and 0 <= color <= 0xFFFFFF):
        errs.add((*path, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215 and >= 0.")
    if embed.get("timestamp") is not None:
        try:
            datetime.fromisoformat(str(embed["timestamp"]))
        except ValueError:
            errs.add((*path, "timestamp"), "DATE_TYPE_PARSE", "Could not parse timestamp.")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errs.add((*path, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for j, fld in enumerate(fields):
        for key, limit in (("name", 256), ("value", 1024)):
            value = fld.get(key)
            if errs.required((*path, "fields", j, key), value):
                errs.max_length((*path, "fields", j, key), value, limit)
            size += len(value or "")
    footer = embed.get("footer")
    if footer is not None:
        if errs.required((*path, "footer", "text"), footer.get("text")):
            errs.max_length((*path, "footer", "text"), footer["text"], 2048)
        size += len(footer.get("text") or "")
        _check_url(errs, (*path, "footer", "icon_url"), footer.get("icon_url"), image=True)
    author = embed.get("author")
    if author is not None:
        if errs.required((*path, "author", "name"), author.get("name")):
            errs.max_length((*path, "author", "name"), author["name"], 256)
        size += len(author.get("name") or "")
        _check_url(errs, (*path, "author", "url"), author.get("url"))
        _check_url(errs, (*path, "author", "icon_url"), author.get("icon_url"), image=True)
    for key in ("image", "thumbnail"):
        if embed.get(key) is not None:
            _check_url(errs, (*path, key, "url"), embed[key].get("url"), image=True)
    return size


def validate_allowed_mentions(allowed: dict[str, Any], errs: FormErrors) -> None:
    parse = allowed.get("parse") or []
    for i, value in enumerate(parse):
        if value not in ("roles", "users", "everyone"):
            errs.add(
                ("allowed_mentions", "parse", i),
                "ENUM_TYPE_COERCE",
                f'Value "{value}" is not a valid enum value.',
            )
    for kind in ("users", "roles"):
        ids = allowed.get(kind) or []
        errs.max_length(("allowed_mentions", kind), ids, 100)
        if kind in parse and ids:
            errs.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


# ----- components -------------------------------------------------------------------------


def validate_components(components: Any, flags: int, errs: FormErrors) -> None:
    """Message components, legacy action rows or components v2 (flag 1 << 15)."""
    path: Path = ("components",)
    if not isinstance(components, list):
        errs.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()
    if flags & COMPONENTS_V2:
        if _count_components(components) > 40:
            errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
        for i, comp in enumerate(components):
            if comp.get("type") not in V2_TOP_LEVEL:
                errs.add((*path, i, "type"), "UNION_TYPE_CHOICES", "Invalid component type")
            _validate_v2(comp, (*path, i), errs, seen)
        return
    if len(components) > 5:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(components):
        if row.get("type") != 1:
            errs.add(
                (*path, i, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        _validate_row(row, (*path, i), errs, seen)


def _count_components(components: list[dict[str, Any]]) -> int:
    total = 0
    for comp in components:
        total += 1 + _count_components(comp.get("components") or [])
        if isinstance(comp.get("accessory"), dict):
            total += 1
    return total


def _validate_row(row: dict[str, Any], path: Path, errs: FormErrors, seen: set[str]) -> None:
    children = row.get("components") or []
    if not 1 <= len(children) <= 5:
        errs.add(
            (*path, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    types = {c.get("type") for c in children}
    if types & SELECT_TYPES and len(children) > 1:
        errs.add(
            (*path, "components"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )
    for j, child in enumerate(children):
        _validate_interactive(child, (*path, "components", j), errs, seen)


def _validate_v2(comp: dict[str, Any], path: Path, errs: FormErrors, seen: set[str]) -> None:
    ctype = comp.get("type")
    if ctype == 1:
        _validate_row(comp, path, errs, seen)
        return
    if ctype == 10:
        errs.length_between((*path, "content"), comp.get("content"), 1, 4000)
    for j, child in enumerate(comp.get("components") or []):
        _validate_v2(child, (*path, "components", j), errs, seen)
    accessory = comp.get("accessory")
    if isinstance(accessory, dict) and accessory.get("type") == 2:
        _validate_interactive(accessory, (*path, "accessory"), errs, seen)


def _validate_custom_id(comp: dict[str, Any], path: Path, errs: FormErrors, seen: set[str]) -> None:
    custom_id = comp.get("custom_id")
    errs.length_between((*path, "custom_id"), custom_id, 1, 100)
    if isinstance(custom_id, str):
        if custom_id in seen:
            errs.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)


def _validate_interactive(
    comp: dict[str, Any], path: Path, errs: FormErrors, seen: set[str]
) -> None:
    ctype = comp.get("type")
    if ctype == 2:
        _validate_button(comp, path, errs, seen)
    elif ctype in SELECT_TYPES:
        _validate_select(comp, path, errs, seen)
    else:
        errs.add((*path, "type"), "UNION_TYPE_CHOICES", "Invalid component type for a message")


def _validate_button(comp: dict[str, Any], path: Path, errs: FormErrors, seen: set[str]) -> None:
    style = comp.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errs.add(
            (*path, "style"), "ENUM_TYPE_COERCE", f'Value "{style}" is not a valid enum value.'
        )
    errs.max_length((*path, "label"), comp.get("label"), 80)
    if style == 5:
        if not comp.get("url"):
            errs.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        else:
            _check_url(errs, (*path, "url"), comp["url"])
        if comp.get("custom_id") is not None:
            errs.add(
                (*path, "custom_id"),
                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                "A custom id cannot be specified",
            )
    elif style == 6:
        if not comp.get("sku_id"):
            errs.add((*path, "sku_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        if comp.get("url") is not None:
            errs.add(
                (*path, "url"), "BUTTON_COMPONENT_URL_NOT_ALLOWED", "A url cannot be specified"
            )
        _validate_custom_id(comp, path, errs, seen)
    if style != 6 and not comp.get("label") and not comp.get("emoji"):
        errs.add(
            (*path, "label"),
            "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
            "A label or emoji is required",
        )


def _validate_select(comp: dict[str, Any], path: Path, errs: FormErrors, seen: set[str]) -> None:
    _validate_custom_id(comp, path, errs, seen)
    errs.max_length((*path, "placeholder"), comp.get("placeholder"), 150)
    min_values = comp.get("min_values", 1)
    max_values = comp.get("max_values", 1)
    if not 0 <= min_values <= 25:
        errs.add((*path, "min_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 0.")
    if not 1 <= max_values <= 25:
        errs.add((*path, "max_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 1.")
    if min_values > max_values:
        errs.add(
            (*path, "min_values"),
            "SELECT_COMPONENT_MIN_VALUES_TOO_LARGE",
            "min_values must be less than or equal to max_values",
        )
    if comp.get("type") != 3:
        return
    options = comp.get("options") or []
    if not 1 <= len(options) <= 25:
        errs.add((*path, "options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
    elif max_values > len(options):
        errs.add(
            (*path, "max_values"),
            "SELECT_COMPONENT_MAX_VALUES_TOO_LARGE",
            "max_values must be less than or equal to the number of options",
        )
    values: set[str] = set()
    defaults = 0
    for k, option in enumerate(options):
        opath = (*path, "options", k)
        errs.length_between((*opath, "label"), option.get("label"), 1, 100)
        errs.length_between((*opath, "value"), option.get("value"), 1, 100)
        errs.max_length((*opath, "description"), option.get("description"), 100)
        if option.get("value") in values:
            errs.add(
                (*opath, "value"),
                "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                "Option values must be unique",
            )
        values.add(option.get("value"))
        defaults += bool(option.get("default"))
    if defaults > max_values:
        errs.add(
            (*path, "options"),
            "SELECT_COMPONENT_TOO_MANY_DEFAULT_VALUES",
            "Too many default values",
        )


# ----- interaction callbacks --------------------------------------------------------------


def validate_modal(data: dict[str, Any]) -> None:
    """Data of a type 9 (modal) interaction response."""
    errs = FormErrors()
    path: Path = ("data",)
    errs.length_between((*path, "custom_id"), data.get("custom_id"), 1, 100)
    errs.length_between((*path, "title"), data.get("title"), 1, 45)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errs.add(
            (*path, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    seen: set[str] = set()
    for i, comp in enumerate(components):
        cpath = (*path, "components", i)
        ctype = comp.get("type")
        if ctype == 1:
            children = comp.get("components") or []
            if len(children) != 1:
                errs.add(
                    (*cpath, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 1 in length.",
                )
            for j, child in enumerate(children):
                _validate_text_input(child, (*cpath, "components", j), errs, seen, in_label=False)
        elif ctype == 18:
            errs.length_between((*cpath, "label"), comp.get("label"), 1, 45)
            errs.max_length((*cpath, "description"), comp.get("description"), 100)
            child = comp.get("component") or {}
            if child.get("type") == 4:
                _validate_text_input(child, (*cpath, "component"), errs, seen, in_label=True)
            elif child.get("type") in SELECT_TYPES:
                _validate_select(child, (*cpath, "component"), errs, seen)
            else:
                _validate_custom_id(child, (*cpath, "component"), errs, seen)
        elif ctype == 10:
            errs.length_between((*cpath, "content"), comp.get("content"), 1, 4000)
        else:
            errs.add((*cpath, "type"), "UNION_TYPE_CHOICES", "Invalid component type for a modal")
    errs.raise_if_any()


def _validate_text_input(
    comp: dict[str, Any], path: Path, errs: FormErrors, seen: set[str], *, in_label: bool
) -> None:
    if comp.get("type") != 4:
        errs.add((*path, "type"), "UNION_TYPE_CHOICES", "Expected a text input")
        return
    _validate_custom_id(comp, path, errs, seen)
    if comp.get("style") not in (1, 2):
        errs.add((*path, "style"), "ENUM_TYPE_COERCE", "Value is not a valid enum value.")
    if in_label:
        if comp.get("label") is not None:
            errs.add(
                (*path, "label"), "BASE_TYPE_INVALID", "Label must be set on the Label component"
            )
    else:
        errs.length_between((*path, "label"), comp.get("label"), 1, 45)
    min_length = comp.get("min_length", 0)
    max_length = comp.get("max_length", 4000)
    if not 0 <= min_length <= 4000:
        errs.add((*path, "min_length"), "NUMBER_TYPE_MAX", "int value should be <= 4000 and >= 0.")
    if not 1 <= max_length <= 4000:
        errs.add((*path, "max_length"), "NUMBER_TYPE_MAX", "int value should be <= 4000 and >= 1.")
    errs.max_length((*path, "value"), comp.get("value"), 4000)
    errs.max_length((*path, "placeholder"), comp.get("placeholder"), 100)


def validate_autocomplete(data: dict[str, Any]) -> None:
    """Data of a type 8 (autocomplete result) interaction response."""
    errs = FormErrors()
    choices = data.get("choices")
    if choices is None:
        errs.add(("data", "choices"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        errs.max_length(("data", "choices"), choices, 25)
        for i, choice in enumerate(choices):
            errs.length_between(("data", "choices", i, "name"), choice.get("name"), 1, 100)
            value = choice.get("value")
            if isinstance(value, str):
                errs.max_length(("data", "choices", i, "value"), value, 100)
            check_localizations(choice, ("data", "choices", i), errs, name_rule=None)
    errs.raise_if_any()


def check_localizations(
    obj: dict[str, Any], path: Path, errs: FormErrors, *, name_rule: Any
) -> None:
    """Keys must be Discord locales; values follow ``name_rule`` or are 1-100 chars."""
    for field_name in ("name_localizations", "description_localizations"):
        locs = obj.get(field_name)
        if not locs:
            continue
        for locale, value in locs.items():
            lpath = (*path, field_name, locale)
            if locale not in LOCALES:
                errs.add(lpath, "ENUM_TYPE_COERCE", f'Value "{locale}" is not a valid enum value.')
            elif field_name == "name_localizations" and name_rule is not None:
                name_rule(errs, lpath, value)
            else:
                errs.length_between(lpath, value, 1, 100)
