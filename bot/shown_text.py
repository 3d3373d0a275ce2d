"""Text that staff or members write and that Partage shows in Discord (titles, places,
descriptions, reasons, chantier names): it must show what it says. Two Discord syntaxes do
not: a mention (``@everyone``, ``<@id>``, ``<@&id>``, ``<#id>``) displays as one even when
Partage pings nobody, and a masked link ``[text](address)`` hides where it leads. Such text is
refused with a clear message (the caller's change is not made)."""

from __future__ import annotations

import re

from bot.errors import N_, InvalidInput

MENTION = re.compile(r"(?<![\w.])@(?:everyone|here)\b|<(?:@[!&]?|#)\d+>")
MASKED_LINK = re.compile(
    r"\[[^\]\n]*\]\(\s*<?[a-zA-Z][a-zA-Z0-9+.-]*:[^)\s]*>?\s*(?:\"[^\"]*\")?\)"
)

HAS_MENTION = N_(
    "« `{extrait}` » s'afficherait comme une mention : écrivez le nom en toutes lettres, "
    "sans @ ni chevrons."
)
HAS_MASKED_LINK = N_(
    "« `{extrait}` » est un lien masqué, qui cache son adresse : écrivez l'adresse telle "
    "quelle (https://…)."
)


def check_shown(*texts: str | None) -> None:
    """Refuse the first mention or masked link found in ``texts`` (None: not given)."""
    for text in texts:
        if not text:
            continue
        if found := MASKED_LINK.search(text):
            raise InvalidInput(HAS_MASKED_LINK, extrait=_excerpt(found.group()))
        if found := MENTION.search(text):
            raise InvalidInput(HAS_MENTION, extrait=_excerpt(found.group()))


def _excerpt(text: str) -> str:
    return (text[:80] + "…" if len(text) > 80 else text).replace("`", "'")
