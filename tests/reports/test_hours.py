"""Business hours: the seconds of a wait that fall inside a brand's open hours."""
from datetime import datetime

from app.reports.hours import business_seconds, open_intervals

WEEKDAYS_9_TO_18 = {day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_no_hours_means_open_around_the_clock():
    assert business_seconds(datetime(2026, 3, 2, 10), datetime(2026, 3, 2, 11), "UTC", {}) \
        == 3600


def test_a_wait_across_midnight_counts_the_evening_and_the_morning():
    # Monday 17:00 to Tuesday 10:00 in Istanbul (UTC+3): an hour each side of the night.
    start, end = datetime(2026, 3, 2, 14), datetime(2026, 3, 3, 7)
    assert business_seconds(start, end, "Europe/Istanbul", WEEKDAYS_9_TO_18) == 7200


def test_a_weekend_counts_nothing():
    # Friday 17:30 to Monday 09:30 in Istanbul: half an hour on Friday, half on Monday.
    start, end = datetime(2026, 3, 6, 14, 30), datetime(2026, 3, 9, 6, 30)
    assert business_seconds(start, end, "Europe/Istanbul", WEEKDAYS_9_TO_18) == 3600


def test_a_wait_while_closed_counts_nothing_and_a_reversed_one_zero():
    start, end = datetime(2026, 3, 7, 8), datetime(2026, 3, 7, 12)  # a Saturday
    assert business_seconds(start, end, "Europe/Istanbul", WEEKDAYS_9_TO_18) == 0
    assert business_seconds(end, start, "UTC", {}) == 0


def test_the_same_utc_wait_depends_on_the_zone():
    # 05:00-08:00 UTC on a Monday: 08:00-11:00 in Istanbul (two open hours), 14:00-17:00 in
    # Tokyo (three), and midnight to 03:00 in New York (none).
    start, end = datetime(2026, 3, 2, 5), datetime(2026, 3, 2, 8)
    assert business_seconds(start, end, "Europe/Istanbul", WEEKDAYS_9_TO_18) == 7200
    assert business_seconds(start, end, "Asia/Tokyo", WEEKDAYS_9_TO_18) == 10800
    assert business_seconds(start, end, "America/New_York", WEEKDAYS_9_TO_18) == 0


def test_a_daylight_saving_change_keeps_the_real_length_of_the_day():
    # New York springs forward at 02:00 on Sunday 8 March 2026: 01:00-04:00 lasts two hours.
    hours = {"sun": ["01:00", "04:00"]}
    assert open_intervals(datetime(2026, 3, 8), datetime(2026, 3, 9), "America/New_York",
                          hours) == [(datetime(2026, 3, 8, 6), datetime(2026, 3, 8, 8))]


def test_hours_past_midnight_run_into_the_next_day():
    hours = {"fri": ["22:00", "02:00"]}
    start, end = datetime(2026, 3, 6, 21), datetime(2026, 3, 7, 3)  # UTC, zone UTC
    assert business_seconds(start, end, "UTC", hours) == 4 * 3600
