"""Words for matching questions, expertise and documents: accent- and case-insensitive, French
stems (Snowball's French stemmer, ``snowballstemmer``), common words left out. Pure functions."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import snowballstemmer

from cogs.membres.noms import fold

_WORD = re.compile(r"[a-z0-9]+")
#: Words that say nothing about a subject (folded), French and a few English ones.
_STOPWORDS_TEXT = """
    au aux avec ce ces cette dans de des du elle en et est il ils je la le les leur leurs lui
    ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son
    sur ta te tes toi ton tu un une vos votre vous comment quoi quel quelle quels quelles
    quand avoir etre fait faire peut peux pouvez sont ont ete cela ca ceci tout tous
    toute toutes autre autres plus moins tres bien aussi alors donc comme si sans sous entre
    chez vers the and for with what how who our your
    """
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
MIN_LENGTH = 3


@functools.cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("french")


def words(text: str) -> list[str]:
    """The folded words of ``text`` that carry meaning, in order."""
    return [w for w in _WORD.findall(fold(text)) if len(w) >= MIN_LENGTH and w not in STOPWORDS]


def stems(*texts: str | None) -> list[str]:
    """The distinct French stems of the texts' meaningful words: « Politiques d'accueil » and
    « politique accueil » give the same."""
    found: dict[str, None] = {}
    for text in texts:
        if text:
            for word in words(text):
                found[_stemmer().stemWord(word)] = None
    return list(found)


def expertise_stems(expertise: Iterable[str]) -> set[str]:
    return set(stems(*expertise))
