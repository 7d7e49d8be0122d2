"""The real sync, backfill and compact flows under Prefect, against the simulator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client

from flows.core.errors import EXIT_FAILED, RunIncomplete
from flows.core.settings import Settings
from flows.params import RunParams
from flows.prefect_flows import backfill_flow, compact_flow, sync_flow
from flows.runs import run_range
from simulator import serve_in_thread
from warehouse import Lake

pytestmark = pytest.mark.timeout(300)


def truth(sim, table):
    fetch = {
        "logs": sim.world.truth_logs,
        "requests": sim.world.truth_requests,
        "audit_events": sim.world.truth_audit_events,
    }[table]
    return {r["id"]: r for p in sim.world.project_names for r in fetch(p)}


async def sync(sim, since=None, **settings):
    """The sync flow with these settings, on the simulator's clock."""
    return await sync_flow(RunParams(since=since, settings=settings), clock=sim.clock.now)


async def backfill(sim, since, until, **settings):
    """The backfill flow of [since, until) with these settings, on the simulator's clock."""
    params = RunParams(since=since, until=until, settings=settings)
    return await backfill_flow(params, clock=sim.clock.now)


def assert_exact(sim, root: Path) -> None:
    for table in ("logs", "requests", "audit_events"):
        ids = [row[0] for row in _ids(root, table)]
        assert len(ids) == len(set(ids)), f"duplicate ids in {table}"
        assert set(ids) == set(truth(sim, table)), f"{table} differs from the simulator"


def forbidding(sim, suffix: str):
    """The simulator's app, answering 403 to every path that ends with `suffix`."""

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith(suffix):
            body = b'{"error": "Permission denied"}'
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await sim.app(scope, receive, send)

    return app


def _ids(root: Path, table: str):
    # project=*/ keeps the glob out of _delta_log/, whose checkpoints are Parquet too (README)
    glob = f"{root}/{table}/project=*/**/*.parquet"
    return duckdb.sql(f"SELECT id FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()


async def test_sync_lands_every_record_exactly_once(sim, tmp_path):
    """One sync copies every log, request and audit event once, with typed logs byte-exact."""
    ledger = await sync(sim, warehouse=str(tmp_path), since="4d")
    assert ledger["ok"], ledger
    assert_exact(sim, tmp_path)
    logs = truth(sim, "logs")
    stored = duckdb.sql(
        f"SELECT id, log FROM read_parquet('{tmp_path}/logs/project=*/**/*.parquet', "
        "hive_partitioning=1)"
    ).fetchall()
    assert all(logs[i]["log"] == text for i, text in stored)
    assert ledger["rows_written"] > 0
    assert ledger["api_calls"] > 0
    assert Lake.open(tmp_path).ledger.read()[-1]["run_id"] == ledger["run_id"]
    async with get_client() as client:
        artifact = await client.read_latest_artifacts()
    assert any(a.key == "ubiops-sync-summary" for a in artifact)


async def test_next_sync_picks_up_new_logs_and_request_progress(sim, tmp_path):
    """After time passes, a second sync adds the new records and moves requests to their
    latest state, still exactly once."""
    assert (await sync(sim, warehouse=str(tmp_path), since="4d"))["ok"]
    before = len(_ids(tmp_path, "logs"))
    sim.clock.advance(timedelta(hours=3))
    ledger = await sync(sim, warehouse=str(tmp_path))
    assert ledger["ok"], ledger
    assert len(_ids(tmp_path, "logs")) > before
    assert_exact(sim, tmp_path)
    states = dict(
        duckdb.sql(
            "SELECT id, status::VARCHAR FROM read_parquet("
            f"'{tmp_path}/requests/project=*/**/*.parquet', hive_partitioning=1)"
        ).fetchall()
    )
    assert states == {i: r["status"] for i, r in truth(sim, "requests").items()}


async def test_backfill_is_resumable_and_skips_finished_windows(sim, tmp_path):
    """A second backfill of the same range asks the API for no log window again."""
    since = (sim.clock.now() - timedelta(days=2)).isoformat()
    until = sim.clock.now().isoformat()
    ledger = await backfill(sim, since=since, until=until, warehouse=str(tmp_path))
    assert ledger["ok"], ledger
    calls = sim.calls("projects_log_list")
    assert calls > 0
    again = await backfill(sim, since=since, until=until, warehouse=str(tmp_path), streams=["logs"])
    assert again["ok"]
    assert sim.calls("projects_log_list") == calls
    state = Lake.open(tmp_path).state.load(sim.world.project_names[0], "logs")
    assert state is not None
    assert state["partial"] == {}


async def test_a_stream_held_by_another_run_is_skipped_as_busy(sim, tmp_path):
    """While another run holds one (project, stream), a sync skips just that pair, says who
    holds it, syncs the rest, and exits ok; once released, the next sync completes it."""
    project = sim.world.project_names[0]
    lake = Lake.open(tmp_path)
    with lake.lease(project, "logs", "other-run"):
        ledger = await sync(sim, warehouse=str(tmp_path), since="4d")
    assert ledger["ok"], ledger
    busy = [s for s in ledger["streams"] if s["busy"]]
    assert [(s["project"], s["stream"]) for s in busy] == [(project, "logs")]
    assert "other-run" in busy[0]["error"]
    assert not list(tmp_path.glob(f"logs/project={project}/**/*.parquet"))
    assert list(tmp_path.glob("requests/project=*/**/*.parquet"))
    assert (await sync(sim, warehouse=str(tmp_path), since="4d"))["ok"]
    assert_exact(sim, tmp_path)


async def test_a_run_that_finds_everything_held_is_busy(sim, tmp_path):
    """When every (project, stream) is being written by another run, nothing runs and the
    run says it is busy (the CLI's exit code 3)."""
    lake = Lake.open(tmp_path)
    held = [
        lake.leases.take(f"{project}/{stream}", "other-run")
        for project in sim.world.project_names
        for stream in ("logs", "requests", "audit_events", "snapshots")
    ]
    ledger = await sync(sim, warehouse=str(tmp_path), since="4d")
    assert ledger["busy"]
    assert "another run" in ledger["error"]
    assert not list(tmp_path.glob("logs/project=*/**/*.parquet"))
    for lease in held:
        lease.release()


async def test_compact_flow_leaves_one_file_per_partition(sim, tmp_path):
    """After several small syncs, compaction merges files without changing the data."""
    assert (await sync(sim, warehouse=str(tmp_path), since="4d"))["ok"]
    for _ in range(3):
        sim.clock.advance(timedelta(minutes=40))
        assert (await sync(sim, warehouse=str(tmp_path)))["ok"]
    report = compact_flow(warehouse=str(tmp_path), clock=sim.clock.now)
    assert report["files_added"] <= report["files_removed"]
    assert not report["skipped_busy"]
    for partition in (tmp_path / "logs").glob("project=*/day=*"):
        assert len(list(partition.glob("*.parquet"))) == 1
    assert_exact(sim, tmp_path)


async def test_an_unreadable_snapshot_endpoint_keeps_the_rows_it_had(sim, tmp_path, monkeypatch):
    """When the token loses access to one snapshot endpoint, that table keeps its last rows
    instead of being replaced by nothing, and the other tables still refresh."""
    assert (await sync(sim, warehouse=str(tmp_path), since="4d", streams=["snapshots"]))["ok"]
    before = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/quotas/project=*/**/*.parquet', "
        "hive_partitioning=1)"
    ).fetchall()[0][0]
    assert before > 0

    with serve_in_thread(forbidding(sim, "/quotas")) as server:
        monkeypatch.setenv("UBIOPS_API_HOST", server.base_url)
        ledger = await sync(sim, warehouse=str(tmp_path), streams=["snapshots"])
    assert ledger["ok"], ledger
    after = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/quotas/project=*/**/*.parquet', "
        "hive_partitioning=1)"
    ).fetchall()[0][0]
    assert after == before


