"""Small cells: a count of fewer than 3 members (one member of a region can be recognised) is
shown as « < 3 » in every output of the statistics: the message, the chart and the workbook.
No Discord here."""

from __future__ import annotations

SMALL = 3
#: What a small cell shows (a non-breaking space: the two characters stay together).
SMALL_TEXT = "<\u00a03"


def masked(n: int) -> bool:
    """Whether a count of members is too small to show (zero is shown: it identifies nobody)."""
    return 0 < n < SMALL


def cell(n: int) -> int | str:
    """The count, or « < 3 »."""
    return SMALL_TEXT if masked(n) else n
