"""Whatever the order and overlap of batches, the writer stores each key once, at its latest."""

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transform.schemas import EXTRACTED_AT, LOGS, REQUESTS
from warehouse.compact import compact_table
from warehouse.journal import repair
from lake_examples import CrashAt, MemoryStorage, SimulatedCrash
from warehouse.writer import write_batch

BASE = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
STATUSES = ["pending", "processing", "completed", "failed"]

# A record is (id number, day offset, version); batches are lists of records.
records = st.tuples(st.integers(0, 15), st.integers(0, 2), st.integers(0, 5))
batches = st.lists(st.lists(records, max_size=8), min_size=1, max_size=6)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _log(number, day):
    # A log's day is a property of its id (ids embed their creation time).
    when = BASE + dt.timedelta(days=number % 3, seconds=number)
    return {"id": f"{number:024x}", "date": when, "log": f"line {number}"}


def _request(number, day, version):
    when = BASE + dt.timedelta(days=number % 3, seconds=number)
    return {
        "id": f"req-{number}",
        "time_created": when,
        "status": STATUSES[version % 4],
        "finished": version % 4 >= 2,
        EXTRACTED_AT: BASE + dt.timedelta(days=10, minutes=version),
    }


@SETTINGS
@given(batches=batches)
def test_logs_never_duplicate(frame, stored, batches):
    """Any sequence of overlapping log batches stores exactly the union of ids, once each."""
    storage = MemoryStorage()
    for batch in batches:
        write_batch(storage, LOGS, frame("logs", [_log(n, d) for n, d, _ in batch]))
    rows = stored(storage, "logs")
    expected = {_log(n, d)["id"] for batch in batches for n, d, _ in batch}
    assert rows.height == len(expected)
    assert set(rows["id"].to_list()) == expected


@SETTINGS
@given(batches=batches, compact_after=st.integers(0, 6))
def test_requests_end_at_latest_state(frame, stored, batches, compact_after):
    """Any order of request versions leaves one row per id, at its newest extraction."""
    storage = MemoryStorage()
    for index, batch in enumerate(batches):
        rows = [_request(n, d, v) for n, d, v in batch]
        write_batch(storage, REQUESTS, frame("requests", rows))
        if index == compact_after:
            compact_table(storage, REQUESTS, target_file_mb=0.001)
    got = stored(storage, "requests")
    latest: dict[str, int] = {}
    for batch in batches:
        for n, _, v in batch:
            latest[f"req-{n}"] = max(latest.get(f"req-{n}", -1), v)
    assert got.height == len(latest)
    by_id = dict(zip(got["id"].to_list(), got[EXTRACTED_AT].to_list(), strict=True))
    assert by_id == {k: _request(0, 0, v)[EXTRACTED_AT] for k, v in latest.items()}
    assert got.select(pl.col("status").cast(pl.String)).to_series().to_list() == [
        STATUSES[latest[i] % 4] for i in got["id"].to_list()
    ]


crash_points = st.lists(st.integers(0, 12), min_size=6, max_size=6)


@SETTINGS
@given(batches=batches, crashes=crash_points)
def test_crashes_between_batches_never_duplicate(frame, stored, batches, crashes):
    """Crashing a batch at any step, repairing and re-writing it keeps every record once."""
    hook = CrashAt()
    storage = MemoryStorage(hook)
    for batch, crash_at in zip(batches, crashes, strict=False):
        writes = [
            (LOGS, frame("logs", [_log(n, d) for n, d, _ in batch])),
            (REQUESTS, frame("requests", [_request(n, d, v) for n, d, v in batch])),
        ]
        for schema, rows in writes:
            hook.steps.clear()
            hook.at = crash_at
            try:
                write_batch(storage, schema, rows)
            except SimulatedCrash:
                hook.at = 0
                repair(storage)
                write_batch(storage, schema, rows)
            hook.at = 0
    logs = stored(storage, "logs")
    assert sorted(logs["id"].to_list()) == sorted(
        {_log(n, 0)["id"] for b in batches for n, _, _ in b}
    )
    got = stored(storage, "requests")
    latest: dict[str, int] = {}
    for batch in batches:
        for n, _, v in batch:
            latest[f"req-{n}"] = max(latest.get(f"req-{n}", -1), v)
    by_id = dict(zip(got["id"].to_list(), got[EXTRACTED_AT].to_list(), strict=True))
    assert by_id == {k: _request(0, 0, v)[EXTRACTED_AT] for k, v in latest.items()}
    assert got.height == len(latest)
    assert storage.list("_state/journal") == []
