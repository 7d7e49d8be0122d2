"""Compaction bin-packs small files per partition, keeps every row exactly once, and the
sweep deletes what it replaced; a (project, stream) another run holds is left alone."""

import datetime as dt
import hashlib

import pytest
from lake_examples import data_files

from warehouse import Lake, LeaseBusy, run_sql

H = dt.timedelta(hours=1)


def _noise(batch, index):
    # Incompressible text, so file sizes follow row counts rather than Parquet overhead.
    return hashlib.sha512(f"{batch}-{index}".encode()).hexdigest()


def _write_small_batches(lake, frame, t0, batches=6, per_batch=50, project="alpha"):
    for b in range(batches):
        rows = [
            {
                "id": f"{b * per_batch + i:024x}",
                "date": t0 + (i % 2) * 24 * H,
                "log": _noise(b, i),
                "project": project,
            }
            for i in range(per_batch)
        ]
        lake.write("logs", frame("logs", rows))


def test_compaction_leaves_one_file_per_partition(root, frame, direct, t0):
    """Six commits over two days become one file per day with the same rows, and the plain
    Parquet glob sees exactly those two files."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0)
    before = direct(root, "logs")
    assert len(data_files(root, "logs")) == 12
    report = lake.compact("run-1", "logs")
    assert (report.projects, report.files_removed, report.files_added) == (1, 12, 2)
    assert report.files_swept == 12
    assert direct(root, "logs") == before
    assert len(data_files(root, "logs")) == 2
    assert run_sql(root, "SELECT count(*), count(DISTINCT id) FROM logs").rows == [(300, 300)]


def test_compaction_is_idempotent(root, frame, t0):
    """A second compaction finds nothing to merge and changes no file."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0)
    lake.compact("run-1")
    files = data_files(root, "logs")
    report = lake.compact("run-2")
    assert (report.files_removed, report.files_added, report.files_swept) == (0, 0, 0)
    assert data_files(root, "logs") == files


def test_writes_after_compaction_still_deduplicate(root, frame, direct, t0):
    """Re-writing rows that were compacted adds no file and no row."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0, batches=2)
    lake.compact("run-1")
    before = data_files(root, "logs")
    _write_small_batches(lake, frame, t0, batches=2)
    assert data_files(root, "logs") == before


def test_compaction_skips_a_project_another_run_is_writing(root, frame, t0):
    """A project whose logs lease is held elsewhere is reported busy and not touched; the
    other projects are compacted."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0, batches=3, project="alpha")
    _write_small_batches(lake, frame, t0, batches=3, project="beta")
    with lake.lease("alpha", "logs", "other-run"):
        report = lake.compact("run-1", "logs")
    assert report.skipped_busy == ("alpha/logs",)
    assert report.projects == 1
    alpha = [f for f in data_files(root, "logs") if "project=alpha/" in f]
    assert len(alpha) == 6


def test_a_held_lease_refuses_a_second_writer(root):
    """While one run holds (project, stream), another's attempt says who holds it."""
    lake = Lake.open(root)
    with lake.lease("alpha", "logs", "first"), pytest.raises(LeaseBusy, match="alpha/logs"):
        lake.leases.take("alpha/logs", "second")
    assert lake.leases.holder("alpha/logs") is None  # released on exit
