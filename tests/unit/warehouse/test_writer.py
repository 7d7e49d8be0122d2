"""The writer's rules on an in-memory store: schema checks, dedupe, upsert, replace."""

import datetime as dt

import polars as pl
import pytest

from transform.schemas import EXTRACTED_AT, LOGS, PROJECTS, REQUESTS
from warehouse import parquet_io
from warehouse.errors import InvalidName, SchemaMismatch
from lake_examples import MemoryStorage
from warehouse.writer import write_batch

H = dt.timedelta(hours=1)


def _ids(n, start=0):
    return [{"id": f"{i:024x}"} for i in range(start, start + n)]


def test_dedupe_write_is_idempotent(frame, stored):
    """Writing the same log batch twice stores each id once and adds no second file."""
    storage = MemoryStorage()
    first = write_batch(storage, LOGS, frame("logs", _ids(4)))
    second = write_batch(storage, LOGS, frame("logs", _ids(4)))
    rows = stored(storage, "logs")
    assert (first.rows_written, second.rows_written, second.files_added) == (4, 0, 0)
    assert sorted(rows["id"].to_list()) == [r["id"] for r in _ids(4)]


def test_dedupe_appends_only_unseen_ids(frame, stored):
    """An overlapping batch adds a file holding only the ids not stored yet."""
    storage = MemoryStorage()
    write_batch(storage, LOGS, frame("logs", _ids(3)))
    result = write_batch(storage, LOGS, frame("logs", _ids(3, start=2)))
    rows = stored(storage, "logs")
    assert result.rows_written == 2
    assert rows["id"].n_unique() == rows.height == 5


def test_dedupe_never_changes_a_stored_row(frame, stored):
    """A later copy of a stored log with other content does not replace the stored one."""
    storage = MemoryStorage()
    write_batch(storage, LOGS, frame("logs", [{"id": "a" * 24, "log": "first"}]))
    write_batch(storage, LOGS, frame("logs", [{"id": "a" * 24, "log": "second"}]))
    assert stored(storage, "logs")["log"].to_list() == ["first"]


def test_partitions_follow_project_and_day(frame, stored, t0):
    """Rows land in the folder of their project and the UTC day of their timestamp."""
    storage = MemoryStorage()
    rows = [{"id": "1" * 24, "project": "b"}, {"id": "2" * 24, "date": t0 + 24 * H}]
    write_batch(storage, LOGS, frame("logs", rows))
    folders = sorted({k.rsplit("/", 1)[0] for k in storage.list("logs")})
    day, next_day = t0.date(), (t0 + 24 * H).date()
    assert folders == [f"logs/project=alpha/day={next_day}", f"logs/project=b/day={day}"]


def test_files_hold_no_partition_columns(frame, stored):
    """Partition keys live in the path only, never inside the files."""
    storage = MemoryStorage()
    write_batch(storage, LOGS, frame("logs", _ids(1)))
    columns = stored(storage, "logs").columns
    assert "project" not in columns
    assert "day" not in columns
    assert columns[:-1] == LOGS.file_columns


def test_upsert_newer_version_rewrites_partition(frame, stored, t0):
    """A newer version of a stored request replaces it; the partition is rewritten whole."""
    storage = MemoryStorage()
    write_batch(storage, REQUESTS, frame("requests", [{"id": "r1"}, {"id": "r2"}]))
    update = {"id": "r1", "status": "completed", "finished": True, EXTRACTED_AT: t0 + H}
    result = write_batch(storage, REQUESTS, frame("requests", [update]))
    rows = stored(storage, "requests").sort("id")
    assert (result.rows_updated, result.files_removed) == (1, 1)
    assert rows["status"].to_list() == ["completed", "pending"]
    assert rows["file"].n_unique() == 1


def test_upsert_ignores_older_version(frame, stored, t0):
    """A stale version (older _extracted_at) never overwrites the newer stored one."""
    storage = MemoryStorage()
    done = {"id": "r1", "status": "completed", "finished": True, EXTRACTED_AT: t0 + H}
    write_batch(storage, REQUESTS, frame("requests", [done]))
    result = write_batch(storage, REQUESTS, frame("requests", [{"id": "r1"}]))
    assert result.rows_written == 0
    assert stored(storage, "requests")["status"].to_list() == ["completed"]


def test_upsert_new_ids_append_without_rewrite(frame, stored):
    """Requests not stored yet are appended as a file; existing files stay untouched."""
    storage = MemoryStorage()
    write_batch(storage, REQUESTS, frame("requests", [{"id": "r1"}]))
    before = set(storage.list("requests"))
    result = write_batch(storage, REQUESTS, frame("requests", [{"id": "r2"}]))
    assert result.files_removed == 0
    assert before < set(storage.list("requests"))


