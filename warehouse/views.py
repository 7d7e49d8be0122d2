"""DuckDB views over the lake, generated from the declared schemas, and the marts.

Views are exact even while a write is in progress:
- event tables keep one row per (project, day, id), the newest `_extracted_at`, because a
  copy-on-write rewrite briefly leaves the old and the new file side by side. The partition
  columns lead the window's PARTITION BY so DuckDB can push a `day`/`project` filter through
  the window into the scan and read only that partition's files.
- snapshot tables read only the newest file of each project (file names sort by creation),
  found with `glob()` so that an empty newest snapshot hides the older rows too.
Globs are absolute, so a BI tool can open a database file holding these views from anywhere.
A table with no files yet gets a typed, empty view instead of an error.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transform.schemas import (
    EVENT_TABLES,
    EXTRACTED_AT,
    REJECTS_SCHEMA,
    SNAPSHOT_TABLES,
    TableSchema,
)
from warehouse.layout import REJECTS_DIR

_SIMPLE_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    # Enums are plain text in SQL: BI tools handle VARCHAR everywhere; transform already
    # guarantees the values.
    pl.Enum: "VARCHAR",
    pl.Boolean: "BOOLEAN",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Date: "DATE",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB type a declared polars type is exposed as (UTC datetimes as TIMESTAMPTZ)."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return f"{duckdb_type(inner if isinstance(inner, pl.DataType) else inner())}[]"
    for kind, name in _SIMPLE_TYPES.items():
        if isinstance(dtype, kind):
            return name
    raise TypeError(f"no DuckDB type declared for {dtype}")


def sql_string(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier (`user` is a keyword)."""
    return '"' + name.replace('"', '""') + '"'


def _typed_columns(columns: dict[str, pl.DataType]) -> str:
    return ", ".join(
        f"CAST({ident(n)} AS {duckdb_type(t)}) AS {ident(n)}" for n, t in columns.items()
    )


def _select(columns: dict[str, pl.DataType], source: str, tail: str = "") -> str:
    # Built from declared names (quoted by ident) and escaped literals only, never user input.
    return f"SELECT {_typed_columns(columns)} FROM {source} {tail}".rstrip()  # noqa: S608


def _empty_select(columns: dict[str, pl.DataType]) -> str:
    typed = ", ".join(f"CAST(NULL AS {duckdb_type(t)}) AS {ident(n)}" for n, t in columns.items())
    return f"SELECT {typed} WHERE false"


def _hive_scan(glob: str, schema: TableSchema) -> str:
    hive = ", ".join(
        f"{sql_string(k)}: {duckdb_type(schema.polars_schema[k])}" for k in schema.partition_keys
    )
    return (
        f"read_parquet({sql_string(glob)}, hive_partitioning = true, "
        f"hive_types = {{{hive}}}, union_by_name = true)"
    )


def event_view_sql(root: Path, schema: TableSchema, has_files: bool) -> str:
    """SELECT of an event table: typed columns, one row per (project, day, id)."""
    columns = dict(schema.polars_schema)
    if not has_files:
        return _empty_select(columns)
    scan = _hive_scan(f"{root}/{schema.name}/*/*/*.parquet", schema)
    window = ", ".join(ident(k) for k in (*schema.partition_keys, *schema.key))
    # No file-name tie-breaker: it doubles the cost of full scans, and a tie only exists for
    # the instant a same-run rewrite has both files (then either version shows, once).
    newest_first = f"ORDER BY {ident(EXTRACTED_AT)} DESC"
    return _select(
        columns, scan, f"QUALIFY row_number() OVER (PARTITION BY {window} {newest_first}) = 1"
    )


def snapshot_view_sql(root: Path, schema: TableSchema, has_files: bool) -> str:
    """SELECT of a snapshot table: the rows of each project's newest file."""
    columns = dict(schema.polars_schema)
    if not has_files:
        return _empty_select(columns)
    glob = f"{root}/{schema.name}/*/*.parquet"
    newest = (
        f"FROM glob({sql_string(glob)}) "
        "SELECT max(file) GROUP BY regexp_extract(file, '/project=([^/]+)/', 1)"
    )
    return _select(columns, _hive_scan(glob, schema), f"WHERE filename IN ({newest})")


