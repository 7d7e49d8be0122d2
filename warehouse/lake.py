"""`Lake`: the warehouse's front door for flows (open, write, lease, sweep, compact, state)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from transform.schemas import EVENT_TABLES, rejects_schema
from warehouse.errors import LeaseBusy, LeaseLost, NotALake, SchemaMismatch
from warehouse.layout import (
    STATE_DIR,
    STREAM_TABLES,
    lease_name,
    rejects_key,
    table_schema,
)
from warehouse.leases import DEFAULT_TTL, Lease, Leases
from warehouse.location import LakeLocation
from warehouse.objects import ObjectStore
from warehouse.state import RunLedger, StateStore, utc_now
from warehouse.tables import DEFAULT_TARGET_MB, DeltaTables, WriteResult

if TYPE_CHECKING:
    import polars as pl

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CompactReport:
    """What compaction did: projects compacted, files merged away and written, busy skips."""

    projects: int = 0
    files_removed: int = 0
    files_added: int = 0
    files_swept: int = 0
    skipped_busy: tuple[str, ...] = ()

    def __add__(self, other: CompactReport) -> CompactReport:
        return CompactReport(
            self.projects + other.projects,
            self.files_removed + other.files_removed,
            self.files_added + other.files_added,
            self.files_swept + other.files_swept,
            self.skipped_busy + other.skipped_busy,
        )


def stream_of(table: str) -> str:
    """The stream whose lease guards writes of `table`."""
    return next(stream for stream, tables in STREAM_TABLES.items() if table in tables)


class Lake:
    """A lake of Delta tables at one root (local or object storage).

    Safe to share between threads of one process; across processes and machines, a writer of
    one (project, stream) holds that pair's `lease`. Create with `Lake.open`, which converts
    a lake written by the plain-Parquet release in place.
    """

    def __init__(
        self,
        location: LakeLocation,
        clock: Clock = utc_now,
        lease_ttl: timedelta = DEFAULT_TTL,
        keep_removed: timedelta = timedelta(0),
    ) -> None:
        self.location = location
        self.store = ObjectStore(location)
        self.tables = DeltaTables(location, self.store)
        self.state = StateStore(self.store)
        self.ledger = RunLedger(self.store, clock)
        self.leases = Leases(self.store, clock, lease_ttl)
        self.keep_removed = keep_removed
        self._clock = clock

    def __repr__(self) -> str:
        return f"Lake({self.location.uri!r})"

    @property
    def root(self) -> str:
        return self.location.uri

    @classmethod
    def open(
        cls,
        root: LakeLocation | Path | str,
        *,
        clock: Clock = utc_now,
        lease_ttl: timedelta = DEFAULT_TTL,
        keep_removed: timedelta = timedelta(0),
        env: Mapping[str, str] | None = None,
        create: bool = True,
    ) -> Lake:
        """Open the lake at `root` (a LakeLocation, a path or a URL) and convert a lake of
        the plain-Parquet release found there (once; see `warehouse.convert`).

        With `create=False` (readers), a root where nothing was synced is NotALake.
        """
        from warehouse.convert import convert_legacy

        location = root if isinstance(root, LakeLocation) else LakeLocation.parse(root, env)
        lake = cls(location, clock, lease_ttl, keep_removed)
        if not create and not lake.exists():
            raise NotALake(
                f"no lake at {location.uri}; run `ubiops-etl sync` first "
                "or point --warehouse / UBIOPS_ETL_WAREHOUSE at one"
            )
        if location.local_path is not None:
            location.local_path.mkdir(parents=True, exist_ok=True)
        convert_legacy(lake)
        return lake

    def exists(self) -> bool:
        """Whether a lake lives here: this version's format marker, or an older lake's
        cursors (which opening converts)."""
        from warehouse.convert import FORMAT_KEY

        return self.store.get(FORMAT_KEY) is not None or bool(
            self.store.list(f"{STATE_DIR}/streams")
        )

    def write(
        self, table: str, frame: pl.DataFrame, replace_projects: Iterable[str] = ()
    ) -> WriteResult:
        """Commit one typed batch into `table` (insert-if-absent, upsert or replace by its
        schema). `frame` must have exactly `SCHEMAS[table].polars_schema`."""
        return self.tables.write(table_schema(table), frame, replace_projects)

    def write_rejects(self, frame: pl.DataFrame) -> int:
        """Append refused records (`rejects_schema()`) to `_rejects/<table>`; returns rows."""
        if frame.schema != (expected := rejects_schema()):
            raise SchemaMismatch(f"rejects frame has {frame.schema}, expected {expected}")
        written = 0
        for (table,), part in frame.partition_by("table", as_dict=True).items():
            written += self.tables.append_rejects(str(table), part)
        return written

    @contextlib.contextmanager
    def lease(self, project: str, stream: str, run_id: str) -> Iterator[Lease]:
        """Hold the lease of (project, stream) for the block; LeaseBusy if a live run does."""
        held = self.leases.take(lease_name(project, stream), run_id)
        try:
            yield held
        finally:
            held.release()

    def sweep(self, project: str, stream: str) -> int:
        """Delete the project's files of `stream` that the tables no longer use (replaced by a
        commit, or uploaded by a killed run) and that are older than `keep_removed`.
        Call it while holding the (project, stream) lease."""
        # With nothing to keep, every unused file goes (the lease rules out a writer about to
        # commit one); otherwise the store's timestamps are compared with the clock.
        before = self._clock() - self.keep_removed if self.keep_removed else None
        folders = [
            folder for table in STREAM_TABLES[stream] for folder in (table, rejects_key(table))
        ]
        return sum(self.tables.sweep(folder, project, before) for folder in folders)

    def compact(
        self,
        run_id: str,
        table: str | None = None,
        target_file_mb: float = DEFAULT_TARGET_MB,
    ) -> CompactReport:
        """Bin-pack small files per project of one event table (or all), then sweep what
        they replaced; a (project, stream) another run is writing is skipped and reported."""
        schemas = [table_schema(table)] if table is not None else list(EVENT_TABLES)
        report = CompactReport()
        for schema in schemas:
            stream = stream_of(schema.name)
            for project in self.tables.projects(schema.name):
                try:
                    with self.lease(project, stream, run_id) as held:
                        removed, added = self.tables.compact(schema.name, project, target_file_mb)
                        held.renew()  # LeaseLost if it expired meanwhile: then no sweep
                        swept = self.sweep(project, stream)
                except LeaseBusy as busy:
                    report += CompactReport(skipped_busy=(busy.name,))
                    continue
                except LeaseLost:
                    report += CompactReport(1, removed, added)
                    continue
                report += CompactReport(1, removed, added, swept)
        return report
