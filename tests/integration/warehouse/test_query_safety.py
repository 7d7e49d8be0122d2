"""SQL over the lake cannot change it or read outside it; the BI file opens anywhere."""

import os
from pathlib import Path

import duckdb
import pytest

import warehouse.query as query
from transform.schemas import LOGS
from warehouse import Lake, LakeLocation, QueryRefused, build_bi_database, connect, run_sql


@pytest.fixture
def lake_with_logs(tmp_path, frame):
    """A lake holding two logs."""
    root = LakeLocation.parse(tmp_path / "lake")
    Lake.open(root).write("logs", frame("logs", [{"id": "a" * 24}, {"id": "b" * 24}]))
    return root


@pytest.mark.parametrize("prefix", ["", "EXPLAIN ANALYZE "])
def test_copy_into_the_lake_is_refused(lake_with_logs, prefix):
    """A COPY (even wrapped in EXPLAIN ANALYZE, which runs it) is refused, writing nothing."""
    before = sorted(Path(lake_with_logs.uri).rglob("*"))
    with pytest.raises(QueryRefused):
        run_sql(lake_with_logs, f"{prefix}COPY (SELECT 1) TO '{lake_with_logs}/logs/x.parquet'")
    assert sorted(Path(lake_with_logs.uri).rglob("*")) == before


def test_files_outside_the_root_cannot_be_read(lake_with_logs, tmp_path):
    """A SELECT reading a file outside the lake root fails with a permission error."""
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc\n")
    with pytest.raises(duckdb.PermissionException):
        run_sql(lake_with_logs, f"SELECT * FROM read_csv('{secret}')")


def test_a_sibling_directory_sharing_the_prefix_is_outside(lake_with_logs, tmp_path):
    """`<root>-other` is not inside `<root>` even though its name starts the same."""
    sibling = tmp_path / "lake-other"
    sibling.mkdir()
    (sibling / "x.csv").write_text("a\n1\n")
    with pytest.raises(duckdb.PermissionException):
        run_sql(lake_with_logs, f"SELECT * FROM read_csv('{sibling}/x.csv')")


def test_locked_connection_cannot_be_reconfigured(lake_with_logs):
    """The connection's limits are locked: switching external access back on fails."""
    with connect(lake_with_logs) as con, pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")


def test_bi_database_opens_from_another_process_view(lake_with_logs, tmp_path):
    """The BI file holds views listing absolute file paths, so a fresh connection queries
    the lake from anywhere."""
    path = build_bi_database(lake_with_logs, tmp_path / "bi" / "lake.duckdb")
    assert path is not None
    assert path.is_file()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM logs").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM mart_error_logs_daily").fetchone() == (0,)
    assert [p.name for p in path.parent.iterdir()] == ["lake.duckdb"]


def test_bi_database_rebuild_replaces_the_file(lake_with_logs, frame):
    """Building again after more data replaces the file atomically and sees the new rows."""
    first = build_bi_database(lake_with_logs)
    Lake.open(lake_with_logs).write("audit_events", frame("audit_events", [{"id": "e"}]))
    second = build_bi_database(lake_with_logs)
    assert first == second
    assert second is not None
    with duckdb.connect(str(second), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit_events").fetchone() == (1,)


def test_query_is_retried_when_a_listed_file_vanishes(lake_with_logs, monkeypatch):
    """A file deleted between listing and reading (a rewrite) costs a retry, not a failure."""
    real = query._execute
    calls = []

    def flaky(root, sql):
        calls.append(sql)
        if len(calls) == 1:
            raise duckdb.IOException("Cannot open file: No such file or directory")
        return real(root, sql)

    monkeypatch.setattr(query, "_execute", flaky)
    assert run_sql(lake_with_logs, "SELECT count(*) FROM logs").rows == [(2,)]
    assert len(calls) == 2


def test_query_errors_other_than_io_are_not_retried(lake_with_logs):
    """A wrong query fails at once with DuckDB's message."""
    with pytest.raises(duckdb.BinderException):
        run_sql(lake_with_logs, "SELECT no_such_column FROM logs")


def test_bi_database_documents_views_and_columns(lake_with_logs):
    """The BI file carries each table's and column's description from the schemas."""
    path = build_bi_database(lake_with_logs)
    assert path is not None
    with duckdb.connect(str(path), read_only=True) as con:
        view = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'logs'").fetchone()
        column = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'logs' AND column_name = 'log'"
        ).fetchone()
    assert view == (LOGS.description,)
    assert column == (LOGS.column("log").description,)


def test_an_s3_root_confines_queries_to_its_prefix(s3_root, s3_server, frame):
    """On object storage the allow-list is the root's URL: another bucket is unreadable, and
    no BI file is written unless a path is given."""
    root = LakeLocation.parse(s3_root, os.environ)
    Lake.open(root).write("logs", frame("logs", [{"id": "a" * 24}]))
    other = s3_server.new_bucket()
    s3_server.client().put_object(Bucket=other, Key="x.csv", Body=b"a\n1\n")
    assert run_sql(root, "SELECT count(*) FROM logs").rows == [(1,)]
    with pytest.raises(duckdb.PermissionException):
        run_sql(root, f"SELECT * FROM read_csv('s3://{other}/x.csv')")
    assert build_bi_database(root) is None


def test_a_query_builds_only_the_views_it_reads(lake_with_logs):
    """`sql` over one table builds that view alone (no other table's Delta log is read);
    listing the views builds them all."""
    listed = "SELECT list(view_name ORDER BY view_name) FROM duckdb_views() WHERE NOT internal"
    one = run_sql(lake_with_logs, f"SELECT (SELECT count(*) FROM logs), ({listed})").rows
    assert one == [(2, ["logs"])]
    every = run_sql(lake_with_logs, listed).rows[0][0]
    assert {"logs", "requests", "rejects", "mart_requests_daily"} <= set(every)