async def test_sync_with_a_report_file_writes_it_and_attaches_a_markdown_artifact(
    sim, tmp_path, monkeypatch
):
    """With UBIOPS_ETL_REPORT_FILE set, the sync flow writes the report there after the run
    and publishes a markdown artifact naming it; the token appears in neither."""
    out = tmp_path / "out" / "report.html"
    monkeypatch.setenv("UBIOPS_ETL_REPORT_FILE", str(out))
    ledger = await sync(sim, warehouse=str(tmp_path / "lake"), since="4d")
    assert ledger["ok"], ledger
    assert ledger["report"] == str(out)
    assert "report_markdown" not in ledger
    page = out.read_text()
    assert page.count('<figure class="chart"') == 5
    assert sim.world.token not in page
    async with get_client() as client:
        artifacts = await client.read_latest_artifacts()
    found = [a for a in artifacts if a.key == "ubiops-report"]
    assert found, [a.key for a in artifacts]
    assert found[0].type == "markdown"
    assert str(out) in str(found[0].data)
    assert sim.world.token not in str(found[0].data)


async def test_sync_without_a_report_file_writes_no_report(sim, tmp_path):
    """The report is opt-in: a plain sync writes no report file."""
    ledger = await sync(sim, warehouse=str(tmp_path), since="4d")
    assert ledger["ok"], ledger
    assert "report" not in ledger
    assert not (tmp_path / "report.html").exists()


async def test_a_run_with_a_failed_stream_ends_failed_after_recording_which(
    sim, tmp_path, monkeypatch
):
    """When a (project, stream) fails, the flow run ends Failed with a message naming it,
    after the run ledger and the summary artifact have recorded it; the other streams land."""
    with serve_in_thread(forbidding(sim, "/audit")) as server:
        monkeypatch.setenv("UBIOPS_API_HOST", server.base_url)
        params = RunParams(since="4d", settings={"warehouse": str(tmp_path)})
        state = await sync_flow(params, clock=sim.clock.now, return_state=True)
    assert state.is_failed()
    with pytest.raises(RunIncomplete) as raised:
        await state.result()
    names = sorted(f"audit_events:{p}" for p in sim.world.project_names)
    assert all(name in str(raised.value) for name in names), str(raised.value)
    ledger = Lake.open(tmp_path).ledger.read()[-1]
    assert ledger == {k: v for k, v in raised.value.ledger.items() if k in ledger}
    failed = sorted(f"{s['stream']}:{s['project']}" for s in ledger["streams"] if not s["ok"])
    assert failed == names
    assert list(tmp_path.glob("logs/project=*/**/*.parquet"))
    async with get_client() as client:
        artifacts = await client.read_latest_artifacts()
    assert any(a.key == "ubiops-sync-summary" for a in artifacts)


def test_the_cli_prints_a_failed_flow_runs_table_and_exits_1(sim, tmp_path, monkeypatch, capsys):
    """`sync --prefect` whose flow run ends Failed prints the run's table with the failed
    (project, stream) pairs, like a direct run, and returns exit code 1."""
    with serve_in_thread(forbidding(sim, "/audit")) as server:
        monkeypatch.setenv("UBIOPS_API_HOST", server.base_url)
        settings = Settings.from_overrides(warehouse=str(tmp_path), prefect=True)
        code = run_range(settings, since="4d", until=None, backfill=False, clock=sim.clock.now)
    assert code == EXIT_FAILED
    shown = capsys.readouterr()
    assert "sync INCOMPLETE" in shown.out
    for project in sim.world.project_names:
        assert f"audit_events of {project} failed" in shown.err
