"""iCalendar files (RFC 5545) with the ``icalendar`` package: one VEVENT per séance, a stable
UID per séance, SEQUENCE rising with every change of its atelier, cancelled séances kept with
STATUS:CANCELLED, times with a TZID and its VTIMEZONE. The package folds long lines at 75
octets and escapes text (commas, semicolons, backslashes, line breaks)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from cogs.calendrier.cache import EventCache
from cogs.calendrier.service import Feed, FeedAtelier, FeedSeance
from cogs.calendrier.zones import vtimezone

PRODID = "-//GEDCIQ//Partage//FR"
#: How often a subscribed calendar should fetch the feed again (a hint; Outlook and Apple
#: read it, Google decides for itself).
REFRESH = timedelta(hours=1)


def uid(seance_id: int, atelier_id: int, domain: str) -> str:
    """One séance's UID, the same in every file and for ever (the atelier id guards against a
    database that reuses the id of a deleted séance)."""
    return f"seance-{seance_id}-{atelier_id}@{domain}"


def calendar_of(
    feed: Feed,
    *,
    domain: str,
    zone: str,
    page_url: Callable[[int], str],
    describe: Callable[[FeedAtelier, FeedSeance], str],
    cache: tuple[EventCache, Hashable] | None = None,
) -> bytes:
    """The ``.ics`` file of ``feed``. ``zone`` is the configured zone, used for a calendar with
    no séance (RFC 5545 wants at least one component). ``describe`` gives an event's text.
    ``cache``: where to keep each atelier's events, and what else ``describe`` depends on
    (its language)."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", feed.name)
    cal.add("X-WR-TIMEZONE", zone)
    cal.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", REFRESH)
    first_year: dict[str, int] = {}
    events: list[bytes] = []
    for atelier in feed.ateliers:
        for seance in atelier.seances:
            year = seance.local_date.year
            if seance.local_time is not None:
                first_year[seance.zone] = min(first_year.get(seance.zone, year), year)
        events.append(_events_of(atelier, domain, page_url, describe, cache))
    if not any(events):
        first_year[zone] = _epoch_year()
    for name, year in sorted(first_year.items()):
        cal.add_component(vtimezone(name, year))
    head = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return b"".join([head[: -len(end)], *events, end])


def _events_of(
    atelier: FeedAtelier,
    domain: str,
    page_url: Callable[[int], str],
    describe: Callable[[FeedAtelier, FeedSeance], str],
    cache: tuple[EventCache, Hashable] | None,
) -> bytes:
    key = None
    if cache is not None:
        key = (atelier, domain, page_url(atelier.id), cache[1])
        found = cache[0].get(key)
        if found is not None:
            return found
    data = b"".join(
        _event(atelier, seance, domain, page_url, describe).to_ical() for seance in atelier.seances
    )
    if cache is not None:
        cache[0].put(key, data)
    return data


def _epoch_year() -> int:
    """Any year serves for an empty calendar's VTIMEZONE; a fixed one keeps the file stable."""
    return 2026


def _event(
    atelier: FeedAtelier,
    seance: FeedSeance,
    domain: str,
    page_url: Callable[[int], str],
    describe: Callable[[FeedAtelier, FeedSeance], str],
) -> Event:
    event = Event()
    event.add("UID", uid(seance.id, atelier.id, domain))
    stamp = atelier.updated_at.astimezone(UTC)
    event.add("DTSTAMP", stamp)
    event.add("LAST-MODIFIED", stamp)
    event.add("SEQUENCE", atelier.sequence)
    event.add("SUMMARY", atelier.titre)
    if seance.local_time is None:  # a date without a time: a whole-day event
        event.add("DTSTART", seance.local_date)
        event.add("DTEND", seance.local_date + timedelta(days=1))
    else:
        tz = ZoneInfo(seance.zone)
        start = datetime.combine(seance.local_date, seance.local_time, tzinfo=tz)
        end = (
            seance.ends_at.astimezone(tz)
            if seance.ends_at is not None
            else start + timedelta(minutes=atelier.duree_minutes)
        )
        # Wall-clock times with the zone named: its VTIMEZONE is in the file.
        tzid = {"TZID": seance.zone}
        event.add("DTSTART", start.replace(tzinfo=None), parameters=tzid)
        event.add("DTEND", end.replace(tzinfo=None), parameters=tzid)
    event.add("LOCATION", atelier.lieu)
    event.add("DESCRIPTION", describe(atelier, seance))
    event.add("URL", page_url(atelier.id))
    event.add("STATUS", "CANCELLED" if seance.cancelled else "CONFIRMED")
    event.add("TRANSP", "TRANSPARENT" if seance.cancelled else "OPAQUE")
    if atelier.chantier_nom:
        event.add("CATEGORIES", [atelier.chantier_nom])
    return event