def test_replace_swaps_a_projects_snapshot(frame, stored, t0):
    """A new snapshot replaces the project's rows; other projects keep theirs."""
    storage = MemoryStorage()
    write_batch(storage, PROJECTS, frame("projects", [{"id": "old"}, {"project": "b", "id": "b"}]))
    write_batch(storage, PROJECTS, frame("projects", [{"id": "new", EXTRACTED_AT: t0 + H}]))
    rows = stored(storage, "projects")
    assert sorted(rows["id"].to_list()) == ["b", "new"]


def test_replace_projects_empties_a_vanished_snapshot(frame, stored):
    """Naming a project in replace_projects with no rows leaves it with zero rows."""
    storage = MemoryStorage()
    write_batch(storage, PROJECTS, frame("projects", [{"id": "x"}]))
    write_batch(storage, PROJECTS, frame("projects", []), replace_projects=["alpha"])
    assert stored(storage, "projects").height == 0
    assert len(storage.list("projects")) == 1


def test_replace_projects_is_refused_for_event_tables(frame):
    """replace_projects on an event table is a caller error, not silently ignored."""
    with pytest.raises(ValueError, match="snapshot"):
        write_batch(MemoryStorage(), LOGS, frame("logs", []), replace_projects=["alpha"])


def test_columns_in_other_order_are_accepted(frame, stored):
    """A frame with the declared columns in another order is written in declared order."""
    storage = MemoryStorage()
    batch = frame("logs", _ids(1))
    write_batch(storage, LOGS, batch.select(reversed(batch.columns)))
    assert stored(storage, "logs").columns[:-1] == LOGS.file_columns


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("level"), "missing"),
        (lambda f: f.with_columns(pl.lit(1).alias("surprise")), "extra"),
        (lambda f: f.with_columns(pl.col("system").cast(pl.String)), "wrong types"),
        (lambda f: f.with_columns(pl.lit(None, pl.String).alias("id")), "nulls"),
        (lambda f: f.with_columns(pl.col("day") + dt.timedelta(days=1)), "day"),
    ],
)
def test_frames_off_schema_are_refused(frame, change, message):
    """A frame that is not exactly the declared schema is refused with what differs."""
    storage = MemoryStorage()
    with pytest.raises(SchemaMismatch, match=message):
        write_batch(storage, LOGS, change(frame("logs", _ids(2))))
    assert storage.files == {}


def test_invalid_project_never_becomes_a_path(frame):
    """A project name with a path separator is refused before anything is written."""
    storage = MemoryStorage()
    with pytest.raises(InvalidName):
        write_batch(storage, LOGS, frame("logs", [{"id": "a" * 24, "project": "../etc"}]))
    assert storage.files == {}


def test_result_counts_rows_in_before_collapse(frame):
    """rows_in counts what the caller passed, rows_written what was new."""
    result = write_batch(MemoryStorage(), LOGS, frame("logs", _ids(2) + _ids(2)))
    assert (result.rows_in, result.rows_written) == (4, 2)


def test_empty_batch_writes_nothing(frame):
    """An empty frame is a no-op: no file, no journal entry."""
    storage = MemoryStorage()
    result = write_batch(storage, LOGS, frame("logs", []))
    assert (result.rows_in, result.files_added) == (0, 0)
    assert storage.files == {}


def test_old_files_without_a_new_column_still_upsert(frame, stored, t0):
    """A file written before a column existed is rewritten with that column as null."""
    storage = MemoryStorage()
    old = frame("requests", [{"id": "r1"}, {"id": "r2"}]).drop("_extra")
    storage.files["requests/project=alpha/day=2026-03-01/0.parquet"] = parquet_io.encode(
        old.drop("project", "day")
    )
    update = {"id": "r1", "status": "completed", "finished": True, EXTRACTED_AT: t0 + H}
    write_batch(storage, REQUESTS, frame("requests", [update]))
    rows = stored(storage, "requests").sort("id")
    assert rows["status"].to_list() == ["completed", "pending"]
    assert rows["_extra"].to_list() == [None, None]


def test_same_run_status_change_is_kept(frame, stored):
    """Two batches of one run (same _extracted_at) moving a request on: the later one wins."""
    storage = MemoryStorage()
    write_batch(storage, REQUESTS, frame("requests", [{"id": "r1"}]))
    done = {"id": "r1", "status": "failed", "finished": True, "success": False}
    result = write_batch(storage, REQUESTS, frame("requests", [done]))
    again = write_batch(storage, REQUESTS, frame("requests", [done]))
    assert result.rows_updated == 1
    assert (again.rows_written, again.files_added) == (0, 0)
    assert stored(storage, "requests")["status"].to_list() == ["failed"]
