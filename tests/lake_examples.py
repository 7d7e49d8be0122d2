"""Test support for the lake: typed example frames, and reading a table's raw Parquet files
the way a plain Parquet reader does (no views, no Delta log)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl

from transform.rejects import REJECTS_SCHEMA
from transform.schemas import EXTRACTED_AT, SCHEMAS
from warehouse import LakeLocation
from warehouse.objects import ObjectStore
from warehouse.query import register_store

EXAMPLE_TIME = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

_DEFAULTS: dict[str, dict[str, Any]] = {
    "logs": {"log": "hello", "level": "info", "system": False},
    "requests": {
        "object_type": "deployment",
        "deployment": "dep",
        "status": "pending",
        "finished": False,
    },
    "audit_events": {"action": "create", "user": "a@example.com"},
    "projects": {"id": "p-uuid"},
    "project_users": {"email": "u@example.com"},
}
_TIME_COLUMN = {"logs": "date", "requests": "time_created", "audit_events": "date"}


def example_frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame with exactly the table's declared schema, as transform returns it.

    Unspecified columns get plain defaults; `day` follows the table's `day_from` column.
    """
    schema = SCHEMAS[table]
    full = []
    for row in rows:
        record: dict[str, Any] = dict.fromkeys(schema.names)
        record.update({"project": "alpha", EXTRACTED_AT: EXAMPLE_TIME})
        record.update(_DEFAULTS.get(table, {}))
        if table in _TIME_COLUMN:
            record[_TIME_COLUMN[table]] = EXAMPLE_TIME
        record.update(row)
        if schema.day_from is not None and "day" not in row:
            record["day"] = record[schema.day_from].astimezone(dt.UTC).date()
        full.append(record)
    return pl.DataFrame(full, schema=schema.polars_schema, orient="row")


def example_rejects(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame of refused records with REJECTS_SCHEMA."""
    base = {
        "table": "logs",
        "project": "alpha",
        "reason": "no id",
        "raw": "{}",
        EXTRACTED_AT: EXAMPLE_TIME,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=REJECTS_SCHEMA, orient="row")


def data_files(location: LakeLocation, table: str) -> list[str]:
    """The table's Parquet files that the README's plain glob
    `<root>/<table>/project=*/**/*.parquet` matches, as readable paths or URLs."""
    store = ObjectStore(location)
    return [
        location.join(info.key)
        for info in store.list(f"{table}/")
        if info.key.startswith(f"{table}/project=") and info.key.endswith(".parquet")
    ]


def read_direct(location: LakeLocation, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    """Rows of the table's raw Parquet files read by DuckDB with hive partitioning (no views,
    no Delta log): what a plain Parquet reader of the lake sees."""
    files = data_files(location, table)
    if not files:
        return []
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        register_store(con, location)
        sql = (
            f"SELECT {columns} FROM read_parquet([{listed}], hive_partitioning = true) ORDER BY ALL"
        )
        return con.execute(sql).fetchall()
