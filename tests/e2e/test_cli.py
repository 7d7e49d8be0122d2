"""The installed CLI as a subprocess: sync, sql, status, and every expected error ending in
one clear line with the right exit code, never a traceback, never the token."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from warehouse import Lake

pytestmark = pytest.mark.timeout(600)


def last_line(text: str) -> str:
    return [line for line in text.strip().splitlines() if line.strip()][-1]


def test_sync_then_sql_and_status(cli, tmp_path, simulator_proc):
    """A sync exits 0 and lands data that `sql` (csv, json) and `status` report correctly."""
    done = cli("sync", "--since", "3d")
    assert done.returncode == 0, done.stderr
    assert simulator_proc.token.split()[-1] not in done.stdout + done.stderr
    lake = tmp_path / "lake"
    direct = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/logs/**/*.parquet', hive_partitioning=1)"
    ).fetchall()[0][0]
    assert direct > 0
    as_json = cli("sql", "SELECT count(*) AS n FROM logs", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [{"n": direct}]
    as_csv = cli(
        "sql", "SELECT project, count(*) AS n FROM logs GROUP BY 1 ORDER BY 1", "-f", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert sum(int(r["n"]) for r in rows) == direct
    assert len(rows) == 2
    status = cli("status")
    assert status.returncode == 0, status.stderr
    for stream in ("logs", "requests", "audit_events", "snapshots"):
        assert stream in status.stdout
    again = cli("sync")
    assert again.returncode == 0, again.stderr
    assert (
        duckdb.sql(
            f"SELECT count(*) - count(DISTINCT id) FROM "
            f"read_parquet('{lake}/logs/**/*.parquet', hive_partitioning=1)"
        ).fetchall()[0][0]
        == 0
    )


@pytest.mark.parametrize(
    ("args", "env", "code", "needle"),
    [
        (("sync",), {"UBIOPS_API_TOKEN": "Token wrong-token-123"}, 1, "UBIOPS_API_TOKEN"),
        (("sync",), {"UBIOPS_API_TOKEN": ""}, 2, "UBIOPS_API_TOKEN"),
        (("sync",), {"UBIOPS_API_HOST": "http://127.0.0.1:9/v2.1"}, 1, "127.0.0.1:9"),
        (("sync", "--project", "no-such-project"), {}, 2, "unknown project"),
        (("sync", "--since", "last tuesday"), {}, 2, "ISO 8601"),
        (("sync", "--stream", "metrics"), {}, 2, "streams"),
        (("sql", "SELECT 1", "--format", "xml"), {}, 2, "table, csv or json"),
        (("sql", "DROP VIEW logs"), {}, 2, ""),
    ],
    ids=[
        "bad-token",
        "no-token",
        "unreachable",
        "unknown-project",
        "bad-date",
        "bad-stream",
        "bad-format",
        "sql-write",
    ],
)
def test_expected_errors_end_in_one_line(cli, tmp_path, args, env, code, needle):
    """Each mistake exits with its code and one `error:` line saying what to fix."""
    (tmp_path / "lake").mkdir(exist_ok=True)
    done = cli(*args, **env)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    line = last_line(done.stderr)
    assert line.startswith("error:")
    assert needle in line
    assert "wrong-token-123" not in done.stdout + done.stderr


def test_a_held_warehouse_exits_3(cli, tmp_path, simulator_proc):
    """While another run holds the warehouse, sync says so and exits 3."""
    first = cli("sync", "--since", "1d", "--stream", "audit_events")
    assert first.returncode == 0, first.stderr
    lake = Lake.open(tmp_path / "lake")
    with lake.lock():
        done = cli("sync", "--stream", "audit_events")
    assert done.returncode == 3, done.stderr
    assert "another run" in last_line(done.stderr)


def test_demo_answers_three_questions(cli, tmp_path):
    """`demo` syncs the embedded simulator and prints rows per table and three answers."""
    warehouse = tmp_path / "demo"
    done = cli("demo", "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr
    for title in ("Rows per table", "Failure rate per deployment", "p95", "Latest errors"):
        assert title in done.stdout
    counts = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in done.stdout.split("Rows per table")[1].splitlines()[1:12]
        if len(line.split()) == 2
    }
    assert counts["logs"] > 0
    assert counts["requests"] > 0
    assert counts["audit_events"] > 0
    direct = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{warehouse}/logs/**/*.parquet', hive_partitioning=1)"
    ).fetchall()[0][0]
    assert counts["logs"] == direct
    assert (warehouse / "ubiops.duckdb").exists()
    again = cli("demo", "--warehouse", str(warehouse))
    assert again.returncode == 0, again.stderr
    refused = cli("demo", "--warehouse", str(Path(__file__).parent))
    assert refused.returncode == 2
    assert "not made by the demo" in last_line(refused.stderr)
