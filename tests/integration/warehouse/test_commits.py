"""What makes a commit exact: uploads that never committed are invisible and swept, schemas
grow without rewriting old files, and each batch is one version of the table."""

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake
from lake_examples import data_files

from transform.schemas import LOGS, SCHEMAS
from warehouse import Lake, LakeLocation, run_sql, tables
from warehouse.errors import StorageError
from warehouse.merge import stored_keys_predicate
from warehouse.objects import ObjectStore
from warehouse.tables import DeltaTables, to_arrow


def test_an_upload_whose_commit_never_landed_is_invisible_and_swept(root, frame, direct):
    """A run killed after uploading a data file but before its commit leaves an orphan: the
    views never read it, and the next sweep of that project deletes it."""
    lake = Lake.open(root)
    lake.write("logs", frame("logs", [{"id": "a" * 24}]))
    orphan = frame("logs", [{"id": "b" * 24}]).drop("project", "day")
    buffer = io.BytesIO()
    orphan.write_parquet(buffer)
    key = "logs/project=alpha/day=2026-03-01/part-00000-killed-before-commit.zstd.parquet"
    lake.store.put(key, buffer.getvalue())
    assert run_sql(root, "SELECT id FROM logs").rows == [("a" * 24,)]
    assert len(direct(root, "logs", "id")) == 2  # a plain glob sees it until the sweep
    assert lake.sweep("alpha", "logs") == 1
    assert direct(root, "logs", "id") == [("a" * 24,)]


def test_the_sweep_keeps_replaced_files_for_time_travel_when_asked(root, frame):
    """With a retention, files a commit replaced stay for readers of older versions."""
    lake = Lake.open(root, keep_removed=dt.timedelta(days=7))
    lake.write("requests", frame("requests", [{"id": "r1"}]))
    lake.write("requests", frame("requests", [{"id": "r1", "status": "processing"}]))
    assert lake.sweep("alpha", "requests") == 0
    assert len(data_files(root, "requests")) == 2
    table = lake.tables.load("requests")
    assert table is not None
    old = pl.DataFrame(
        pl.from_arrow(
            __import__("deltalake")
            .DeltaTable(table.table_uri, version=1, storage_options=root.delta_options())
            .to_pyarrow_table()
        )
    )
    assert old.get_column("status").to_list() == ["pending"]


@pytest.mark.parametrize("table", ["logs", "requests"])
def test_a_column_added_to_a_schema_joins_an_existing_table(root, frame, table):
    """A table created before a column was declared takes the column (a metadata-only
    commit) when it is next written, by an append or a merge; older rows read it as null."""
    lake = Lake.open(root)
    schema = SCHEMAS[table]
    older = to_arrow(frame(table, [{"id": "a" * 24}]).drop("_extra"))
    write_deltalake(
        root.join(table),
        older,
        partition_by=list(schema.partition_keys),
        storage_options=root.delta_options(),
    )
    lake.write(table, frame(table, [{"id": "b" * 24, "_extra": '{"new": 1}'}]))
    rows = run_sql(root, f"SELECT id, _extra FROM {table} ORDER BY id").rows
    assert rows == [("a" * 24, None), ("b" * 24, '{"new": 1}')]
    stored = lake.tables.load(table)
    assert stored is not None
    assert "_extra" in {f.name for f in stored.schema().fields}


def test_each_batch_is_one_version(root, frame):
    """One write is one Delta commit, so a reader sees a batch entirely or not at all."""
    lake = Lake.open(root)
    lake.write("logs", frame("logs", [{"id": f"{i:024x}"} for i in range(50)]))
    first = lake.tables.load("logs")
    assert first is not None
    lake.write("logs", frame("logs", [{"id": f"{i:024x}"} for i in range(40, 90)]))
    second = lake.tables.load("logs")
    assert second is not None
    assert second.version() == first.version() + 1
    assert run_sql(root, "SELECT count(*) FROM logs").rows == [(90,)]


def test_a_store_failure_is_a_storage_error_that_names_the_object(tmp_path):
    """A refused write (here: a file where a folder must be) becomes StorageError with the
    object's location, which the CLI reports in one line; no raw store exception escapes."""
    root = LakeLocation.parse(tmp_path / "lake")
    lake = Lake.open(root)
    Path(root.uri, "_state", "streams").mkdir(parents=True, exist_ok=True)
    Path(root.uri, "_state", "streams", "alpha").write_text("not a folder")
    with pytest.raises(StorageError, match="alpha"):
        lake.state.commit("alpha", "logs", {"cursor": 1})


