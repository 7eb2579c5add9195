"""A small example suite in the shape of a scientific project's: most tests use a little
memory, one blows up (an ensemble far too large, as in the guide's "Sudden Spike"), one
leaks 8 MB. Run under wcmem-sandbox, the blow-up is OOM-killed in its own cgroup, named,
and the tests after it still run:

    wcmem-sandbox --limit 512M --test-limit 256M -- python3 -m pytest -q etc/example
"""
import array
import math

import pytest


def daily_means(days, stations):
    """A year of fake temperatures, as one flat array of doubles (8 bytes each)."""
    series = array.array("d", (10 + 8 * math.sin(d / 58.0) for d in range(days)))
    return array.array("d", series) * stations


def test_annual_cycle():
    series = daily_means(365, 1)
    assert max(series) > min(series)


@pytest.mark.parametrize("stations", [10, 200])
def test_station_network(stations):
    data = daily_means(365, stations)  # at most 365 x 200 doubles: about 0.6 MB
    assert len(data) == 365 * stations


def test_ensemble_blowup():
    # 200 ensemble members of 40 years at 2,000 stations, all at once: 1.1 GB of doubles
    # and growing. This is the test that used to take the developer's editor down.
    members = []
    for member in range(200):
        members.append(bytearray(8 * 365 * 40 * 2000 // 100))  # 2.3 MB each...
        members.append(bytearray(64 << 20))                     # ...and its 64 MB workspace
    assert len(members) == 400


def test_after_the_blowup_still_runs():
    assert sum(daily_means(30, 2)) > 0


def test_resampling():
    buf = bytearray(32 << 20)  # a 32 MB scratch buffer, well within the limit
    assert len(buf) == 32 << 20


# What a module-level cache does to a long suite (the guide's "Gradual Memory Growth"): the
# test ends, its 8 MB stay held. `wcmem-sandbox analyze` names it under "left behind".
_station_cache = []


def test_leaks_station_cache():
    _station_cache.append(bytearray(8 << 20))
    assert len(_station_cache[-1]) == 8 << 20
