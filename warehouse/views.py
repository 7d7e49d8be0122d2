"""DuckDB views over the lake, generated from the declared schemas, and the marts.

Each table's view reads exactly the data files of the table's current Delta version, listed
from the Delta log by absolute path or URL, with hive partitioning for `project` and `day`.
So a view is exact at every commit (files a later commit added are not listed, files it
removed are kept until the end of the run), a full scan costs what `read_parquet` costs, and
a `day`/`project` filter reads only that partition's files. A BI tool can open a database
file holding these views from anywhere. A table with no commit yet gets a typed, empty view.
"""

from __future__ import annotations

from collections.abc import Collection

from transform.schemas import (
    EVENT_TABLES,
    EXTRACTED_AT,
    REJECT_TYPES,
    SNAPSHOT_TABLES,
    ColumnType,
    TableSchema,
)
from warehouse.tables import TableVersion

_SIMPLE_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    # Enums are plain text in SQL: BI tools handle VARCHAR everywhere; transform already
    # guarantees the values.
    "enum": "VARCHAR",
    "boolean": "BOOLEAN",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}


def duckdb_type(declared: ColumnType) -> str:
    """The DuckDB type a declared column is exposed as (UTC timestamps as TIMESTAMPTZ)."""
    if declared.kind == "list" and declared.inner is not None:
        return f"{duckdb_type(declared.inner)}[]"
    if declared.kind not in _SIMPLE_TYPES:
        raise TypeError(f"no DuckDB type declared for {declared}")
    return _SIMPLE_TYPES[declared.kind]


def sql_string(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier (`user` is a keyword)."""
    return '"' + name.replace('"', '""') + '"'


def _typed_columns(columns: dict[str, ColumnType], present: frozenset[str] | None) -> str:
    # A column declared after the table's files were written reads as typed NULLs.
    return ", ".join(
        f"CAST({ident(n) if present is None or n in present else 'NULL'} AS {duckdb_type(t)})"
        f" AS {ident(n)}"
        for n, t in columns.items()
    )


def _select(
    columns: dict[str, ColumnType],
    source: str,
    tail: str = "",
    present: frozenset[str] | None = None,
) -> str:
    # Built from declared names (quoted by ident) and escaped literals only, never user input.
    return f"SELECT {_typed_columns(columns, present)} FROM {source} {tail}".rstrip()  # noqa: S608


def _empty_select(columns: dict[str, ColumnType]) -> str:
    typed = ", ".join(f"CAST(NULL AS {duckdb_type(t)}) AS {ident(n)}" for n, t in columns.items())
    return f"SELECT {typed} WHERE false"


def _scan(files: list[str], partitions: dict[str, str]) -> str:
    listed = ", ".join(sql_string(f) for f in files)
    hive = ", ".join(f"{sql_string(k)}: {t}" for k, t in partitions.items())
    return (
        f"read_parquet([{listed}], hive_partitioning = true, "
        f"hive_types = {{{hive}}}, union_by_name = true)"
    )


def table_view_sql(schema: TableSchema, version: TableVersion | None) -> str:
    """SELECT of a table: its typed columns over exactly the files of the current Delta
    version (no de-duplication needed: each commit keeps one row per key)."""
    columns = schema.types
    if version is None or not version.files:
        return _empty_select(columns)
    partitions = {k: duckdb_type(columns[k]) for k in schema.partition_keys}
    present = version.columns | set(schema.partition_keys)
    return _select(columns, _scan(version.files, partitions), present=present)


def rejects_view_sql(files: list[str]) -> str:
    """SELECT of every rejected record, all tables, each distinct refusal once.

    Re-reading a window (lookback, a re-run after a crash) refuses the same raw record
    again; rejects are appended, so the view shows the first time it was refused.
    """
    columns = REJECT_TYPES
    if not files:
        return _empty_select(columns)
    same = ", ".join(ident(c) for c in ("table", "project", "reason", "raw"))
    first = f"QUALIFY row_number() OVER (PARTITION BY {same} ORDER BY {ident(EXTRACTED_AT)}) = 1"
    return _select(columns, _scan(files, {"project": "VARCHAR"}), first)


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


MART_COLUMNS: dict[str, dict[str, str]] = {
    "mart_requests_daily": {
        "project": "Project the requests belong to.",
        "day": "UTC day the requests were created.",
        "object_type": "deployment or pipeline.",
        "object_name": "Deployment or pipeline name.",
        "requests": "Requests created that day.",
        "finished": "Of those, requests completed, failed or cancelled.",
        "failures": "Of those, requests that failed.",
        "failure_rate": "failures / finished; null when none finished.",
        "p50_queue_seconds": "Median seconds from creation to start.",
        "p95_queue_seconds": "95th percentile of seconds from creation to start.",
        "p50_run_seconds": "Median seconds from start to completion.",
        "p95_run_seconds": "95th percentile of seconds from start to completion.",
    },
    "mart_error_logs_daily": {
        "project": "Project the logs belong to.",
        "day": "UTC day of the log lines.",
        "deployment_name": "Deployment that logged (null for pipeline or project logs).",
        "deployment_version": "Deployment version that logged.",
        "pipeline_name": "Pipeline that logged.",
        "error_logs": "Log lines with level error.",
    },
    "mart_audit_actions_daily": {
        "project": "Project the events belong to.",
        "day": "UTC day of the events.",
        "user": "Email of the user who acted.",
        "action": "create, update, delete or info.",
        "events": "Audit events.",
    },
}
"""What each mart column means, for BI tools (COMMENT ON COLUMN)."""


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
    statements.extend(
        f"COMMENT ON COLUMN {name}.{ident(column)} IS {sql_string(text)}"
        for name, columns in MART_COLUMNS.items()
        for column, text in columns.items()
    )
    return statements


VIEWS: tuple[str, ...] = (
    *(schema.name for schema in (*EVENT_TABLES, *SNAPSHOT_TABLES)),
    "rejects",
    *MARTS,
)
"""Every view of the lake, in dependency order."""


def view_statements(
    files: dict[str, TableVersion | None],
    rejects: list[str],
    only: Collection[str] | None = None,
) -> list[str]:
    """CREATE VIEW statements for every table (from its live files), `rejects` and the
    marts, in dependency order; with `only`, for those views alone (a mart needs the views
    it reads in `only` too)."""
    statements = []
    for schema in (*EVENT_TABLES, *SNAPSHOT_TABLES):
        if only is None or schema.name in only:
            body = table_view_sql(schema, files.get(schema.name))
            statements.append(f"CREATE OR REPLACE VIEW {ident(schema.name)} AS {body}")
    if only is None or "rejects" in only:
        statements.append(f"CREATE OR REPLACE VIEW rejects AS {rejects_view_sql(rejects)}")
    statements.extend(
        f"CREATE OR REPLACE VIEW {name} AS {body}"
        for name, body in MARTS.items()
        if only is None or name in only
    )
    return statements
