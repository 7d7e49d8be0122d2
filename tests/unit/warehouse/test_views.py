"""View SQL comes from the declared schemas; only read statements pass the SQL gate."""

import datetime as dt
import json

import pytest

from transform.schemas import (
    BOOLEAN,
    DATE,
    FLOAT64,
    INT64,
    LOGS,
    SCHEMAS,
    STRING,
    TIMESTAMP,
    enum,
    list_of,
)
from warehouse.errors import QueryRefused
from warehouse.query import (
    QueryResult,
    check_read_only,
    format_csv,
    format_json,
    format_table,
    views_read_by,
)
from warehouse.tables import TableVersion
from warehouse.views import duckdb_type, ident, sql_string, table_view_sql, view_statements


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (TIMESTAMP, "TIMESTAMPTZ"),
        (DATE, "DATE"),
        (enum(("a",)), "VARCHAR"),
        (list_of(STRING), "VARCHAR[]"),
        (list_of(list_of(INT64)), "BIGINT[][]"),
        (INT64, "BIGINT"),
        (FLOAT64, "DOUBLE"),
        (BOOLEAN, "BOOLEAN"),
        (STRING, "VARCHAR"),
    ],
)
def test_declared_types_map_to_duckdb(dtype, expected):
    """Each declared type has its DuckDB counterpart (UTC timestamps -> TIMESTAMPTZ)."""
    assert duckdb_type(dtype) == expected


def test_every_declared_column_has_a_duckdb_type():
    """No schema declares a type the views cannot expose."""
    for schema in SCHEMAS.values():
        for column in schema.columns:
            assert duckdb_type(column.type)


def test_literals_and_identifiers_are_escaped():
    """Quotes in paths and names cannot end the literal or identifier early."""
    assert sql_string("a'b") == "'a''b'"
    assert ident('us"er') == '"us""er"'


def test_table_view_reads_exactly_the_listed_files_without_dedupe():
    """A table view scans the current version's files by name with hive partitions, and
    needs no window: each commit already keeps one row per key."""
    files = ["/lake/logs/project=a/day=2026-01-01/part-1.parquet", "s3://b/l/logs/x'y.parquet"]
    sql = table_view_sql(LOGS, TableVersion(files, frozenset(LOGS.names)))
    assert "read_parquet(['/lake/logs/project=a/day=2026-01-01/part-1.parquet', " in sql
    assert "'s3://b/l/logs/x''y.parquet'" in sql
    assert "hive_partitioning = true" in sql
    assert "'day': DATE" in sql
    assert "QUALIFY" not in sql
    assert "*" not in sql.split("FROM", 1)[1]  # no glob: files outside the version are never read


def test_a_column_the_files_do_not_have_yet_reads_as_typed_null():
    """A column declared after the table was written is NULL of its type, not an error."""
    older = frozenset(n for n in LOGS.names if n != "_extra")
    sql = table_view_sql(LOGS, TableVersion(["/lake/logs/a.parquet"], older))
    assert 'CAST(NULL AS VARCHAR) AS "_extra"' in sql
    assert 'CAST("log" AS VARCHAR) AS "log"' in sql


def test_empty_tables_get_typed_empty_views():
    """A table without a commit is a typed SELECT with no rows instead of a failing scan."""
    statements = view_statements({"logs": None, "requests": TableVersion([], frozenset())}, [])
    logs = next(s for s in statements if s.startswith('CREATE OR REPLACE VIEW "logs"'))
    assert "WHERE false" in logs
    assert "read_parquet" not in logs
    assert any(s.startswith("CREATE OR REPLACE VIEW mart_requests_daily") for s in statements)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "explain select 1",
        "EXPLAIN ANALYZE SELECT 1",
        "EXPLAIN (FORMAT json) SELECT 1",
        "with a as (select 1) select * from a",
        "SHOW TABLES",
        "DESCRIBE logs",
    ],
)
def test_read_statements_pass(sql):
    """SELECT (also WITH, SHOW, DESCRIBE) and EXPLAIN [ANALYZE] of a SELECT are allowed."""
    check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO 'x.csv'",
        "CREATE TABLE t AS SELECT 1",
        "ATTACH 'x.db'",
        "SET enable_external_access = true",
        "SELECT 1; SELECT 2",
        "INSTALL httpfs",
        "DELETE FROM logs",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'",
        "explain analyze create table t as select 1",
        "-- note\nEXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'",
        "PRAGMA version",
    ],
)
def test_other_statements_are_refused(sql):
    """Anything that could write, attach, load or reconfigure is refused before it runs."""
    with pytest.raises(QueryRefused):
        check_read_only(sql)


RESULT = QueryResult(
    ["day", "n", "text"], [(dt.date(2026, 1, 2), 3, 'a,"b"'), (None, None, "line\nbreak")]
)


def test_csv_output_quotes_and_dates():
    """CSV output has a header, ISO dates and quoted fields."""
    lines = format_csv(RESULT).splitlines()
    assert lines[0] == "day,n,text"
    assert lines[1] == '2026-01-02,3,"a,""b"""'


def test_json_output_is_records():
    """JSON output is an array of objects keyed by column, dates in ISO 8601."""
    records = json.loads(format_json(RESULT))
    assert records[0] == {"day": "2026-01-02", "n": 3, "text": 'a,"b"'}
    assert records[1]["n"] is None


def test_table_output_aligns_columns():
    """The text table has a header, a rule and one line per row, nulls shown as NULL."""
    lines = format_table(RESULT).splitlines()
    assert len(lines) == 4
    assert "NULL" in lines[3]
    assert len({len(line) for line in lines}) == 1


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM logs", {"logs"}),
        (
            'SELECT * FROM main."Requests" r JOIN projects p ON r.project = p.project',
            {"requests", "projects"},
        ),
        ("SELECT * FROM logs WHERE id IN (SELECT id FROM audit_events)", {"logs", "audit_events"}),
        ("SELECT * FROM mart_error_logs_daily", {"mart_error_logs_daily", "logs"}),
        ("EXPLAIN ANALYZE SELECT * FROM mart_requests_daily", {"mart_requests_daily", "requests"}),
        ("SELECT * FROM rejects", {"rejects"}),
        # DuckDB binds some clauses to name the tables; where that needs the views: all.
        ("SELECT * FROM requests JOIN projects USING (project)", None),
        ("SHOW TABLES", None),
        ("SELECT * FROM duckdb_views()", None),
        ("SELECT 1", None),
    ],
)
def test_a_query_gets_the_views_it_names_and_what_marts_read(sql, expected):
    """Only the lake views a query names are built, each mart with the table it reads; a
    query that names none (listing the views, say), or whose names DuckDB cannot tell
    without the views, gets them all (None)."""
    wanted = views_read_by(sql)
    assert wanted == (None if expected is None else frozenset(expected))


def test_statements_for_some_views_create_only_those():
    """`only` keeps the CREATE VIEW statements of the views asked for, in order."""
    statements = view_statements({"logs": None}, [], only={"logs", "mart_error_logs_daily"})
    assert [s.split(" AS ")[0] for s in statements] == [
        'CREATE OR REPLACE VIEW "logs"',
        "CREATE OR REPLACE VIEW mart_error_logs_daily",
    ]