class StaleTables(DeltaTables):
    """A writer whose table handle stays at the version it read first, like a second run of
    the same project that read the table before another's commit landed (a lease holder
    paused past its lease, say)."""

    def __init__(self, location: LakeLocation, store: ObjectStore, stale: DeltaTable) -> None:
        super().__init__(location, store)
        self._stale = stale

    def ensure(self, folder: str, schema: pl.Schema, partition_by: list[str]) -> DeltaTable:
        return self._stale


def test_two_writers_of_one_project_that_read_one_version_store_each_id_once(root, frame):
    """Insert-if-absent is an anti-join plus an append: a writer whose keys were read before
    a concurrent commit of the same project is refused by the project's fence, re-reads the
    keys and appends nothing twice."""
    lake = Lake.open(root)
    lake.write("logs", frame("logs", [{"id": "0" * 24}]))
    stale = lake.tables.load("logs")
    assert stale is not None
    batch = frame("logs", [{"id": f"{i:024d}"} for i in range(1, 6)])
    first = lake.write("logs", batch)
    late = StaleTables(root, lake.store, stale).write(LOGS, batch)
    assert (first.rows_written, late.rows_written) == (5, 0)
    assert run_sql(root, "SELECT count(*), count(DISTINCT id) FROM logs").rows == [(6, 6)]


def test_writers_of_different_projects_append_from_one_version(root, frame):
    """The fence is per project: a writer of another project that read the same version
    commits its rows without being refused."""
    lake = Lake.open(root)
    lake.write("logs", frame("logs", [{"id": "0" * 24}]))
    stale = lake.tables.load("logs")
    assert stale is not None
    lake.write("logs", frame("logs", [{"id": "1" * 24}]))
    beta = frame("logs", [{"id": "1" * 24, "project": "beta"}])
    assert StaleTables(root, lake.store, stale).write(LOGS, beta).rows_written == 1
    assert run_sql(root, "SELECT project, id FROM logs ORDER BY ALL").rows == [
        ("alpha", "0" * 24),
        ("alpha", "1" * 24),
        ("beta", "1" * 24),
    ]


def test_a_writer_keeps_its_table_open_and_sees_other_writers_commits(root, frame):
    """A lake keeps one open handle per table and thread, brought up to date before each
    batch: another writer's commit is seen, so its rows are not written twice."""
    first, second = Lake.open(root), Lake.open(root)
    first.write("logs", frame("logs", [{"id": "0" * 24}]))
    handle = first.tables.ensure("logs", LOGS.polars_schema, list(LOGS.partition_keys))
    second.write("logs", frame("logs", [{"id": "1" * 24}]))
    again = first.tables.ensure("logs", LOGS.polars_schema, list(LOGS.partition_keys))
    assert again is handle
    latest = DeltaTable(root.join("logs"), storage_options=root.delta_options()).version()
    assert again.version() == latest
    assert first.write("logs", frame("logs", [{"id": "1" * 24}])).rows_written == 0


def test_a_handle_is_reopened_after_reopen_after_versions(root, frame, monkeypatch):
    """delta-rs makes commits through a long-lived handle dearer with every version it
    applied, so the lake opens the table afresh after REOPEN_AFTER versions."""
    monkeypatch.setattr(tables, "REOPEN_AFTER", 3)
    lake = Lake.open(root)
    keys = list(LOGS.partition_keys)
    lake.write("logs", frame("logs", [{"id": "0" * 24}]))
    opened = lake.tables.ensure("logs", LOGS.polars_schema, keys)
    for i in range(1, 3):
        lake.write("logs", frame("logs", [{"id": f"{i:024d}"}]))
    reopened = lake.tables.ensure("logs", LOGS.polars_schema, keys)
    assert reopened is not opened
    assert lake.tables.ensure("logs", LOGS.polars_schema, keys) is reopened
    assert run_sql(root, "SELECT count(*), count(DISTINCT id) FROM logs").rows == [(3, 3)]


