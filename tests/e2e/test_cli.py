"""The installed CLI as a subprocess: sync, sql, status, and every expected error ending in
one clear line with the right exit code, never a traceback, never the token."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse import Lake

pytestmark = pytest.mark.timeout(600)


def last_line(text: str) -> str:
    return [line for line in text.strip().splitlines() if line.strip()][-1]


@pytest.mark.parametrize("engine", ["prefect", "direct"])
def test_sync_then_sql_and_status(cli, tmp_path, simulator_proc, engine):
    """A sync exits 0 and lands data that `sql` (csv, json) and `status` report correctly,
    whether it runs as a Prefect flow run (a Prefect API is configured) or directly (none
    is: no Prefect server is started, the same run core writes the same lake)."""
    if engine == "direct":
        cli.env["PREFECT_API_URL"] = ""
        cli.env["PREFECT_HOME"] = str(tmp_path / "no-prefect-profile")
    done = cli("sync", "--since", "3d")
    assert done.returncode == 0, done.stderr
    runs = Lake.open(tmp_path / "lake").ledger.read()
    assert [r["engine"] for r in runs] == [engine]
    assert simulator_proc.token.split()[-1] not in done.stdout + done.stderr
    lake = tmp_path / "lake"
    direct = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/logs/project=*/**/*.parquet', "
        "hive_partitioning=1)"
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
    assert [r["engine"] for r in Lake.open(tmp_path / "lake").ledger.read()] == [engine] * 2
    assert (
        duckdb.sql(
            f"SELECT count(*) - count(DISTINCT id) FROM "
            f"read_parquet('{lake}/logs/project=*/**/*.parquet', hive_partitioning=1)"
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
        (("sync", "--task-runner", "ray"), {}, 2, "task_runner"),
        (("sync", "--dask-workers", "0"), {}, 2, "dask_workers"),
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
        "bad-task-runner",
        "bad-dask-workers",
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
    """While another live run holds every (project, stream) asked for, sync says so and
    exits 3; a crashed holder (its process gone) does not block the next run."""
    first = cli("sync", "--since", "1d", "--stream", "audit_events")
    assert first.returncode == 0, first.stderr
    lake = Lake.open(tmp_path / "lake")
    projects = sorted({p for p, s in lake.state.streams() if s == "audit_events"})
    held = [lake.leases.take(f"{p}/audit_events", "other-run") for p in projects]
    done = cli("sync", "--stream", "audit_events")
    assert done.returncode == 3, done.stderr
    assert "another run" in last_line(done.stderr)
    for lease in held:  # as if the holder had been killed: its pid no longer exists
        lease.doc["pid"] = _exited_pid()
        lease.renew()
    again = cli("sync", "--stream", "audit_events")
    assert again.returncode == 0, again.stderr


def _exited_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


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
        f"SELECT count(*) FROM read_parquet('{warehouse}/logs/project=*/**/*.parquet', "
        "hive_partitioning=1)"
    ).fetchall()[0][0]
    assert counts["logs"] == direct
    assert (warehouse / "ubiops.duckdb").exists()
    again = cli("demo", "--warehouse", str(warehouse))
    assert again.returncode == 0, again.stderr
    refused = cli("demo", "--warehouse", str(Path(__file__).parent))
    assert refused.returncode == 2
    assert "not made by the demo" in last_line(refused.stderr)


def test_sync_sql_status_and_compact_on_an_s3_warehouse(cli, s3_server, simulator_proc):
    """Every command works on a lake in an S3 bucket (moto's server on loopback): the lake
    lands exactly, and no credential shows in any output or object."""
    bucket = s3_server.new_bucket()
    env = {**s3_server.env(), "UBIOPS_ETL_WAREHOUSE": f"s3://{bucket}/lake"}
    done = cli("sync", "--since", "2d", **env)
    assert done.returncode == 0, done.stderr
    counted = cli(
        "sql", "SELECT count(*) AS n, count(DISTINCT id) AS d FROM logs", "-f", "json", **env
    )
    assert counted.returncode == 0, counted.stderr
    (row,) = json.loads(counted.stdout)
    assert row["n"] == row["d"] > 0
    keys = s3_server.keys(bucket, "lake/")
    assert any(k.startswith("lake/logs/_delta_log/") for k in keys)
    assert any(k.startswith("lake/logs/project=") and k.endswith(".parquet") for k in keys)
    status = cli("status", **env)
    assert status.returncode == 0, status.stderr
    assert "logs" in status.stdout
    compacted = cli("compact", **env)
    assert compacted.returncode == 0, compacted.stderr
    again = cli("sql", "SELECT count(*) AS n FROM logs", "-f", "json", **env)
    assert json.loads(again.stdout) == [{"n": row["n"]}]
    outputs = "".join(r.stdout + r.stderr for r in (done, counted, status, compacted, again))
    secret = s3_server.env()["AWS_SECRET_ACCESS_KEY"]
    assert secret not in outputs
    client = s3_server.client()
    for key in s3_server.keys(bucket, "lake/_state/"):
        if key:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert secret.encode() not in body


def test_an_s3_warehouse_that_does_not_exist_yet_is_a_usage_error(cli, s3_server):
    """`sql` on an empty bucket prefix says there is no lake there, in one line, exit 2."""
    env = {**s3_server.env(), "UBIOPS_ETL_WAREHOUSE": f"s3://{s3_server.new_bucket()}/none"}
    done = cli("sql", "SELECT 1", **env)
    assert done.returncode == 2, done.stderr
    assert "no lake at s3://" in last_line(done.stderr)
