"""The BI file opens where BI tools open it: DuckDB 1.4 and 1.5 (the engines BI drivers
bundle) and SQLAlchemy with duckdb-engine (Superset), each installed into its own directory
and run in a child process, reading every view and mart with the same answers as the pinned
DuckDB. Local lakes and a lake on an S3 server."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bi_engines import (
    DUCKDB_14,
    DUCKDB_15,
    OPEN_AND_QUERY,
    SQLALCHEMY_REFLECT,
    SUPERSET_STACK,
    pip_target,
    run_child,
)
from lake_examples import example_frame, example_rejects

from transform.schemas import EVENT_TABLES, SNAPSHOT_TABLES
from warehouse import Lake, LakeLocation, build_bi_database
from warehouse.views import MART_COLUMNS, MARTS

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
ROWS: dict[str, list[dict[str, Any]]] = {
    "logs": [
        {"id": "a" * 24, "level": "error", "deployment_name": "scorer", "log": "boom"},
        {"id": "b" * 24, "deployment_name": "scorer"},
        {"id": "c" * 24, "level": "error", "pipeline_name": "flow", "date": T0 + dt.timedelta(1)},
    ],
    "requests": [
        {
            "id": "r1",
            "status": "failed",
            "finished": True,
            "deployment": "scorer",
            "time_started": T0 + dt.timedelta(seconds=2),
            "time_completed": T0 + dt.timedelta(seconds=5),
            "seconds_queued": 2.0,
            "seconds_running": 3.0,
        },
        {"id": "r2", "status": "completed", "finished": True, "seconds_running": 1.5},
        {"id": "r3", "object_type": "pipeline", "deployment": None, "pipeline": "flow"},
    ],
    "audit_events": [{"id": "e1"}, {"id": "e2", "action": "delete", "user": "b@example.com"}],
    "projects": [{}],
    "project_users": [{"id": "u1"}],
    "environment_variables": [{"id": "v1", "name": "KEY", "secret": True}],
    "instance_types": [{"id": "i1", "name": "small", "cpu_allocation": 0.5}],
    "quotas": [{"resource": "cpu", "quota": 4}],
    "resource_counts": [{"deployments": 2}],
    "credit_usage": [{"scope": "project", "start_date": T0, "value": 1.25}],
}


def fill(root: LakeLocation) -> LakeLocation:
    """Every table with rows, and one reject."""
    lake = Lake.open(root)
    for schema in (*EVENT_TABLES, *SNAPSHOT_TABLES):
        lake.write(schema.name, example_frame(schema.name, ROWS[schema.name]))
    lake.write_rejects(example_rejects([{}]))
    return root


@pytest.fixture(scope="module")
def local_bi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BI file of a local lake holding every table."""
    root = fill(LakeLocation.parse(tmp_path_factory.mktemp("bi") / "lake"))
    path = build_bi_database(root)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def duckdb_14(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DuckDB 1.4 in its own directory."""
    return pip_target(tmp_path_factory.mktemp("duckdb-14"), (f"duckdb=={DUCKDB_14}",))


@pytest.fixture(scope="session")
def duckdb_15(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DuckDB 1.5 with duckdb-engine and SQLAlchemy 2.0, as Superset's environment has them."""
    return pip_target(tmp_path_factory.mktemp("superset-stack"), SUPERSET_STACK)


def pinned(path: Path) -> dict[str, Any]:
    """What the pinned DuckDB reads from the file: views, counts, marts, comments."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        views = [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1"
            ).fetchall()
        ]
        counts = {v: con.execute(f'SELECT count(*) FROM "{v}"').fetchone()[0] for v in views}
        marts = {
            v: [
                list(map(str, r))
                for r in con.execute(f'SELECT * FROM "{v}" ORDER BY ALL').fetchall()
            ]
            for v in MARTS
        }
    return {"views": views, "counts": counts, "marts": marts}


def test_the_pinned_duckdb_sees_every_table_with_rows(local_bi):
    """The reference answers are not vacuous: every table view has rows, every mart too."""
    expected = pinned(local_bi)
    assert set(MARTS) <= set(expected["views"])
    assert all(n > 0 for n in expected["counts"].values()), expected["counts"]


@pytest.mark.parametrize("engine", ["duckdb_14", "duckdb_15"])
def test_older_duckdb_opens_the_file_and_runs_every_view(local_bi, engine, request):
    """DuckDB 1.4 and 1.5 open the file read-only, list the same views, count the same rows
    in each, get the same mart rows and see the schema's column descriptions."""
    target = request.getfixturevalue(engine)
    got = run_child(target, OPEN_AND_QUERY, str(local_bi))
    expected = pinned(local_bi)
    assert got["version"] == (DUCKDB_14 if engine == "duckdb_14" else DUCKDB_15)
    assert got["views"] == expected["views"]
    assert got["counts"] == expected["counts"]
    assert got["marts"] == expected["marts"]
    assert got["comments"]["logs.log"] == "The log line, byte-exact."
    assert got["comments"]["requests.seconds_queued"] == "time_started - time_created, in seconds."
    assert (
        got["comments"]["mart_requests_daily.failure_rate"]
        == MART_COLUMNS["mart_requests_daily"]["failure_rate"]
    )
    every_mart_column = {k: v for k, v in got["comments"].items() if k.split(".")[0] in MARTS}
    assert all(every_mart_column.values()), every_mart_column


def test_superset_stack_reflects_and_queries_through_sqlalchemy(local_bi, duckdb_15):
    """Through SQLAlchemy 2.0 + duckdb-engine, with the URL the README gives: the inspector
    lists the views and their columns (with descriptions), and every mart runs."""
    got = run_child(duckdb_15, SQLALCHEMY_REFLECT, f"duckdb:///{local_bi}")
    expected = pinned(local_bi)
    assert got["sqlalchemy"].startswith("2.0.")
    assert got["views"] == expected["views"]
    assert got["columns"]["logs"][:3] == ["project", "day", "id"]
    assert got["comments"]["logs"]["log"] == "The log line, byte-exact."
    assert got["counts"] == expected["counts"]
    assert got["marts"] == expected["marts"]


def test_an_s3_lake_bi_file_opens_in_older_duckdb(s3_root, s3_server, tmp_path, duckdb_14):
    """The BI file of a lake on S3 (written where UBIOPS_ETL_BI_FILE says) opens in DuckDB
    1.4 and answers every view through a registered S3 filesystem (s3fs here), like the
    pinned DuckDB does."""
    root = fill(LakeLocation.parse(s3_root, os.environ))
    path = build_bi_database(root, tmp_path / "bi" / "ubiops.duckdb")
    assert path is not None
    got = run_child(
        duckdb_14, OPEN_AND_QUERY, str(path), s3_server.env()["AWS_ENDPOINT_URL"], with_venv=True
    )
    assert got["version"] == DUCKDB_14
    assert all(n > 0 for n in got["counts"].values()), got["counts"]
    assert got["marts"]["mart_requests_daily"], got["marts"]
