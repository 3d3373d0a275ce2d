"""Names and words typed by members: municipality spellings (Québec toponymy), matching keys
that ignore case and accents, expertise keywords, and the 17 administrative regions. Pure
functions, no database."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bot.errors import N_, InvalidInput
from db.models import Region
from db.models.membres import REGION_NOMS

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-"})
# Particles stay lowercase inside a place name (Commission de toponymie du Québec).
_PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "l", "d", "sur", "sous", "en", "à", "aux", "et", "lès"}
)
_ABBREVIATIONS = {"st": "Saint", "ste": "Sainte", "sts": "Saints", "stes": "Saintes"}


def clean_text(text: str) -> str:
    """NFC, no control characters, whitespace collapsed, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching: ``Saint-Jérôme`` → ``saint-jerome``."""
    decomposed = unicodedata.normalize("NFKD", clean_text(text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _capitalize(word: str, *, first: bool) -> str:
    """One word of a place name: particles lowercase unless first; an elided particle keeps
    its apostrophe (``l'Île``, ``d'Or``); words typed in mixed case (``McMasterville``) are
    kept as typed."""
    if "'" in word:
        head, _, rest = word.partition("'")
        head_out = _capitalize(head, first=first) if head else ""
        return f"{head_out}'{_capitalize(rest, first=False)}" if rest else f"{head_out}'"
    lower = word.lower()
    if lower in _ABBREVIATIONS:
        return _ABBREVIATIONS[lower]
    if not first and lower in _PARTICLES:
        return lower
    if word not in (lower, word.upper()):
        return word[0].upper() + word[1:]
    return lower[:1].upper() + lower[1:]


#: « Ville de Sherbrooke » is Sherbrooke: the kind of municipality is not part of its name.
_KIND_PREFIX = re.compile(
    r"^(?:ville|municipalit[eé]|city|town|village|cit[eé]|canton|paroisse)\s+(?:de\s+|d'|of\s+)",
    re.IGNORECASE,
)


@functools.cache
def _official() -> dict[str, str]:
    """Official spellings by matching key (``municipalites.txt``)."""
    lines = (Path(__file__).with_name("municipalites.txt")).read_text(encoding="utf-8")
    names = [n.strip() for n in lines.splitlines() if n.strip() and not n.startswith("#")]
    return {_key(name): name for name in names}


def normalize_municipalite(text: str) -> str:
    """Trim, collapse spaces, unify apostrophes and hyphens, expand ``St``/``Ste``, drop
    « Ville de » / « Municipalité de », and capitalize as Québec's toponymy does:
    ``  saint-jean-SUR-richelieu`` → ``Saint-Jean-sur-Richelieu``, ``l'assomption`` →
    ``L'Assomption``, ``val-d'or`` → ``Val-d'Or``, ``les îles-de-la-madeleine`` →
    ``Les Îles-de-la-Madeleine``; a known municipality takes its official spelling
    (``montreal``, ``Ville de Montreal`` → ``Montréal``; ``trois rivieres`` →
    ``Trois-Rivières``)."""
    text = clean_text(text.translate(_APOSTROPHES))
    text = _KIND_PREFIX.sub("", text).strip() or text
    text = re.sub(r"\s*-\s*", "-", text)
    text = re.sub(r"\s*'\s*", "'", text)
    text = re.sub(r"\b(st|ste|sts|stes)\.(?=[\s-])", r"\1", text, flags=re.IGNORECASE)
    parts = re.split(r"([ -])", text)
    out: list[str] = []
    for index, part in enumerate(parts):
        out.append(part if part in (" ", "-", "") else _capitalize(part, first=index == 0))
    name = "".join(out)
    return _official().get(_key(name), name)


def near_official(name: str) -> str | None:
    """The official spelling ``name`` is probably a typo of (« Montrael » → « Montréal »), or
    None: when it is one already, or nothing is close enough (difflib, 85 % alike)."""
    official = _official()
    key = _key(name)
    if key in official:
        return None
    close = difflib.get_close_matches(key, list(official), n=1, cutoff=0.85)
    return official[close[0]] if close else None


def municipalite_cle(text: str) -> str:
    """The matching key: ``St-Jérôme``, ``saint jerome``, ``Ville de Saint-Jérôme`` and
    ``Saint-Jérôme`` share ``saint jerome``."""
    return _key(normalize_municipalite(text))


def _key(name: str) -> str:
    """The matching key of a normalized name (``normalize_municipalite`` has already written
    ``St`` as ``Saint``)."""
    return " ".join(re.split(r"[\s'\-.]+", fold(name))).strip()[:100]


def _accents(text: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFKD", text) if unicodedata.combining(c))


def best_spelling(spellings: Counter[str]) -> str:
    """Among spellings of one municipality, the most accented (accents are lost, rarely
    added, by hasty typing), then the most common, then the first alphabetically."""
    return min(spellings, key=lambda s: (-_accents(s), -spellings[s], s))


def split_keywords(value: str | Iterable[str]) -> list[str]:
    """Expertise keywords from a list or from text separated by commas, semicolons or lines;
    cleaned, without duplicates (compared without case or accents)."""
    items = re.split(r"[,;\n]", value) if isinstance(value, str) else list(value)
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        word = clean_text(item)
        if word and fold(word) not in seen:
            seen.add(fold(word))
            out.append(word)
    return out


def parse_region(value: Region | str) -> Region:
    """A region from its code (``6``, ``06``) or its name, without case or accents
    (``montreal``, ``Gaspésie-Îles-de-la-Madeleine``)."""
    if isinstance(value, Region):
        return value
    text = clean_text(value)
    if text.isdigit() and 1 <= int(text) <= len(Region):
        return Region(f"{int(text):02d}")
    key = municipalite_cle(text)
    for region, nom in REGION_NOMS.items():
        if municipalite_cle(nom) == key:
            return region
    raise InvalidInput(
        N_("Région inconnue : « {region} ». Donnez son numéro (01 à 17) ou son nom."),
        region=text[:60],
    )


def like_pattern(needle: str) -> str:
    """A ``LIKE`` pattern finding ``needle`` anywhere (``%``, ``_`` and ``\\`` escaped)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