def test_threads_do_not_share_a_handle(root, frame):
    """A Sink writes from worker threads: each thread gets its own handle."""
    lake = Lake.open(root)
    lake.write("logs", frame("logs", [{"id": "0" * 24}]))
    keys = list(LOGS.partition_keys)
    here = lake.tables.ensure("logs", LOGS.polars_schema, keys)
    with ThreadPoolExecutor(1) as pool:
        there = pool.submit(lake.tables.ensure, "logs", LOGS.polars_schema, keys).result()
    assert there is not here
    assert there.version() == here.version()


def test_columns_whose_values_rarely_repeat_are_written_without_a_dictionary(tmp_path, frame):
    """Dictionary pages only where values repeat: the schema's distinct columns are plain,
    the columns the marts filter and group by keep their dictionaries."""
    import pyarrow.parquet as pq

    from transform.schemas import SCHEMAS

    root = LakeLocation.parse(tmp_path / "lake")
    Lake.open(root).write("logs", frame("logs", [{"id": f"{i:024d}"} for i in range(50)]))
    (path,) = data_files(root, "logs")
    group = pq.ParquetFile(path).metadata.row_group(0)
    dictionary = {
        group.column(i).path_in_schema: group.column(i).has_dictionary_page
        for i in range(group.num_columns)
    }
    distinct = {c.name for c in SCHEMAS["logs"].columns if c.distinct}
    assert {"id", "log", "date"} <= distinct
    assert not any(dictionary[name] for name in distinct if name in dictionary)
    assert dictionary["level"]
    assert dictionary["deployment_name"]


def test_an_insert_if_absent_reads_only_the_files_whose_id_range_meets_the_batch(root, frame):
    """Three commits into one day leave three files with disjoint id ranges: a batch in the
    middle range opens one of them, and still stores only the ids not there yet."""
    lake = Lake.open(root)
    for start in (0, 10, 20):
        lake.write("logs", frame("logs", [{"id": f"{i:024d}"} for i in range(start, start + 5)]))
    batch = frame("logs", [{"id": f"{i:024d}"} for i in range(12, 17)])
    table = lake.tables.ensure("logs", LOGS.polars_schema, list(LOGS.partition_keys))
    partitions = [tuple(r) for r in batch.select(LOGS.partition_keys).unique().iter_rows()]
    predicate = stored_keys_predicate(LOGS, partitions, batch)
    assert (
        len(list(table.to_pyarrow_dataset(file_pruning_predicate=predicate).get_fragments())) == 1
    )
    assert lake.write("logs", batch).rows_written == 2
    assert run_sql(root, "SELECT count(*), count(DISTINCT id) FROM logs").rows == [(17, 17)]


def test_tables_checkpoint_every_ten_versions(root, frame):
    """delta-rs reads every commit since the last checkpoint to open a table or bring a
    handle up to date: the lake's tables checkpoint every 10 versions, not every 100."""
    lake = Lake.open(root)
    for i in range(12):
        lake.write("logs", frame("logs", [{"id": f"{i:024d}"}]))
    table = lake.tables.load("logs")
    assert table is not None
    assert table.metadata().configuration["delta.checkpointInterval"] == "10"
    log = [info.key for info in lake.store.list("logs/_delta_log")]
    assert any(key.endswith(".checkpoint.parquet") for key in log)
    assert run_sql(root, "SELECT count(*) FROM logs").rows == [(12,)]


def test_a_table_made_elsewhere_gets_the_checkpoint_interval_unless_it_has_one(root, frame):
    """A table an earlier version (or another tool) created takes the property when the lake
    first writes it; an interval its owner chose is kept."""
    lake = Lake.open(root)
    for table, configuration in (("logs", None), ("requests", {"delta.checkpointInterval": "50"})):
        write_deltalake(
            root.join(table),
            to_arrow(frame(table, [{"id": "a" * 24}])),
            partition_by=list(SCHEMAS[table].partition_keys),
            configuration=configuration,
            storage_options=root.delta_options(),
        )
        lake.write(table, frame(table, [{"id": "b" * 24}]))
    intervals = {}
    for table in ("logs", "requests"):
        loaded = lake.tables.load(table)
        assert loaded is not None
        intervals[table] = loaded.metadata().configuration.get("delta.checkpointInterval")
    assert intervals == {"logs": "10", "requests": "50"}
