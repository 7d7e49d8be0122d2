"""Convert a lake of the plain-Parquet release into Delta tables, in place, once.

That release kept each table as hive-partitioned Parquet files named
`<20-digit time>-<sequence>-<12 hex>.parquet`, a journal of intended changes in
`_state/journal/`, an `fcntl` lock file and the run ledger as JSON Lines. Converting:

1. takes the lake-wide `_lake/convert` lease (one converter at a time);
2. finishes what the journal says a crash interrupted, without touching a file: a pending
   change's added files are ignored, a committed change's removed files are ignored;
3. loads every surviving file into its Delta table through the ordinary idempotent writes
   (insert-if-absent, upsert, replace), a project at a time, so a converter killed half-way
   simply does it again and nothing is doubled;
4. rewrites the ledger as one object per run, then deletes the old files and marks the lake
   as Delta (`_state/format.json`). Cursors in `_state/streams/` keep their format, so the
   next sync continues where the old release stopped: nothing is fetched again.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from transform.schemas import SCHEMAS, TableSchema, rejects_schema
from warehouse.layout import REJECTS_DIR, STATE_DIR
from warehouse.state import LEDGER_DIR

if TYPE_CHECKING:
    import polars as pl

    from warehouse.lake import Lake

FORMAT_KEY = f"{STATE_DIR}/format.json"
FORMAT = {"format": "delta", "version": 1}
LEGACY_NAME = r"\d{20}-\d{6}-[0-9a-f]{12}\.parquet"
_EVENT_FILE = re.compile(
    rf"^(?P<table>[a-z_]+)/project=(?P<project>[^/]+)/day=(?P<day>[0-9-]+)/{LEGACY_NAME}$"
)
_SNAPSHOT_FILE = re.compile(rf"^(?P<table>[a-z_]+)/project=(?P<project>[^/]+)/{LEGACY_NAME}$")
_REJECTS_FILE = re.compile(rf"^{REJECTS_DIR}/(?P<table>[a-z_]+)/{LEGACY_NAME}$")
_LEFTOVERS = re.compile(rf"^({STATE_DIR}/journal/.*|{STATE_DIR}/[a-z_-]+\.lock|_tmp/.*)$")
_OLD_LEDGER = re.compile(rf"^{LEDGER_DIR}/\d{{4}}-\d{{2}}\.jsonl$")
BATCH_ROWS = 250_000
CONVERT_LEASE = "_lake-convert"  # project names start with a letter, so this never clashes


@dataclass
class Legacy:
    """What a plain-Parquet lake holds, by kind."""

    data: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))
    """table -> project -> data file keys that survive the journal."""
    rejects: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    ledgers: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """Files a crashed transaction added (pending) or replaced (committed)."""

    @property
    def empty(self) -> bool:
        return not (self.data or self.rejects or self.ledgers or self.leftovers)

    def all_keys(self) -> list[str]:
        keys = [k for projects in self.data.values() for ks in projects.values() for k in ks]
        keys += [k for ks in self.rejects.values() for k in ks]
        return keys + self.ledgers + self.ignored + self.leftovers


def find_legacy(lake: Lake) -> Legacy:
    """Classify the root's objects; files the journal disowns go to `ignored`."""
    keys = [info.key for info in lake.store.list("")]
    disowned: set[str] = set()
    for key in keys:
        if key.startswith(f"{STATE_DIR}/journal/") and key.endswith(".json"):
            entry = json.loads(lake.store.get(key) or b"{}")
            disowned.update(
                entry.get("add" if entry.get("status") != "committed" else "remove", [])
            )
    found = Legacy()
    for key in keys:
        if key in disowned:
            found.ignored.append(key)
        elif match := _EVENT_FILE.match(key) or _SNAPSHOT_FILE.match(key):
            if match["table"] in SCHEMAS:
                found.data[match["table"]].setdefault(match["project"], []).append(key)
        elif match := _REJECTS_FILE.match(key):
            found.rejects[match["table"]].append(key)
        elif _OLD_LEDGER.match(key):
            found.ledgers.append(key)
        elif _LEFTOVERS.match(key):
            found.leftovers.append(key)
    return found


def _read(lake: Lake, schema: TableSchema, key: str) -> pl.DataFrame:
    import polars as pl  # converting only: opening a converted lake never gets here

    frame = pl.read_parquet(io.BytesIO(lake.store.get(key) or b""))
    parts = dict(p.split("=", 1) for p in key.split("/")[1:-1])
    declared = schema.polars_schema
    values = [pl.lit(parts["project"]).alias("project")]
    if "day" in parts:
        values.append(pl.lit(parts["day"]).str.to_date().alias("day"))
    frame = frame.with_columns(values)
    absent = [
        pl.lit(None, declared[c]).alias(c) for c in declared.names() if c not in frame.columns
    ]
    return frame.with_columns(absent).select(declared.names()).cast(declared)


def _load_table(lake: Lake, schema: TableSchema, projects: dict[str, list[str]]) -> None:
    import polars as pl

    for project, keys in sorted(projects.items()):
        if schema.merge == "replace":
            newest = max(keys, key=lambda k: k.rsplit("/", 1)[-1])
            lake.tables.write(schema, _read(lake, schema, newest), replace_projects=[project])
            continue
        batch: list[pl.DataFrame] = []
        for key in sorted(keys):
            batch.append(_read(lake, schema, key))
            if sum(f.height for f in batch) >= BATCH_ROWS:
                lake.tables.write(schema, pl.concat(batch))
                batch = []
        if batch:
            lake.tables.write(schema, pl.concat(batch))


def _load_rejects(lake: Lake, table: str, keys: list[str]) -> None:
    import polars as pl

    declared = rejects_schema()
    frames = [pl.read_parquet(io.BytesIO(lake.store.get(k) or b"")) for k in sorted(keys)]
    frame = pl.concat(frames, how="diagonal_relaxed").select(declared.names())
    lake.tables.append_rejects(table, frame.cast(declared))


def _convert_ledgers(lake: Lake, keys: list[str]) -> None:
    for key in keys:
        for line in (lake.store.get(key) or b"").decode().splitlines():
            if not line.strip():
                continue
            summary = json.loads(line)
            stamp = re.sub(r"[^0-9]", "", str(summary.get("finished_at", "")))[:20]
            run = re.sub(r"[^0-9a-f]", "", str(summary.get("run_id", ""))) or "legacy"
            month = key.rsplit("/", 1)[-1].removesuffix(".jsonl")
            lake.store.put(f"{LEDGER_DIR}/{month}/{stamp}-{run}.json", json.dumps(summary).encode())


def convert_legacy(lake: Lake) -> Legacy | None:
    """Convert the lake in place if it is a plain-Parquet one; None when nothing was to do.

    Idempotent and resumable: see the module docstring.
    """
    if lake.store.get(FORMAT_KEY) is not None:
        return None
    legacy = find_legacy(lake)
    if legacy.empty:
        lake.store.put(FORMAT_KEY, json.dumps(FORMAT).encode())
        return None
    lease = lake.leases.take(CONVERT_LEASE, uuid.uuid4().hex)
    try:
        for table, projects in legacy.data.items():
            _load_table(lake, SCHEMAS[table], projects)
        for table, keys in legacy.rejects.items():
            _load_rejects(lake, table, keys)
        _convert_ledgers(lake, legacy.ledgers)
        for key in legacy.all_keys():
            lake.store.delete(key)
        lake.store.put(FORMAT_KEY, json.dumps(FORMAT).encode())
    finally:
        lease.release()
    return legacy
