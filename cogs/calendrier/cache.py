"""Each atelier's rendered VEVENTs, kept as bytes (no icalendar import here: the bot starts
without loading it; ``ics.py`` fills the cache when a file is first asked for)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class EventCache:
    """The VEVENTs of one atelier as bytes, by everything they are made of (the atelier as
    read, the domain, the page address, the language): a feed after one change renders only
    the atelier that changed. Bounded; the oldest entries go first. With ``max_age`` (seconds),
    an entry put longer ago than that is not served (by ``clock``, seconds)."""

    def __init__(
        self,
        size: int = 4096,
        *,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.max_age = max_age
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        found = self._entries.get(key)
        if found is None:
            return None
        made, value = found
        if self.max_age is not None and self.clock() - made >= self.max_age:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: bytes) -> None:
        self._entries[key] = (self.clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