def rejects_view_sql(root: Path, has_files: bool) -> str:
    """SELECT of every rejected record, all tables, each distinct refusal once.

    Re-reading a window (lookback, a re-run after a crash) refuses the same raw record
    again; the files are append-only, so the view shows the first time it was refused.
    """
    columns = dict(REJECTS_SCHEMA)
    if not has_files:
        return _empty_select(columns)
    scan = f"read_parquet({sql_string(f'{root}/{REJECTS_DIR}/*/*.parquet')}, union_by_name = true)"
    same = ", ".join(ident(c) for c in ("table", "project", "reason", "raw"))
    first = f"QUALIFY row_number() OVER (PARTITION BY {same} ORDER BY {ident(EXTRACTED_AT)}) = 1"
    return _select(columns, scan, first)


MARTS: dict[str, str] = {
    "mart_requests_daily": """
        SELECT project, day, object_type,
               coalesce(deployment, pipeline) AS object_name,
               count(*) AS requests,
               count(*) FILTER (WHERE finished) AS finished,
               count(*) FILTER (WHERE status = 'failed') AS failures,
               count(*) FILTER (WHERE status = 'failed')
                   / nullif(count(*) FILTER (WHERE finished), 0) AS failure_rate,
               quantile_cont(seconds_queued, 0.5) AS p50_queue_seconds,
               quantile_cont(seconds_queued, 0.95) AS p95_queue_seconds,
               quantile_cont(seconds_running, 0.5) AS p50_run_seconds,
               quantile_cont(seconds_running, 0.95) AS p95_run_seconds
        FROM requests GROUP BY ALL""",
    "mart_error_logs_daily": """
        SELECT project, day, deployment_name, deployment_version, pipeline_name,
               count(*) AS error_logs
        FROM logs WHERE level = 'error' GROUP BY ALL""",
    "mart_audit_actions_daily": """
        SELECT project, day, "user", action, count(*) AS events
        FROM audit_events GROUP BY ALL""",
}
"""Answers users ask for; each is a view over the table views, so it is exact too."""


MART_DESCRIPTIONS = {
    "mart_requests_daily": "Requests per project, day, deployment or pipeline: counts, "
    "failures, failure rate (failed / finished), p50/p95 seconds queued and running.",
    "mart_error_logs_daily": "Error log lines per project, day and deployment (or pipeline).",
    "mart_audit_actions_daily": "Audit events per project, day, user and action.",
}


def comment_statements() -> list[str]:
    """COMMENT ON statements from the schemas' descriptions, so BI tools show what a column
    means (they run after `view_statements`)."""
    statements = []
    for schema in (*EVENT_TABLES, *SNAPSHOT_TABLES):
        view = ident(schema.name)
        statements.append(f"COMMENT ON VIEW {view} IS {sql_string(schema.description)}")
        statements.extend(
            f"COMMENT ON COLUMN {view}.{ident(c.name)} IS {sql_string(c.description)}"
            for c in schema.columns
        )
    refused = "Records that could not be typed: raw JSON as received and the reason."
    statements.append(f"COMMENT ON VIEW rejects IS {sql_string(refused)}")
    statements.extend(
        f"COMMENT ON VIEW {name} IS {sql_string(text)}" for name, text in MART_DESCRIPTIONS.items()
    )
    return statements


def view_statements(root: Path, tables_with_files: set[str]) -> list[str]:
    """CREATE VIEW statements for every table, `rejects` and the marts, in dependency order."""
    statements = []
    for schema in EVENT_TABLES:
        body = event_view_sql(root, schema, schema.name in tables_with_files)
        statements.append(f"CREATE OR REPLACE VIEW {ident(schema.name)} AS {body}")
    for schema in SNAPSHOT_TABLES:
        body = snapshot_view_sql(root, schema, schema.name in tables_with_files)
        statements.append(f"CREATE OR REPLACE VIEW {ident(schema.name)} AS {body}")
    rejects = rejects_view_sql(root, REJECTS_DIR in tables_with_files)
    statements.append(f"CREATE OR REPLACE VIEW rejects AS {rejects}")
    statements.extend(f"CREATE OR REPLACE VIEW {name} AS {body}" for name, body in MARTS.items())
    return statements
