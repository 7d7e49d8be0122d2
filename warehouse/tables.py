"""Delta tables: one atomic commit per batch, the live files of a table, compaction, sweeping.

Every data table and every rejects table is a Delta table written with delta-rs. A batch is
one commit: logs and audit events insert only keys not yet stored, requests are upserted
(newest `_extracted_at` wins), snapshots overwrite their projects' rows. Each reads only the
partitions the batch touches. A commit that meets a concurrent one is retried on the new
table version; delta-rs commits with a conditional put, so two commits never both land as
the same version.

Insert-if-absent is an anti-join against the stored keys of the touched partitions (of
their files whose key range meets the batch's) and a plain append (a Delta merge costs three
times as much CPU, bench/lake.md). An append does not conflict with other appends, so each
one carries a Delta application transaction per project it writes
(`ubiops-etl/<table>/<project>`): two writers of one project's table that read the same
version cannot both commit, the second is retried and re-reads the keys the first one
stored. The (project, stream) lease keeps that rare; the fence makes it harmless.

Appends (logs, audit events, rejects) upload one Parquet file per partition written by
pyarrow (`warehouse.files`) and commit them as Delta add actions; upserts, replacements and
compaction are delta-rs's own operations. A table takes the columns its declared schema
gained since it was created (a metadata-only commit) before it is next written, so every
write finds the columns it writes, and checkpoints every 10 versions (CHECKPOINT_EVERY).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import unquote

from deltalake import (
    ColumnProperties,
    CommitProperties,
    DeltaTable,
    Field,
    Transaction,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from transform.schemas import SCHEMAS, TableSchema, rejects_schema
from warehouse.errors import SchemaMismatch, StorageError
from warehouse.layout import partition_prefix, rejects_key, validate_project
from warehouse.location import LakeLocation
from warehouse.merge import (
    SOURCE,
    TARGET,
    collapse_batch,
    match_predicate,
    partitions_of,
    replace_predicate,
    stored_keys_predicate,
    supersedes_predicate,
)
from warehouse.objects import ObjectStore

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from tenacity import Retrying

# polars, pyarrow and tenacity are imported where a table is written: `status` and `sql`
# only read tables' versions and start without them (tests/integration/flows/
# test_cli_imports.py).

T = TypeVar("T")
P = ParamSpec("P")
PLAIN_COLUMNS = frozenset(c.name for s in SCHEMAS.values() for c in s.columns if c.distinct)
"""Columns written without dictionary pages, by both writers (see WRITER)."""
WRITER = WriterProperties(
    compression="ZSTD",
    max_row_group_size=128 * 1024,
    # delta-rs dictionary-encodes every column by default. For a column whose values rarely
    # repeat (ids, log lines, instants) each page fills a dictionary and then falls back to
    # plain: without one, logs are written with less CPU into files 2.6x smaller, while
    # the marts keep the dictionaries of the columns they filter and group by
    # (bench/lake-analysis.md, "Update, 2026-12-01"). Column names mean one thing in every
    # table, so one set of names serves them all.
    column_properties={
        name: ColumnProperties(dictionary_enabled=False) for name in sorted(PLAIN_COLUMNS)
    },
)
COMMIT_ATTEMPTS = 10
# An open handle costs less per commit than opening the table (which replays the log since
# the last checkpoint), but delta-rs makes each commit through a handle dearer with every
# version it has applied. Reopened after this many (delta-rs checkpoints every 100 by
# default), commits cost half what they cost when the table is opened for each one
# (bench/lake-analysis.md, "Update, 2026-12-01").
REOPEN_AFTER = 100
CHECKPOINT_EVERY = {"delta.checkpointInterval": "10"}
"""Table properties the lake sets on every table (one it did not create too, unless the
property is already set there). delta-rs reads every commit since the last checkpoint to
bring a handle up to date or open a table; checkpointing every 10 versions instead of
delta-rs's 100 keeps that short: 1,000,000 logs appended to a table 60 versions past its
last checkpoint cost 4.12 CPU s against 2.92 into a fresh table before, 2.14 against 2.27
now (bench/delta-depth.md, read in bench/lake-analysis.md, "Update, 2026-12-01 evening")."""
DEFAULT_TARGET_MB = 128.0
APP = {"writer": "ubiops-etl"}


@dataclass(frozen=True)
class WriteResult:
    """What one `write` did; rows_written counts new rows plus updated ones."""

    table: str
    rows_in: int
    rows_written: int
    rows_updated: int
    partitions: int


@dataclass(frozen=True)
class TableVersion:
    """What a reader needs of a table's current version."""

    files: list[str]
    columns: frozenset[str]
    """Columns of the table's schema: a column declared later is absent until written."""


