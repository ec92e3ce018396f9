"""The absolute clock against Python's own zone arithmetic (zoneinfo / the IANA database)."""
import datetime as dt
import pickle
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omsim.clock import Clock, parse_local
from omsim.errors import OmsimError
from omsim.scenario import load_scenario

UTC = dt.timezone.utc
ZONES = ["UTC", "Europe/London", "America/New_York", "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata"]
instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31),
                        timezones=st.just(UTC))


def _repeated(t: dt.datetime, tz: ZoneInfo) -> bool:
    """True when ``t`` falls in the second occurrence of an hour the clocks repeat."""
    lt = t.astimezone(tz)
    return bool(lt.fold) and lt.replace(fold=0).utcoffset() != lt.utcoffset()


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from(ZONES), st.dates(min_value=dt.date(2024, 6, 1), max_value=dt.date(2026, 6, 1)))
def test_hours_are_local_wall_time_since_start_midnight(t, name, start):
    c = Clock(start, name)
    lt = t.astimezone(c.tz)
    h = c.to_hours(t)
    if not _repeated(t, c.tz):
        wall = lt.replace(tzinfo=None) - dt.datetime.combine(start, dt.time())
        assert h == pytest.approx(wall / dt.timedelta(hours=1), abs=1e-9)
        assert c.to_datetime(h).astimezone(UTC) == t      # the same instant back (PEP 495: compare in UTC)
        assert c.to_datetime(h).utcoffset() == lt.utcoffset()
    day = int(np.floor(h / 24))
    assert c.day(h) == day
    assert c.date(day) == lt.date() or _repeated(t, c.tz)
    assert c.weekday(h) == lt.weekday() or _repeated(t, c.tz)


@settings(max_examples=300, deadline=None)
@given(instants, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)), st.sampled_from(ZONES))
def test_engine_time_never_runs_backwards(t, step, name):
    c = Clock(dt.date(2025, 1, 1), name)
    assert c.to_hours(t + step) >= c.to_hours(t)


def test_spring_forward_day_has_no_engine_hours_in_the_gap():
    c = Clock(dt.date(2026, 3, 28), "Europe/London")     # Saturday; clocks go forward 01:00 GMT on Sunday 29th
    before = dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)   # 00:59 GMT
    after = dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)     # 02:00 BST
    assert c.to_hours(before) == pytest.approx(24 + 59 / 60)
    assert c.to_hours(after) == 26.0
    assert c.to_datetime(25.5) == dt.datetime(2026, 3, 29, 2, 30, tzinfo=c.tz)   # a gap time moves forward
    assert c.weekday(26.0) == 6 and c.weekday(48.0) == 0    # Sunday, then Monday at local midnight


def test_autumn_repeat_is_counted_once():
    c = Clock(dt.date(2026, 10, 24), "Europe/London")     # clocks go back 01:00 GMT on Sunday 25th
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)   # 01:30 BST
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT
    later = dt.datetime(2026, 10, 25, 2, 15, tzinfo=UTC)   # 02:15 GMT
    assert c.to_hours(first) == 25.5
    assert c.to_hours(second) == 26.0                      # held at the repeat's end, 02:00
    assert c.to_hours(later) == 26.25
    assert c.to_datetime(25.5).astimezone(UTC) == first


def test_errors_name_the_thing():
    c = Clock(dt.date(2026, 12, 1), "UTC")
    with pytest.raises(OmsimError, match="created_at.*no time zone"):
        c.to_hours(dt.datetime(2026, 12, 1, 8), "created_at")
    with pytest.raises(OmsimError, match="unknown time zone 'Mars/Olympus'"):
        Clock(dt.date(2026, 12, 1), "Mars/Olympus")
    with pytest.raises(OmsimError, match="--at: expected a date and time"):
        parse_local("yesterday", "--at")


def test_parse_local_and_vectorised_hours_agree_with_scalar():
    c = Clock(dt.date(2026, 3, 27), "America/New_York")
    assert c.parse("2026-03-27 08:00") == 8.0
    assert c.parse("2026-03-27T13:00Z") == 9.0             # 13:00 UTC is 09:00 EDT
    stamps = pd.Series(pd.date_range("2026-03-07", "2026-03-10", freq="37min", tz="UTC"))
    vec = c.hours_of(stamps)
    scalar = [c.to_hours(t.to_pydatetime()) for t in stamps]
    np.testing.assert_allclose(vec, scalar)
    naive = c.hours_of(["2026-03-28 06:00", "2026-03-29 06:00"])
    np.testing.assert_allclose(naive, [30.0, 54.0])


def test_scenario_carries_its_zone(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: z\nhorizon: {start: 2026-03-28, timezone: Europe/London}\n"
                 "demand: {regions: [{id: r, lat: 51.5, lon: -0.1}]}\n"
                 "network: {warehouses: [{id: W, lat: 52.0, lon: -1.0}]}\n")
    c = Clock.from_scenario(load_scenario(p))
    assert c == Clock(dt.date(2026, 3, 28), "Europe/London")
    assert pickle.loads(pickle.dumps(c)) == c
    p.write_text(p.read_text().replace("Europe/London", "Europe/Londres"))
    with pytest.raises(OmsimError, match=r"horizon\.timezone.*unknown time zone"):
        load_scenario(p)
