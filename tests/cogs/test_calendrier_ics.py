"""The ``.ics`` files and their VTIMEZONE: RFC 5545 rules that calendar clients enforce, a parse
by a second, independent parser (vobject), exact times across daylight saving time in several
zones, text escaped and folded."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n
from cogs.calendrier.ics import calendar_of
from cogs.calendrier.service import Feed, FeedAtelier, FeedSeance
from cogs.calendrier.text import describer
from cogs.calendrier.zones import transitions, vtimezone
from tests.icsrules import events, parse, problems

NASTY = 'Atelier <script>alert("x")</script> « l\'accueil » ; virgule, barre \\ fin'


def seance(
    seance_id: int, day: date, at: time | None, zone: str, *, cancelled: bool = False
) -> FeedSeance:
    if at is None:
        starts = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
        return FeedSeance(seance_id, 1, starts, None, day, None, zone, cancelled)
    starts = datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return FeedSeance(
        seance_id, 1, starts, starts + timedelta(minutes=90), day, at, zone, cancelled
    )


def atelier(*seances: FeedSeance, titre: str = "Territoire", version: int = 1, **kw) -> FeedAtelier:
    values = {
        "id": 1,
        "titre": titre,
        "description": "Une description\nsur deux lignes, avec ; et , et \\.",
        "lieu": "Hôtel de ville de Laval",
        "genre": "atelier",
        "chantier_slug": "gouvernance",
        "chantier_nom": "Gouvernance",
        "cancelled": False,
        "raison_annulation": None,
        "duree_minutes": 90,
        "version": version,
        "updated_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        "lien": None,
        "seances": tuple(seances),
    }
    values.update(kw)
    return FeedAtelier(**values)


def render(*ateliers: FeedAtelier, zone: str = "America/Toronto", lang: str = "fr") -> bytes:
    tr = I18n.load().for_locale(lang)

    def page(i: int) -> str:
        return f"https://partage.example.org/ateliers/{i}"

    return calendar_of(
        Feed("Partage", tuple(ateliers)),
        domain="partage.example.org",
        zone=zone,
        page_url=page,
        describe=describer(tr, page),
    )


ZONES = [
    "America/Toronto",
    "America/Halifax",
    "America/St_Johns",
    "America/Regina",
    "Europe/Paris",
    "Australia/Sydney",
]


@pytest.mark.parametrize("zone", ZONES)
def test_times_are_exact_across_daylight_saving_time(zone: str) -> None:
    """A séance every week for a year and a half, read back by vobject from our VTIMEZONE:
    each start is the same instant zoneinfo gives (DST changes included)."""
    start = date(2030, 1, 7)
    seances = [seance(i + 1, start + timedelta(weeks=i), time(13, 30), zone) for i in range(80)]
    data = render(atelier(*seances), zone=zone)
    assert problems(data) == []
    read = events(data)
    assert len(read) == 80
    # Our VTIMEZONE as vobject (dateutil) reads it, not the system's zone database.
    [ours] = [z for z in parse(data).vtimezone_list if z.tzid.value == zone]
    rules = ours.gettzinfo()
    text = data.decode()
    for s in seances:
        event = read[f"seance-{s.id}-1@partage.example.org"]
        assert event.dtstart.value.astimezone(UTC) == s.starts_at, (zone, s.local_date)
        assert event.dtend.value.astimezone(UTC) == s.ends_at
        local = s.local_date.strftime("%Y%m%d") + "T133000"
        assert f"DTSTART;TZID={zone}:{local}" in text
        wall = datetime.combine(s.local_date, time(13, 30)).replace(tzinfo=rules)
        assert wall.astimezone(UTC) == s.starts_at, (zone, s.local_date)


def test_the_vtimezone_has_yearly_rules_from_the_zone() -> None:
    ics = vtimezone("America/Toronto", 2030).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in ics
    assert "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11" in ics
    assert "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400" in ics
    assert [t.local for t in transitions("America/Toronto", 2030)] == [
        datetime(2030, 3, 10, 2, 0),
        datetime(2030, 11, 3, 2, 0),
    ]
    fixed = vtimezone("America/Regina", 2030).to_ical().decode()
    assert "DAYLIGHT" not in fixed and "TZOFFSETTO:-0600" in fixed


def test_user_text_is_escaped_and_folded_and_reads_back_the_same() -> None:
    long_title = NASTY + " " + "é" * 120
    data = render(
        atelier(seance(1, date(2030, 12, 3), time(13, 30), "America/Toronto"), titre=long_title)
    )
    assert problems(data) == []
    text = data.decode()
    assert "\\;" in text and "\\," in text and "\\n" in text
    [event] = events(data).values()
    assert event.summary.value == long_title
    assert "<script>" in event.summary.value  # text, shown as text by calendars
    assert event.description.value.startswith(
        "Une description\nsur deux lignes, avec ; et , et \\."
    )
    assert "https://partage.example.org/ateliers/1" in event.description.value
    assert event.location.value == "Hôtel de ville de Laval"


def test_sequence_status_and_whole_days() -> None:
    live = seance(1, date(2030, 12, 3), time(13, 30), "America/Toronto")
    gone = seance(2, date(2030, 12, 10), time(13, 30), "America/Toronto", cancelled=True)
    whole_day = seance(3, date(2030, 12, 17), None, "America/Toronto")
    data = render(atelier(live, gone, whole_day, version=4))
    assert problems(data) == []
    read = events(data)
    first, second, third = (read[f"seance-{i}-1@partage.example.org"] for i in (1, 2, 3))
    assert first.sequence.value == "3" and first.status.value == "CONFIRMED"
    assert second.status.value == "CANCELLED" and second.transp.value == "TRANSPARENT"
    assert "Cette séance n'a plus lieu" in second.description.value
    assert third.dtstart.value == date(2030, 12, 17) and third.dtend.value == date(2030, 12, 18)
    assert "Séance 1 sur 2" in first.description.value


def test_a_cancelled_atelier_and_a_private_link_in_english() -> None:
    data = render(
        atelier(
            seance(1, date(2030, 12, 3), time(13, 30), "America/Toronto", cancelled=True),
            cancelled=True,
            raison_annulation="Tempête",
            lien="https://meet.example.org/abc",
        ),
        lang="en",
    )
    assert problems(data) == []
    [event] = events(data).values()
    assert event.status.value == "CANCELLED"
    assert "Tempête" in event.description.value
    assert "meet.example.org" not in event.description.value  # no link to a cancelled séance


def test_an_empty_calendar_is_still_valid() -> None:
    data = render()
    assert problems(data) == []
    calendar = parse(data)
    assert calendar.vtimezone.tzid.value == "America/Toronto"
    assert not hasattr(calendar, "vevent")


def test_the_rules_catch_broken_files() -> None:
    """The checker itself fails where it should (a bare LF, a long line, a missing VTIMEZONE,
    a duplicate UID, a local DTSTAMP)."""
    good = render(atelier(seance(1, date(2030, 12, 3), time(13, 30), "America/Toronto")))
    assert problems(good) == []
    assert any("bare LF" in p for p in problems(good.replace(b"\r\n", b"\n", 3)))
    unfolded = good.replace(b"\r\n ", b"")
    assert any("octets long" in p for p in problems(unfolded))
    start = good.index(b"BEGIN:VTIMEZONE")
    end = good.index(b"END:VTIMEZONE\r\n") + len(b"END:VTIMEZONE\r\n")
    assert any("has no VTIMEZONE" in p for p in problems(good[:start] + good[end:]))
    event_start = good.index(b"BEGIN:VEVENT")
    event_end = good.index(b"END:VEVENT\r\n") + len(b"END:VEVENT\r\n")
    doubled = good[:event_end] + good[event_start:event_end] + good[event_end:]
    assert any("appears 2 times" in p for p in problems(doubled))
    assert any(
        "DTSTAMP" in p
        for p in problems(good.replace(b"DTSTAMP:20300102T030405Z", b"DTSTAMP:20300102T030405"))
    )
