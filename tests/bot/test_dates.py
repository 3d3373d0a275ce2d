"""Reading séance dates: the grammar, the missing year, daylight saving, and the refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot import dates
from bot.dates import MAX_SEANCES, SeanceSpec, localize, parse_day, parse_seances
from bot.errors import InvalidInput

ZONE = "America/Toronto"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday, 07:00 in Toronto (EST, UTC-5)
BEFORE_FALL = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
BEFORE_SPRING = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
HOUR_AND_A_HALF = timedelta(minutes=90)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def one(text: str, now: datetime = NOW, **options: object) -> SeanceSpec:
    seances = parse_seances(text, zone=ZONE, now=now, **options)  # type: ignore[arg-type]
    assert len(seances) == 1, seances
    return seances[0]


def refused(text: str, now: datetime = NOW, **options: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_seances(text, zone=ZONE, now=now, **options)  # type: ignore[arg-type]
    return caught.value


# --- the accepted forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2026-12-03 13:30", "2026-12-03T13:30", "2026-12-03 13h30", "  2026-12-03   13 h 30  "],
)
def test_iso_forms(text: str) -> None:
    seance = one(text)
    assert seance.local_date == date(2026, 12, 3)
    assert seance.local_time == time(13, 30)
    assert seance.zone == ZONE
    assert seance.starts_at == utc(2026, 12, 3, 18, 30)  # EST, UTC-5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 décembre 2026 13 h 30", utc(2026, 12, 3, 18, 30)),
        ("3 décembre 2026 à 13 h 30", utc(2026, 12, 3, 18, 30)),
        ("3 déc. 13h30", utc(2026, 12, 3, 18, 30)),
        ("3 dec 13h", utc(2026, 12, 3, 18, 0)),
        ("3 DÉCEMBRE 2026 13H", utc(2026, 12, 3, 18, 0)),
        ("3 decembre 2026 9h05", utc(2026, 12, 3, 14, 5)),
        ("le 3 décembre 2026, 13 h", utc(2026, 12, 3, 18, 0)),
        ("1er mars 2027 9 h", utc(2027, 3, 1, 14, 0)),
        ("jeudi 3 décembre 2026 13:30", utc(2026, 12, 3, 18, 30)),
        ("jeu. 3 déc. 2026 13:30", utc(2026, 12, 3, 18, 30)),
        ("8 octobre 2027 13 h 30", utc(2027, 10, 8, 17, 30)),  # EDT, UTC-4
    ],
)
def test_french_forms(text: str, expected: datetime) -> None:
    assert one(text).starts_at == expected


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("3 févr. 2027 10 h", 2),
        ("3 fevr 2027 10 h", 2),
        ("3 fév. 2027 10 h", 2),
        ("3 février 2027 10 h", 2),
        ("3 août 2027 10 h", 8),
        ("3 aout 2027 10 h", 8),
        ("3 juil. 2027 10 h", 7),
        ("3 sept. 2027 10 h", 9),
        ("3 juin 2027 10 h", 6),
    ],
)
def test_month_names_with_or_without_accents_and_dots(text: str, month: int) -> None:
    assert one(text).local_date == date(2027, month, 3)


def test_a_month_prefix_shared_by_two_months_is_refused() -> None:
    assert refused("3 jui 2027 10 h").values["part"] == "3 jui 2027 10 h"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("December 3, 2026 1:30 pm", utc(2026, 12, 3, 18, 30)),
        ("Dec 3 13:30", utc(2026, 12, 3, 18, 30)),
        ("3 December 2026 13:30", utc(2026, 12, 3, 18, 30)),
        ("Thursday, December 3, 2026 at 1 pm", utc(2026, 12, 3, 18, 0)),
        ("December 3rd, 2026 9:15 a.m.", utc(2026, 12, 3, 14, 15)),
        ("Dec 3 12 pm", utc(2026, 12, 3, 17, 0)),
        ("Dec 3 12:30 am", utc(2026, 12, 3, 5, 30)),
    ],
)
def test_english_forms(text: str, expected: datetime) -> None:
    assert one(text).starts_at == expected


def test_mar_is_march_or_mardi_depending_on_what_follows() -> None:
    assert one("Mar 3 13:30").local_date == date(2027, 3, 3)
    assert one("mar. 2 mars 2027 13 h").local_date == date(2027, 3, 2)  # a Tuesday


def test_several_days_sharing_month_year_and_time() -> None:
    seances = parse_seances("8 et 15 octobre 2026 13 h 30", zone=ZONE, now=BEFORE_FALL)
    assert [s.starts_at for s in seances] == [utc(2026, 10, 8, 17, 30), utc(2026, 10, 15, 17, 30)]


def test_several_days_across_months_as_the_historical_programme_writes_them() -> None:
    seances = parse_seances("26 novembre et 3 décembre 2021", zone=ZONE, now=NOW, allow_past=True)
    assert [s.local_date for s in seances] == [date(2021, 11, 26), date(2021, 12, 3)]
    assert all(s.local_time is None for s in seances)


def test_a_list_of_days_with_commas_and_et() -> None:
    seances = parse_seances("5, 12 et 19 juin 2027 9 h 30", zone=ZONE, now=NOW)
    assert [s.starts_at for s in seances] == [
        utc(2027, 6, 5, 13, 30),
        utc(2027, 6, 12, 13, 30),
        utc(2027, 6, 19, 13, 30),
    ]


def test_a_list_of_days_in_english() -> None:
    seances = parse_seances("June 26 and July 3, 2027 at 9:30 am", zone=ZONE, now=NOW)
    assert [s.local_date for s in seances] == [date(2027, 6, 26), date(2027, 7, 3)]
    seances = parse_seances("June 5 and 12, 2027 9:30", zone=ZONE, now=NOW)
    assert [s.local_date for s in seances] == [date(2027, 6, 5), date(2027, 6, 12)]


def test_seances_separated_by_semicolons_come_back_sorted() -> None:
    seances = parse_seances(
        "10 décembre 2026 13 h ; 2026-12-03 13:30;Dec 17, 2026 9:00", zone=ZONE, now=NOW
    )
    assert [s.starts_at for s in seances] == [
        utc(2026, 12, 3, 18, 30),
        utc(2026, 12, 10, 18, 0),
        utc(2026, 12, 17, 14, 0),
    ]


def test_another_zone() -> None:
    seance = parse_seances("2026-12-03 13:30", zone="Europe/Paris", now=NOW)[0]
    assert seance.zone == "Europe/Paris"
    assert seance.starts_at == utc(2026, 12, 3, 12, 30)


# --- the missing year -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22 novembre 13 h", date(2026, 11, 22)),  # later today in Toronto (07:00 now)
        ("22 novembre 6 h", date(2027, 11, 22)),  # earlier today: next year
        ("22 novembre", date(2026, 11, 22)),  # a date without time: today still counts
        ("21 novembre", date(2027, 11, 21)),
        ("3 décembre 13 h", date(2026, 12, 3)),
        ("1er mars 9 h", date(2027, 3, 1)),
        ("29 février", date(2028, 2, 29)),  # the next year that has one
    ],
)
def test_a_missing_year_means_the_next_such_date(text: str, expected: date) -> None:
    assert one(text).local_date == expected


def test_the_year_is_read_in_the_zone_not_in_utc() -> None:
    # 2026-12-31 23:30 in Toronto is already 2027 in UTC.
    now = utc(2027, 1, 1, 4, 30)
    assert one("31 décembre 23 h 45", now=now).local_date == date(2026, 12, 31)


# --- daylight saving (America/Toronto: 2026-11-01 fall back, 2027-03-14 spring forward) --------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-26 13:30", utc(2026, 10, 26, 17, 30)),  # EDT
        ("2026-11-02 13:30", utc(2026, 11, 2, 18, 30)),  # EST, the Monday after the change
        ("2027-03-08 13:30", utc(2027, 3, 8, 18, 30)),  # EST
        ("2027-03-15 13:30", utc(2027, 3, 15, 17, 30)),  # EDT, the Monday after the change
    ],
)
def test_the_same_wall_clock_time_across_a_change(text: str, expected: datetime) -> None:
    assert one(text, now=BEFORE_FALL).starts_at == expected


@pytest.mark.parametrize("text", ["2027-03-14 02:30", "14 mars 2027 2 h 30"])
def test_a_time_in_the_spring_forward_gap_is_refused(text: str) -> None:
    err = refused(text, now=BEFORE_SPRING)
    assert err.message_id == dates.NONEXISTENT
    assert err.values == {"part": text, "zone": ZONE}


def test_the_hours_around_the_gap_exist() -> None:
    assert one("2027-03-14 01:59", now=BEFORE_SPRING).starts_at == utc(2027, 3, 14, 6, 59)
    assert one("2027-03-14 03:00", now=BEFORE_SPRING).starts_at == utc(2027, 3, 14, 7, 0)


def test_an_ambiguous_time_takes_its_first_occurrence() -> None:
    seance = one("2026-11-01 01:30", now=BEFORE_FALL)
    assert seance.starts_at == utc(2026, 11, 1, 5, 30)  # EDT; 06:30 UTC would be the second
    assert localize(date(2026, 11, 1), time(1, 30, fold=1), ZONE) == utc(2026, 11, 1, 5, 30)


def test_localize_refuses_a_nonexistent_time() -> None:
    with pytest.raises(InvalidInput) as caught:
        localize(date(2027, 3, 14), time(2, 30), ZONE)
    assert caught.value.values == {"part": "2027-03-14 02:30", "zone": ZONE}


# --- dates without time, past, duration -----------------------------------------------------


def test_a_date_without_time_starts_at_local_midnight() -> None:
    winter = one("2026-12-03")
    assert (winter.local_time, winter.ends_at) == (None, None)
    assert winter.starts_at == utc(2026, 12, 3, 5, 0)
    assert one("1er juillet 2027").starts_at == utc(2027, 7, 1, 4, 0)


def test_a_date_without_time_can_be_refused() -> None:
    err = refused("10 déc. 13 h; 3 décembre 2026", allow_date_only=False)
    assert err.message_id == dates.NO_TIME
    assert err.values["part"] == "3 décembre 2026"


def test_ends_at_is_start_plus_duration() -> None:
    seance = one("2026-12-03 13:30", duration=HOUR_AND_A_HALF)
    assert seance.ends_at == utc(2026, 12, 3, 20, 0)
    assert one("2026-12-03 13:30").ends_at is None  # no duration given
    with pytest.raises(ValueError):
        parse_seances("2026-12-03 13:30", zone=ZONE, now=NOW, duration=timedelta(0))


def test_a_seance_in_the_past_is_refused_unless_allowed() -> None:
    err = refused("3 déc. 2026 13 h; 22 novembre 2026 6 h 59")
    assert err.message_id == dates.PAST
    assert err.values["part"] == "22 novembre 2026 6 h 59"
    assert one("22 novembre 2026 6 h 59", allow_past=True).starts_at == utc(2026, 11, 22, 11, 59)
    assert one("22 novembre 2026 7 h").starts_at == NOW  # starting now is not past


def test_a_date_without_time_is_past_only_from_the_next_day() -> None:
    assert one("2026-11-22").local_date == date(2026, 11, 22)
    assert refused("2026-11-21").values["part"] == "2026-11-21"


# --- the refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "part", "message_id"),
    [
        ("demain", "demain", dates.UNREADABLE),
        ("abc; 3 déc. 13h", "abc", dates.UNREADABLE),
        ("3 déc. 13h; 4 déc à", "4 déc à", dates.UNREADABLE),
        ("3 déc 9 h 5", "3 déc 9 h 5", dates.UNREADABLE),
        ("3 déc 13 h 14 h", "3 déc 13 h 14 h", dates.UNREADABLE),
        ("3, déc 4", "3, déc 4", dates.UNREADABLE),
        ("3st December 2026", "3st December 2026", dates.UNREADABLE),
        ("3er décembre 2026", "3er décembre 2026", dates.UNREADABLE),
        ("32 décembre", "32 décembre", dates.BAD_DATE),
        ("30 février 2027", "30 février 2027", dates.BAD_DATE),
        ("30 février", "30 février", dates.BAD_DATE),
        ("2026-13-01", "2026-13-01", dates.BAD_DATE),
        ("3 décembre 25h", "25h", dates.BAD_TIME),
        ("3 Décembre 13 H 60", "13 H 60", dates.BAD_TIME),
        ("Dec 3 13 pm", "13 pm", dates.BAD_TIME),
        ("3 déc. 2026 13 h; 2026-12-03 13:00", "2026-12-03 13:00", dates.DUPLICATE),
    ],
)
def test_garbage_is_refused_naming_the_faulty_part(text: str, part: str, message_id: str) -> None:
    err = refused(text)
    assert err.message_id == message_id
    assert err.values["part"] == part
    assert f"« {part} »" in str(err)  # the message formats with its values


@pytest.mark.parametrize("text", ["", "   ", " ; "])
def test_empty_input_is_refused(text: str) -> None:
    assert refused(text).message_id == dates.EMPTY


def test_a_weekday_that_does_not_match_is_refused() -> None:
    err = refused("mardi 3 décembre 2026 13:30")  # a Thursday
    assert err.message_id == dates.WRONG_WEEKDAY
    assert err.values == {"part": "mardi 3 décembre 2026 13:30", "weekday": "mardi"}
    assert refused("jeudi 3 et 8 décembre 2026").values["weekday"] == "jeudi"  # the 8th: Tuesday


def test_at_most_twenty_seances() -> None:
    days = [f"2027-01-{day:02d} 10:00" for day in range(1, MAX_SEANCES + 2)]
    assert len(parse_seances(";".join(days[:MAX_SEANCES]), zone=ZONE, now=NOW)) == MAX_SEANCES
    err = refused(";".join(days))
    assert err.message_id == dates.TOO_MANY
    assert err.values == {"part": days[-1], "max": MAX_SEANCES}


def test_results_are_aware_utc_and_a_naive_now_is_a_bug() -> None:
    assert one("3 déc 13 h").starts_at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        parse_seances("3 déc 13 h", zone=ZONE, now=datetime(2026, 11, 22, 12, 0))


def test_every_message_names_the_part() -> None:
    messages = [dates.UNREADABLE, dates.UNREADABLE_DAY, dates.BAD_TIME, dates.BAD_DATE]
    messages += [dates.WRONG_WEEKDAY, dates.NONEXISTENT, dates.PAST, dates.NO_TIME]
    messages += [dates.DUPLICATE, dates.TOO_MANY]
    assert all("{part}" in message for message in messages)


# --- parse_day ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01", date(2026, 9, 1)),
        ("1er septembre 2026", date(2026, 9, 1)),
        ("jeudi 3 décembre 2026", date(2026, 12, 3)),
        ("Sept 1, 2025", date(2025, 9, 1)),
        ("31 décembre", date(2026, 12, 31)),  # a missing year is the current year
        ("1er janvier", date(2026, 1, 1)),
    ],
)
def test_parse_day(text: str, expected: date) -> None:
    assert parse_day(text, zone=ZONE, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ("2026-09-01 13:30", dates.UNREADABLE_DAY),
        ("3 et 4 décembre 2026", dates.UNREADABLE_DAY),
        ("hier", dates.UNREADABLE_DAY),
        ("", dates.UNREADABLE_DAY),
        ("31 juin 2026", dates.BAD_DATE),
        ("mardi 3 décembre 2026", dates.WRONG_WEEKDAY),
    ],
)
def test_parse_day_refusals(text: str, message_id: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_day(text, zone=ZONE, now=NOW)
    assert caught.value.message_id == message_id
    assert caught.value.values["part"] == text


# --- the planning horizon --------------------------------------------------------------------


def test_a_seance_beyond_the_horizon_is_refused_with_the_limit() -> None:
    assert one("22 novembre 2029 10 h", horizon_years=3).local_date == date(2029, 11, 22)
    err = refused("23 novembre 2029 10 h", horizon_years=3)
    assert err.message_id == dates.TOO_FAR
    assert err.values == {"part": "23 novembre 2029 10 h", "years": 3, "limit": date(2029, 11, 22)}
    assert refused("3 décembre 3000 13 h 30", horizon_years=3).message_id == dates.TOO_FAR


def test_the_horizon_from_29_february_is_28_february() -> None:
    leap = datetime(2028, 2, 29, 15, 0, tzinfo=UTC)
    assert one("28 février 2031 10 h", now=leap, horizon_years=3).local_date == date(2031, 2, 28)
    assert refused("1er mars 2031 10 h", now=leap, horizon_years=3).message_id == dates.TOO_FAR


@pytest.mark.parametrize("text", ["31 décembre 9999 23 h 30", "31 décembre 9999", "1 janvier 9999"])
def test_the_last_years_of_the_calendar_give_an_answer_not_an_exception(text: str) -> None:
    """Without a horizon (the historical import), a date whose UTC instant does not exist is
    refused as such; nothing raises OverflowError."""
    try:
        parse_seances(text, zone=ZONE, now=NOW)
    except InvalidInput as err:
        assert err.message_id in (dates.NONEXISTENT, dates.BAD_DATE)


# --- ranges, noon, and days relative to today ------------------------------------------------


def test_a_time_range_gives_the_end() -> None:
    s = one("3 décembre 2026 de 13 h 30 à 15 h", duration=HOUR_AND_A_HALF * 2)
    assert (s.starts_at, s.ends_at) == (utc(2026, 12, 3, 18, 30), utc(2026, 12, 3, 20, 0))
    english = one("Dec 3, 2026 from 1:30 pm to 3 pm")
    assert english.ends_at == utc(2026, 12, 3, 20, 0)
    assert refused("3 décembre 2026 de 15 h à 13 h").message_id == dates.END_BEFORE_START
    assert refused("3 décembre 2026 de 13 h à").message_id == dates.UNREADABLE


def test_noon() -> None:
    assert one("3 décembre 2026 midi").starts_at == utc(2026, 12, 3, 17, 0)
    assert one("3 décembre 2026 à midi").local_time == time(12, 0)
    assert one("December 3, 2026 at noon").local_time == time(12, 0)


def test_days_relative_to_today() -> None:
    """NOW is Sunday 22 November 2026, 07:00 in Toronto."""
    assert one("demain 9 h").local_date == date(2026, 11, 23)
    assert one("tomorrow 9 am").local_date == date(2026, 11, 23)
    assert one("jeudi prochain 13 h 30").local_date == date(2026, 11, 26)
    assert one("next Thursday 1:30 pm").local_date == date(2026, 11, 26)
    assert one("dimanche prochain 10 h").local_date == date(2026, 11, 29)  # not today
    assert one("lundi prochain de 9 h à 10 h 30").ends_at == utc(2026, 11, 23, 15, 30)


@pytest.mark.parametrize("text", ["jeudi 13 h 30", "demain", "prochain 9 h", "jeudi prochain"])
def test_what_does_not_say_which_day_stays_refused(text: str) -> None:
    assert refused(text).message_id == dates.UNREADABLE
