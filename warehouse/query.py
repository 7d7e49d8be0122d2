"""Querying the lake with DuckDB: locked-down connections, `run_sql`, output formats, BI file.

`connect` builds the views in an in-memory database, then confines it: external access off
except the lake root, configuration locked. `run_sql` also accepts only read statements
(SELECT, EXPLAIN), because DuckDB's directory allow-list permits writing inside the root.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from transform.schemas import SCHEMAS
from warehouse.errors import QueryRefused
from warehouse.layout import rejects_key
from warehouse.location import LakeLocation
from warehouse.objects import ObjectStore
from warehouse.tables import DeltaTables
from warehouse.views import (
    MARTS,
    VIEWS,
    comment_statements,
    ident,
    sql_string,
    view_statements,
)

TABLE_VIEWS = [*SCHEMAS, "rejects"]
BI_FILE = "ubiops.duckdb"
BI_STORAGE_VERSION = "v1.0.0"
"""The BI file's storage format: the oldest DuckDB 1.x format, so that the engines BI drivers
bundle (1.4 in the Grafana plugin, 1.5 in Metabase's driver) open a file written by the
pinned DuckDB 2.x, whose default format they refuse ("can only read 64-68")."""


class QueryResult(NamedTuple):
    """Column names and rows of one query (unpacks as `columns, rows`)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def _view_statements(location: LakeLocation, only: frozenset[str] | None = None) -> list[str]:
    tables = DeltaTables(location, ObjectStore(location))
    files = {name: tables.current(name) for name in SCHEMAS if only is None or name in only}
    rejects = []
    if only is None or "rejects" in only:
        rejects = [f for name in SCHEMAS for f in tables.live_files(rejects_key(name)) or []]
    return view_statements(files, rejects, only)


def views_read_by(sql: str) -> frozenset[str] | None:
    """The lake's views a query reads, each mart with the views it reads; None when DuckDB
    sees no view of the lake in it (`SHOW TABLES`, `duckdb_views()`, `information_schema`)
    or cannot tell without the views (then every view is built). Building only these spares
    a query the Delta logs and the binding of the views it does not read."""
    try:
        named = {name.lower() for name in duckdb.get_table_names(sql, qualified=False)}
    except duckdb.Error:
        return None
    wanted = named & set(VIEWS)
    for mart in wanted & MARTS.keys():
        wanted |= {name.lower() for name in duckdb.get_table_names(MARTS[mart])}
    return frozenset(wanted) or None


def register_store(con: duckdb.DuckDBPyConnection, location: LakeLocation) -> None:
    """Let DuckDB read an object-store root through obstore (no DuckDB extension needed,
    so it works offline; credentials come from the environment as for the writers)."""
    if location.is_local:
        return
    from obstore.fsspec import FsspecStore

    store: Any = FsspecStore  # overloaded per protocol literal; the cloud is checked at parse
    con.register_filesystem(
        store(location.cloud, client_options={"allow_http": location.allow_http})
    )


def connect(
    location: LakeLocation,
    read_only: bool = True,
    comments: bool = False,
    views: frozenset[str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake's views and marts, as of now (only
    `views` if given, see `views_read_by`).

    With `read_only` (the default) the connection can read files only under the root and its
    settings are locked, so SQL cannot reach other files or switch the limits off.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")  # the lake is UTC; show it so whatever the host says
    register_store(con, location)
    statements = _view_statements(location, views)
    for statement in statements + (comment_statements() if comments else []):
        con.execute(statement)
    if read_only:
        root = location.uri + ("/" if not location.is_local else os.sep)
        con.execute(f"SET allowed_directories = [{sql_string(root)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALYZE\s+)?(?:\([^)]*\)\s*)?(?P<inner>.*)$", re.I | re.S)


def check_read_only(sql: str) -> None:
    """Refuse anything but one SELECT, or EXPLAIN [ANALYZE] of one (COPY could write files).

    EXPLAIN ANALYZE runs its statement, so the statement inside an EXPLAIN is checked too;
    anything the check cannot read is refused.
    """
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1:
        raise QueryRefused(f"expected exactly one SQL statement, got {len(statements)}")
    kind = statements[0].type
    if kind == duckdb.StatementType.EXPLAIN:
        match = _EXPLAIN.match(statements[0].query)
        inner = duckdb.extract_statements(match.group("inner")) if match else []
        if len(inner) != 1 or inner[0].type != duckdb.StatementType.SELECT:
            raise QueryRefused("EXPLAIN is allowed only of a single SELECT")
    elif kind != duckdb.StatementType.SELECT:
        raise QueryRefused(f"only SELECT and EXPLAIN SELECT are allowed, not {kind.name}")


def _execute(location: LakeLocation, sql: str) -> QueryResult:
    with connect(location, views=views_read_by(sql)) as con:
        relation = con.execute(sql)
        columns = [d[0] for d in relation.description or []]
        return QueryResult(columns, relation.fetchall())


def run_sql(location: LakeLocation, sql: str, attempts: int = 3) -> QueryResult:
    """Run one read-only statement against the lake's views; columns and rows.

    The end of another run sweeps the files its commits replaced; a query that listed one of
    them just before fails to open it, so a failure to open a file is retried on the then
    current version (bounded).
    """
    check_read_only(sql)
    for attempt in range(1, attempts + 1):
        try:
            return _execute(location, sql)
        except duckdb.IOException:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def rows_per_table(location: LakeLocation) -> dict[str, int]:
    """Exact row count of every table view (each record once), for status and the demo."""
    with connect(location) as con:
        counts = {}
        for name in TABLE_VIEWS:
            row = con.execute(f"FROM {ident(name)} SELECT count(*)").fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts


def build_bi_database(location: LakeLocation, path: Path | str | None = None) -> Path | None:
    """Write a DuckDB file with the views (absolute file lists) for BI tools; its path.

    By default it is `<root>/ubiops.duckdb` for a local root; an object-store root gets one
    only where `path` says (a BI tool opening it then needs DuckDB's httpfs/azure extension
    and its own credentials). The views list the files of the current table versions, so
    the file is rebuilt after every run. It is written in storage format
    `BI_STORAGE_VERSION`, which DuckDB 1.4 and later open.
    """
    if path is None and location.local_path is None:
        return None
    target = Path(path).resolve() if path is not None else Path(location.uri) / BI_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(":memory:") as con:
            con.execute("SET TimeZone = 'UTC'")
            register_store(con, location)
            version = sql_string(BI_STORAGE_VERSION)
            con.execute(f"ATTACH {sql_string(str(tmp))} AS bi (STORAGE_VERSION {version})")
            con.execute("USE bi")
            for statement in _view_statements(location) + comment_statements():
                con.execute(statement)
            con.execute("USE memory")
            con.execute("DETACH bi")  # checkpoints: the file is complete, with no WAL
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def format_csv(result: QueryResult) -> str:
    """The result as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([[_plain(v) for v in row] for row in result.rows])
    return out.getvalue()


def format_json(result: QueryResult) -> str:
    """The result as a JSON array of objects (timestamps in ISO 8601)."""
    records = [
        {c: _plain(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows
    ]
    return json.dumps(records, ensure_ascii=False, default=str, indent=1)


def format_table(result: QueryResult, max_width: int = 40) -> str:
    """The result as a plain aligned text table (rich rendering is the CLI's business)."""
    cells = [[_cell(v, max_width) for v in row] for row in result.rows]
    widths = [len(c) for c in result.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines.extend(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(lines)


def _cell(value: Any, max_width: int) -> str:
    text = "NULL" if value is None else str(_plain(value))
    text = text.replace("\n", "\\n")
    return text if len(text) <= max_width else text[: max_width - 1] + "…"
