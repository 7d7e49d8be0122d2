"""Compaction merges small files per partition and keeps every row exactly once."""

import datetime as dt
import hashlib

import duckdb

from warehouse import Lake, run_sql

H = dt.timedelta(hours=1)


def _files(root, table):
    return sorted((root / table).rglob("*.parquet"))


def _noise(batch, index):
    # Incompressible text, so file sizes follow row counts rather than Parquet overhead.
    return hashlib.sha512(f"{batch}-{index}".encode()).hexdigest()


def _write_small_batches(lake, frame, t0, batches=6, per_batch=50):
    for b in range(batches):
        rows = [
            {
                "id": f"{b * per_batch + i:024x}",
                "date": t0 + (i % 2) * 24 * H,
                "log": _noise(b, i),
            }
            for i in range(per_batch)
        ]
        lake.write("logs", frame("logs", rows))


def test_compaction_leaves_one_file_per_partition(root, frame, direct, t0):
    """Six batches over two days become one file per day with the same rows."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0)
    before = direct(root, "logs")
    assert len(_files(root, "logs")) == 12
    report = lake.compact("logs")
    assert (report.partitions_compacted, report.files_before, report.files_after) == (2, 12, 2)
    assert report.rows == 300
    assert direct(root, "logs") == before
    assert len(_files(root, "logs")) == 2


def test_compaction_is_idempotent(root, frame, t0):
    """A second compaction finds nothing to do and changes no file."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0)
    lake.compact()
    files = _files(root, "logs")
    assert lake.compact().partitions_compacted == 0
    assert _files(root, "logs") == files


def test_compaction_respects_the_target_size(root, frame, t0, tmp_path):
    """A target 40% of a compacted partition's size splits it into a few files, exact."""
    probe = Lake.open(tmp_path / "probe")
    _write_small_batches(probe, frame, t0, batches=8, per_batch=400)
    probe.compact("logs")
    compacted_mb = max(f.stat().st_size for f in _files(tmp_path / "probe", "logs")) / 2**20
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0, batches=8, per_batch=400)
    report = lake.compact("logs", target_file_mb=compacted_mb / 2.5)
    assert report.partitions_compacted == 2
    assert 2 * 2 <= report.files_after < report.files_before
    counts = run_sql(root, "SELECT count(*), count(DISTINCT id) FROM logs").rows
    assert counts == [(3200, 3200)]


def test_compacted_files_are_sorted_by_key(root, frame, direct, t0):
    """Compacted files hold ids in order, so footer ranges let writes skip them."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0, batches=3, per_batch=20)
    lake.compact()
    for file in _files(root, "logs"):
        ids = [r[0] for r in direct_file(file)]
        assert ids == sorted(ids)


def test_writes_after_compaction_still_deduplicate(root, frame, direct, t0):
    """Re-writing rows that were compacted adds nothing."""
    lake = Lake.open(root)
    _write_small_batches(lake, frame, t0, batches=2)
    lake.compact()
    before = _files(root, "logs")
    _write_small_batches(lake, frame, t0, batches=2)
    assert _files(root, "logs") == before


def test_snapshot_tables_are_left_alone(root, frame):
    """Snapshot tables are replaced whole each run, so compaction does not touch them."""
    lake = Lake.open(root)
    lake.write("quotas", frame("quotas", [{"resource": "deployments", "quota": 5}]))
    assert lake.compact("quotas").partitions_compacted == 0


def direct_file(path):
    """Rows of one Parquet file in stored order."""
    with duckdb.connect() as con:
        return con.execute(f"SELECT id FROM read_parquet('{path}')").fetchall()