def check_frame(schema: TableSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Return `frame` with the declared column order, or SchemaMismatch saying what differs."""
    import polars as pl

    expected = schema.polars_schema
    actual = frame.schema  # polars builds the schema anew on every access
    missing = [n for n in expected.names() if n not in actual]
    extra = [n for n in actual.names() if n not in expected]
    wrong = [
        f"{n}: {actual[n]} (declared {expected[n]})"
        for n in expected.names()
        if n in actual and actual[n] != expected[n]
    ]
    if missing or extra or wrong:
        raise SchemaMismatch(
            f"frame for {schema.name} does not match its schema: missing={missing} "
            f"extra={extra} wrong types={wrong}"
        )
    frame = frame.select(expected.names())
    required = [c.name for c in schema.columns if not c.nullable]
    nulls = frame.select(pl.col(required).null_count()).row(0, named=True)
    if bad := [n for n, count in nulls.items() if count]:
        raise SchemaMismatch(f"frame for {schema.name} has nulls in required columns {bad}")
    if schema.day_from is not None:
        off = frame.filter(pl.col(schema.day_from).dt.date() != pl.col("day")).height
        if off:
            raise SchemaMismatch(f"{off} {schema.name} rows have a day not of {schema.day_from}")
    for project in frame.get_column("project").unique().to_list():
        validate_project(project)
    return frame


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    """The frame as Arrow with plain types Delta stores (enums as strings)."""
    import polars as pl

    enums = [n for n, t in frame.schema.items() if isinstance(t, pl.Enum | pl.Categorical)]
    plain = frame.with_columns(pl.col(enums).cast(pl.String)) if enums else frame
    return plain.to_arrow(compat_level=pl.CompatLevel.oldest())


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    """The Arrow schema a table with the polars `schema` is created with."""
    import polars as pl

    return to_arrow(pl.DataFrame(schema=schema)).schema


def _stored(method: Callable[P, T]) -> Callable[P, T]:
    """Failures of delta-rs or the store become StorageError, which callers report in one
    line: a DeltaError (a commit that kept conflicting included), an OSError, or a panic of a
    delta-rs worker (pyo3's PanicException, a BaseException, e.g. on a disk-full write)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (DeltaError, OSError) as exc:
            raise StorageError(f"the lake's store failed: {exc}") from exc
        except BaseException as exc:
            if type(exc).__name__ != "PanicException":
                raise
            raise StorageError(f"the lake's store failed: {exc}") from exc

    return wrapper


def _retrying(attempts: int = COMMIT_ATTEMPTS) -> Retrying:
    from tenacity import (
        Retrying,
        retry_if_exception_type,
        stop_after_attempt,
        wait_random_exponential,
    )

    return Retrying(
        retry=retry_if_exception_type(CommitFailedError),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.05, max=2.0),
        reraise=True,
    )


class _OpenTables(threading.local):
    """One thread's open tables: per folder, the handle and the version it was opened at."""

    def __init__(self) -> None:
        self.handles: dict[str, tuple[DeltaTable, int]] = {}


class DeltaTables:
    """The Delta tables under one lake root."""

    def __init__(self, location: LakeLocation, store: ObjectStore) -> None:
        self.location = location
        self._store = store
        self._options = location.delta_options()
        # Each thread keeps its own open handle per table (with the version it was opened
        # at) and brings it up to date with the commits since (`update_incremental`)
        # instead of replaying the log from the last checkpoint for every batch. Per thread:
        # a Sink writes from worker threads, and a handle is not shared between writers.
        self._open = _OpenTables()

    def __repr__(self) -> str:
        return f"DeltaTables({self.location.uri!r})"

    def uri(self, folder: str) -> str:
        return self.location.join(folder)

    @_stored
    def load(self, folder: str) -> DeltaTable | None:
        """The table in `folder`, or None if nothing was ever committed there."""
        try:
            return DeltaTable(self.uri(folder), storage_options=self._options)
        except TableNotFoundError:
            return None

    @_stored
    def ensure(self, folder: str, schema: pl.Schema, partition_by: list[str]) -> DeltaTable:
        """The table in `folder` at its latest version with every column of `schema`,
        created empty if absent (race-safe)."""
        table = self._latest(folder, schema, partition_by)
        if set(schema.names()) - {field.name for field in table.schema().fields}:
            self._commit(table, lambda t: self._add_columns(t, schema))
        return table

    def _latest(self, folder: str, schema: pl.Schema, partition_by: list[str]) -> DeltaTable:
        handles = self._open.handles
        if (handle := handles.get(folder)) is not None:
            table, opened_at = handle
            table.update_incremental()
            if table.version() - opened_at < REOPEN_AFTER:
                return table
            del handles[folder]
        for attempt in _retrying(5):
            with attempt:
                try:
                    created = DeltaTable.create(
                        self.uri(folder),
                        schema=arrow_schema(schema),
                        mode="ignore",
                        partition_by=partition_by,
                        storage_options=self._options,
                        configuration=CHECKPOINT_EVERY,
                        commit_properties=CommitProperties(custom_metadata=APP),
                    )
                except DeltaError as exc:
                    # Two runs creating one table: the loser's version 0 already exists.
                    raise CommitFailedError(str(exc)) from exc
        if not CHECKPOINT_EVERY.keys() <= created.metadata().configuration.keys():
            self._commit(created, self._set_properties)
        handles[folder] = (created, created.version())
        return created

    @staticmethod
    def _set_properties(table: DeltaTable) -> None:
        """Set the properties of CHECKPOINT_EVERY that `table` does not have yet (a table
        created by an earlier version, or by another tool)."""
        have = table.metadata().configuration
        if missing := {k: v for k, v in CHECKPOINT_EVERY.items() if k not in have}:
            table.alter.set_table_properties(
                missing,
                raise_if_not_exists=False,
                commit_properties=CommitProperties(custom_metadata=APP),
            )

    @staticmethod
    def _add_columns(table: DeltaTable, schema: pl.Schema) -> None:
        """Give `table` the columns of `schema` it lacks: columns declared after it was
        created, which older rows read as null. A metadata-only commit."""
        have = {field.name for field in table.schema().fields}
        missing = [field for field in arrow_schema(schema) if field.name not in have]
        if missing:
            table.alter.add_columns(
                [Field.from_arrow(field) for field in missing],
                commit_properties=CommitProperties(custom_metadata=APP),
            )

    def _commit(self, table: DeltaTable, operation: Callable[[DeltaTable], T]) -> T:
        """`operation(table)`, retried on the table's new version after a conflicting commit."""
        for attempt in _retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    table.update_incremental()
                return operation(table)
        raise AssertionError("unreachable")  # pragma: no cover

    @_stored
    def write(
        self, schema: TableSchema, frame: pl.DataFrame, replace_projects: Iterable[str] = ()
    ) -> WriteResult:
        """Commit one typed batch of `schema.name` (see the module docstring).

        For snapshot tables, `replace_projects` also empties projects that have no rows in
        this batch.
        """
        rows_in = frame.height
        extra = [validate_project(p) for p in replace_projects]
        if extra and schema.merge != "replace":
            raise ValueError(f"replace_projects applies to snapshot tables, not {schema.name}")
        frame = collapse_batch(schema, check_frame(schema, frame))
        keys = list(schema.partition_keys)
        partitions = partitions_of(frame, keys)
        projects = {str(p[0]) for p in partitions} | set(extra)
        if (schema.merge == "replace" and not projects) or (
            schema.merge != "replace" and not frame.height
        ):
            return WriteResult(schema.name, rows_in, 0, 0, 0)
        table = self.ensure(schema.name, schema.polars_schema, keys)
        if schema.merge == "replace":
            data = to_arrow(frame)
            self._commit(table, lambda t: self._replace(t, schema, data, projects))
            return WriteResult(schema.name, rows_in, frame.height, 0, len(projects))
        if schema.merge == "dedupe":
            appended = self._commit(
                table, lambda t: self._append_absent(t, schema, frame, partitions)
            )
            return WriteResult(schema.name, rows_in, appended, 0, len(partitions))
        data = to_arrow(frame)
        metrics = self._commit(table, lambda t: self._upsert(t, schema, data, partitions))
        inserted = int(metrics.get("num_target_rows_inserted", 0))
        updated = int(metrics.get("num_target_rows_updated", 0))
        return WriteResult(schema.name, rows_in, inserted + updated, updated, len(partitions))

    def _append_absent(
        self,
        table: DeltaTable,
        schema: TableSchema,
        frame: pl.DataFrame,
        partitions: list[tuple[Any, ...]],
    ) -> int:
        """Append the rows whose key the touched partitions do not hold yet, as of the
        table's loaded version, fenced per project; the number of rows appended."""
        keys = list(dict.fromkeys([*schema.partition_keys, *schema.key]))
        stored = table.to_pyarrow_dataset(
            file_pruning_predicate=stored_keys_predicate(schema, partitions, frame)
        ).to_table(columns=keys)
        if stored.num_rows:
            import polars as pl

            held = pl.DataFrame(stored).cast({k: frame.schema[k] for k in keys})
            frame = frame.join(held, on=keys, how="anti", nulls_equal=True)
        if not frame.height:
            return 0
        fences = []
        for project in sorted({str(p[0]) for p in partitions}):
            app_id = f"ubiops-etl/{schema.name}/{project}"
            fences.append(Transaction(app_id, (table.transaction_version(app_id) or 0) + 1))
        self._append(table, schema.name, frame, list(schema.partition_keys), fences)
        return frame.height

    def _append(
        self,
        table: DeltaTable,
        folder: str,
        frame: pl.DataFrame,
        partition_by: list[str],
        fences: list[Transaction],
    ) -> None:
        """Upload `frame` as one Parquet file per partition and commit the files as one
        Delta append. A file whose commit never lands is invisible to every reader and is
        deleted by the project's next sweep."""
        from deltalake.transaction import AddAction, RemoveAction

        from warehouse.files import data_files

        adds: list[AddAction | RemoveAction] = []
        for file in data_files(frame, partition_by, PLAIN_COLUMNS):
            self._store.put(f"{folder}/{file.path}", file.body)
            written = time.time_ns() // 1_000_000
            adds.append(
                AddAction(file.path, len(file.body), file.partition, written, True, file.stats)
            )
        table.create_write_transaction(
            adds,
            mode="append",
            schema=table.schema(),
            partition_by=partition_by,
            commit_properties=CommitProperties(custom_metadata=APP, app_transactions=fences),
        )

    def _upsert(
        self,
        table: DeltaTable,
        schema: TableSchema,
        data: pa.Table,
        partitions: list[tuple[Any, ...]],
    ) -> dict[str, Any]:
        merger = table.merge(
            data,
            predicate=match_predicate(schema, partitions),
            source_alias=SOURCE,
            target_alias=TARGET,
            writer_properties=WRITER,
            commit_properties=CommitProperties(custom_metadata=APP),
        )
        merger = merger.when_matched_update_all(predicate=supersedes_predicate(schema))
        return dict(merger.when_not_matched_insert_all().execute())

    def _replace(
        self, table: DeltaTable, schema: TableSchema, data: pa.Table, projects: set[str]
    ) -> None:
        write_deltalake(
            table,
            data,
            mode="overwrite",
            predicate=replace_predicate(projects),
            partition_by=list(schema.partition_keys),
            writer_properties=WRITER,
            commit_properties=CommitProperties(custom_metadata=APP),
        )

    @_stored
    def append_rejects(self, table: str, frame: pl.DataFrame) -> int:
        """Append refused records of `table` (`rejects_schema()`) as one commit; returns
        rows."""
        if frame.schema != (expected := rejects_schema()):
            raise SchemaMismatch(f"rejects frame has {frame.schema}, expected {expected}")
        if frame.height == 0:
            return 0
        for project in frame.get_column("project").unique().to_list():
            validate_project(project)
        folder = rejects_key(table)
        self._commit(
            self.ensure(folder, expected, ["project"]),
            lambda t: self._append(t, folder, frame, ["project"], []),
        )
        return frame.height

    def live_files(self, folder: str) -> list[str] | None:
        """URIs of the data files of the table's current version; None if no table."""
        current = self.current(folder)
        return None if current is None else current.files

    @_stored
    def current(self, folder: str) -> TableVersion | None:
        """The table's current version: its data files and its columns; None if no table."""
        table = self.load(folder)
        if table is None:
            return None
        columns = frozenset(field.name for field in table.schema().fields)
        return TableVersion(list(table.file_uris()), columns)

    def _actions(self, folder: str) -> pl.DataFrame | None:
        table = self.load(folder)
        if table is None:
            return None
        import polars as pl
        import pyarrow as pa

        return pl.DataFrame(pa.table(table.get_add_actions(flatten=True)))

    @_stored
    def projects(self, folder: str) -> list[str]:
        """Projects that have files in the table's current version."""
        actions = self._actions(folder)
        if actions is None or "partition.project" not in actions.columns:
            return []
        return sorted(actions.get_column("partition.project").unique().to_list())

    @_stored
    def compact(self, folder: str, project: str, target_file_mb: float) -> tuple[int, int]:
        """Bin-pack one project's small files into files near the target size, as one
        commit per partition batch; (files removed, files added)."""
        table = self.load(folder)
        if table is None:
            return 0, 0
        metrics = self._commit(
            table,
            lambda t: t.optimize.compact(
                partition_filters=[("project", "=", validate_project(project))],
                target_size=max(1, int(target_file_mb * 1024 * 1024)),
                writer_properties=WRITER,
                commit_properties=CommitProperties(custom_metadata=APP),
            ),
        )
        return int(metrics.get("numFilesRemoved", 0)), int(metrics.get("numFilesAdded", 0))

    @_stored
    def sweep(self, folder: str, project: str, removed_before: datetime | None) -> int:
        """Delete one project's files that the current version does not use (and, if
        `removed_before` is given, that were last written before it): files earlier commits
        replaced, and uploads of a run killed before its commit. Only the project's lease
        holder calls this, so no other writer can be about to commit one of them."""
        actions = self._actions(folder)
        if actions is None:
            return 0
        live = {f"{folder}/{unquote(path)}" for path in actions.get_column("path").to_list()}
        swept = 0
        for info in self._store.list(partition_prefix(folder, project)):
            if info.key not in live and (removed_before is None or info.modified < removed_before):
                self._store.delete(info.key)
                swept += 1
        return swept
