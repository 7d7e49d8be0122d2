"""The report's questions over a real lake: the range and project filters, the numbers the
charts draw (local and S3 lakes), and the atomic write of the page."""

from __future__ import annotations

import datetime as dt

import pytest

from warehouse import Lake
from warehouse.report_sql import REPORT_QUERIES, report_frames, write_report

T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def lake(root, frame):
    """Two projects; requests and errors on two days, one day outside the range; a local
    lake and one on an S3 server."""
    lake = Lake.open(root)
    old = T0 - dt.timedelta(days=40)
    requests = [
        {"id": "r1", "status": "failed", "finished": True, "seconds_running": 4.0},
        {"id": "r2", "status": "completed", "finished": True, "seconds_running": 2.0},
        {"id": "r3", "project": "beta", "status": "completed", "finished": True},
        {"id": "r4", "time_created": old, "status": "failed", "finished": True},
    ]
    lake.write("requests", frame("requests", requests))
    logs = [
        {"id": "a" * 24, "level": "error", "deployment_name": "dep", "log": "boom"},
        {"id": "b" * 24, "level": "error", "project": "beta", "deployment_name": "dep"},
        {"id": "c" * 24, "level": "error", "deployment_name": "dep", "date": old},
        {"id": "d" * 24, "level": "info", "deployment_name": "dep"},
    ]
    lake.write("logs", frame("logs", logs))
    lake.write("audit_events", frame("audit_events", [{"id": "e1"}, {"id": "e2"}]))
    return root


def test_range_limits_every_answer(lake):
    """Rows before `since` are left out of every frame; all projects by default."""
    frames = report_frames(lake, T0 - dt.timedelta(days=30), T0 + dt.timedelta(hours=1), [])
    assert set(frames) == set(REPORT_QUERIES)
    daily = frames["requests_daily"]
    assert daily["requests"].sum() == 3
    assert daily["failures"].sum() == 1
    assert frames["error_logs_daily"]["error_logs"].sum() == 2
    assert frames["audit_by_user"]["events"].sum() == 2
    assert frames["latest_errors"].height == 2
    durations = frames["durations"].row(0, named=True)
    assert durations["deployment"] == "dep"
    assert durations["p50_run_seconds"] == pytest.approx(3.0)  # r3 has no run time
    assert durations["finished"] == 3


def test_project_filter(lake):
    """Naming a project keeps only its rows."""
    frames = report_frames(lake, T0 - dt.timedelta(days=30), T0 + dt.timedelta(hours=1), ["beta"])
    assert frames["requests_daily"]["requests"].sum() == 1
    assert frames["latest_errors"]["project"].to_list() == ["beta"]
    assert frames["audit_by_user"].is_empty()


def test_write_report_replaces_the_file_atomically(tmp_path):
    """The page is written whole, over an older one, leaving no temporary file."""
    target = tmp_path / "a" / "report.html"
    write_report(target, "old")
    assert write_report(target, "<html>new</html>") == target
    assert target.read_text() == "<html>new</html>"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
