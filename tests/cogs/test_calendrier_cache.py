"""The calendars' cache of rendered bytes: bounded (least recently used go first), and with
``max_age`` an entry is served for that long after it was put, not a moment longer."""

from __future__ import annotations

from cogs.calendrier.cache import EventCache


def test_the_least_recently_used_entry_goes_first() -> None:
    events = EventCache(2)
    events.put("a", b"A")
    events.put("b", b"B")
    assert events.get("a") == b"A"  # "b" is now the oldest use
    events.put("c", b"C")
    assert (events.get("a"), events.get("b"), events.get("c")) == (b"A", None, b"C")


def test_an_entry_is_served_for_max_age_seconds_after_it_was_put() -> None:
    now = [1000.0]
    files = EventCache(8, max_age=60, clock=lambda: now[0])
    files.put("atelier", b"v1")
    now[0] += 59.9
    assert files.get("atelier") == b"v1"  # whatever minute of the clock it crossed
    now[0] += 0.1
    assert files.get("atelier") is None
    files.put("atelier", b"v2")
    assert files.get("atelier") == b"v2"
