"""Expected French texts in tests, written with ordinary spaces and given the non-breaking
spaces the bot puts in (``bot.i18n.typographie``): ``fr("Atelier « X » annulé.")``."""

from __future__ import annotations

import re

from bot.i18n import NBSP, typographie

_TIME = re.compile(r"(\d) h(?: (\d\d))?\b")


def fr(text: str) -> str:
    """A French template as the bot writes it (what members typed, quoted in it, keeps its
    ordinary spaces: write such texts with ``fr`` only around the bot's part)."""
    return typographie(text)


def frh(text: str) -> str:
    """``fr``, and every time « 13 h 30 » as the bot writes a date: with non-breaking spaces
    (« 9 h » for 9:00)."""
    text = _TIME.sub(lambda m: f"{m[1]}{NBSP}h" + (f"{NBSP}{m[2]}" if m[2] else ""), text)
    return typographie(text)
