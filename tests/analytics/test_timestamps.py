"""The UTC offset changes the SQL time arithmetic is built from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from server.analytics.timestamps import offset_spans

YEAR = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
BERLIN_SPRING = datetime(2026, 3, 29, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def test_offset_spans_find_each_change_to_the_microsecond() -> None:
    assert offset_spans(ZoneInfo("Europe/Berlin"), *YEAR) == [
        (YEAR[0], 3600),
        (BERLIN_SPRING, 7200),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 3600),
    ]
    assert offset_spans(ZoneInfo("Asia/Kolkata"), *YEAR) == [(YEAR[0], 19800)]


def test_a_change_right_after_a_sample_is_not_found_late() -> None:
    start = BERLIN_SPRING - timedelta(days=1) - US  # the first sample lands 1 µs before it
    spans = offset_spans(ZoneInfo("Europe/Berlin"), start, BERLIN_SPRING + timedelta(days=1))
    assert spans == [(start, 3600), (BERLIN_SPRING, 7200)]


def test_a_change_at_either_end_of_the_range() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert offset_spans(berlin, BERLIN_SPRING, BERLIN_SPRING + US) == [(BERLIN_SPRING, 7200)]
    assert offset_spans(berlin, BERLIN_SPRING - US, BERLIN_SPRING) == [(BERLIN_SPRING - US, 3600)]


def test_a_range_at_the_end_of_the_calendar_has_spans() -> None:
    start, end = datetime(9999, 12, 30, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)
    # Past 9999-12-31T10:00Z, +14:00 has no local date: the spans go on (as UTC), no error.
    assert offset_spans(ZoneInfo("Pacific/Kiritimati"), start, end)[0] == (start, 14 * 3600)


def test_offset_spans_agree_with_zoneinfo_hour_by_hour() -> None:
    for name in ("America/St_Johns", "Australia/Lord_Howe", "Pacific/Chatham", "Africa/Casablanca"):
        zone = ZoneInfo(name)
        spans = offset_spans(zone, *YEAR)
        for (_, before), (since, offset) in pairwise(spans):
            assert (since - US).astimezone(zone).utcoffset() == timedelta(seconds=before)
            assert since.astimezone(zone).utcoffset() == timedelta(seconds=offset)
        at = YEAR[0]
        while at < YEAR[1]:
            in_force = [offset for since, offset in spans if since <= at][-1]
            assert at.astimezone(zone).utcoffset() == timedelta(seconds=in_force), (name, at)
            at += timedelta(hours=1)
