"""Each atelier's rendered VEVENTs, kept as bytes (no icalendar import here: the bot starts
without loading it; ``ics.py`` fills the cache when a file is first asked for)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class EventCache:
    """The VEVENTs of one atelier as bytes, by everything they are made of (the atelier as
    read, the domain, the page address, the language): a feed after one change renders only
    the atelier that changed. Bounded; the oldest entries go first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, value: bytes) -> None:
        self._entries[key] = value
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
