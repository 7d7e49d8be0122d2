"""What each CLI command does once its flags are parsed: check, run, print, exit code.

Heavy modules (the run core with polars and httpx, DuckDB, Prefect) are imported inside the
commands that use them, so `status`, `sql` and `--help` start in well under a second.
"""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from flows import console
from flows.core.errors import EXIT_BUSY, EXIT_FAILED, EXIT_OK, RunIncomplete, UsageError
from flows.core.report_file import build_report
from flows.core.settings import ALL_STREAMS, Settings
from warehouse import (
    Lake,
    format_csv,
    format_json,
    format_table,
    run_sql,
)

if TYPE_CHECKING:
    from warehouse.state import Clock


def prefect_api_url(env: Mapping[str, str]) -> str | None:
    """The Prefect API this process would report to: `PREFECT_API_URL`, else the active
    Prefect profile's. Read without importing Prefect, which takes seconds."""
    if env.get("PREFECT_API_URL"):
        return env["PREFECT_API_URL"]
    home = Path(env.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = env.get("PREFECT_PROFILE") or doc.get("active")
    profiles = doc.get("profiles")
    profile = profiles.get(active) if isinstance(profiles, dict) and active else None
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(url) if url else None


def use_prefect(settings: Settings) -> bool:
    """Whether runs go through Prefect: asked for, a Prefect API is configured, or the
    tasks run on Dask (Prefect's DaskTaskRunner distributes them)."""
    return (
        settings.prefect
        or settings.task_runner == "dask"
        or prefect_api_url(os.environ) is not None
    )


def require_engine(settings: Settings) -> None:
    """The tasks of a run on an existing Dask cluster report to the flow run's Prefect API,
    so that API must be one the cluster's workers reach too: a configured one, not the
    temporary server Prefect starts for a flow run without one (which a local cluster's
    workers, started by this process, are told about)."""
    remote = settings.task_runner == "dask" and settings.dask_address
    if remote and prefect_api_url(os.environ) is None:
        raise UsageError(
            f"--dask-address {settings.dask_address} needs a Prefect API that the cluster's "
            "workers report to as well: run `prefect server start` and set "
            "PREFECT_API_URL=http://<host>:4200/api here and on the workers (or use Prefect "
            "Cloud); without one, --dask-workers N runs a local cluster"
        )


async def preflight(settings: Settings) -> list[str]:
    """Fail fast, before any Prefect run, on a bad token, host or project name."""
    from extract import open_client
    from flows.core import runner

    async with open_client(runner.client_config(settings)) as client:
        projects, skipped = await runner.resolve_projects(client, settings.projects)
    for name, why in skipped.items():
        console.log.warning("skipping project %r: %s", name, why)
    return projects


def report_run(ledger: dict[str, Any]) -> int:
    """Print the run's table; the exit code says whether every stream synced."""
    if ledger.get("busy"):
        console.err.print(
            f"[bold red]error:[/] {ledger['error']}; wait for it to finish, then retry",
            highlight=False,
        )
        return EXIT_BUSY
    table = Table(title=f"{ledger['kind']} {'ok' if ledger['ok'] else 'INCOMPLETE'}")
    for column in ("project", "stream", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("rows", "rejects", "pages", "lag"):
        table.add_column(column, justify="right", no_wrap=True)
    for s in ledger["streams"]:
        lag = "-" if s["lag_s"] is None else f"{s['lag_s'] / 60:.1f} min"
        status = "ok" if s["ok"] else "[red]FAILED[/]"
        table.add_row(
            s["project"],
            s["stream"],
            status,
            f"{s['rows_written']:,}",
            str(s["rejects"]),
            str(s["pages"]),
            lag,
        )
    console.out.print(table)
    console.out.print(
        f"{ledger['rows_written']:,} rows written, {ledger['rejects']} rejected "
        f"(see _rejects), {ledger['api_calls']} API calls, {ledger['retries']} retries, "
        f"{ledger['duration_s']:.1f}s"
    )
    if ledger.get("log_api"):
        endpoint = {"legacy": "POST /logs (legacy)", "current": "GET /logs (current)"}
        console.out.print(f"logs read through {endpoint[ledger['log_api']]}")
    if ledger.get("report"):
        console.out.print(f"report: {ledger['report']}", markup=False, highlight=False)
    failed = [s for s in ledger["streams"] if not s["ok"]]
    for s in failed:
        console.err.print(f"{s['stream']} of {s['project']} failed: {s['error']}", markup=False)
    for name, why in ledger["skipped_projects"].items():
        console.err.print(f"project {name!r} skipped: {why}", markup=False)
    if not ledger["ok"]:
        console.err.print(
            f"[bold red]error:[/] {len(failed)} stream(s) and "
            f"{len(ledger['skipped_projects'])} project(s) did not sync; the next run retries them"
        )
        return EXIT_FAILED
    return EXIT_OK


def execute_run(
    settings: Settings, since: str | None, until: str | None, *, backfill: bool, clock: Clock
) -> dict[str, Any]:
    """Run a sync or backfill as a Prefect flow run when Prefect is asked for or configured
    or the tasks run on Dask, otherwise the same run core directly (no Prefect import, no
    server to start); the run's ledger record either way."""
    from flows.core import runner
    from flows.progress import current_progress, reporting

    with reporting():
        if use_prefect(settings):
            from flows.params import RunParams
            from flows.prefect_flows import backfill_flow, sync_flow

            # The flow run reads the system clock: a clock is no flow parameter to store.
            params = RunParams.from_settings(settings, since=since, until=until)
            flow = backfill_flow if backfill else sync_flow
            try:
                ledger = asyncio.run(flow(params))
            except RunIncomplete as incomplete:  # the flow run failed; its ledger says why
                return incomplete.ledger
            if not isinstance(ledger, dict):  # a flow called directly resolves its state
                raise TypeError(f"{flow.name} returned {type(ledger).__name__}")
            return ledger
        summary = asyncio.run(
            runner.execute(
                settings,
                since=since,
                until=until,
                backfill=backfill,
                clock=clock,
                logger=console.log,
                progress=current_progress(),
            )
        )
        return summary.outcome()


def run_range(
    settings: Settings, *, since: str | None, until: str | None, backfill: bool, clock: Clock
) -> int:
    """`ubiops-etl sync` and `ubiops-etl backfill`: check the window and the token, run,
    print the summary; the exit code."""
    from flows.core.runner import resolve_window

    resolve_window(since, until, backfill=backfill, now=clock())  # fail before any call
    require_engine(settings)
    asyncio.run(preflight(settings))
    return report_run(execute_run(settings, since, until, backfill=backfill, clock=clock))


def run_compact(settings: Settings, *, clock: Clock) -> int:
    """`ubiops-etl compact` (a Prefect flow run when Prefect is asked for or configured)."""
    if use_prefect(settings):
        from flows.prefect_flows import compact_flow

        report = compact_flow(warehouse=settings.warehouse)
    else:
        from flows.core import runner

        report = runner.compact(settings, clock)
    console.out.print(
        f"compacted {report['projects']} project tables: {report['files_removed']} files "
        f"merged into {report['files_added']}, {report['files_swept']} replaced files deleted"
    )
    for name in report["skipped_busy"]:
        console.err.print(f"{name} skipped: another run is writing it", markup=False)
    return EXIT_OK


def run_report(settings: Settings, *, since: str, now: datetime, out: str | None) -> int:
    """`ubiops-etl report`: write the file and print its path."""
    path, _ = build_report(settings, since=since, now=now, out=out)
    console.out.print(f"report: {path}", markup=False, highlight=False)
    return EXIT_OK


def run_query(settings: Settings, query: str, *, fmt: str) -> int:
    """`ubiops-etl sql`: read-only, file access confined to the warehouse."""
    formatters = {"table": format_table, "csv": format_csv, "json": format_json}
    if fmt not in formatters:
        raise UsageError(f"unknown --format {fmt!r}; use table, csv or json")
    import duckdb

    lake = Lake.open(settings.location, create=False)  # NotALake: nothing synced there
    try:
        result = run_sql(lake.location, query)
    except duckdb.Error as exc:
        # A mistake in the SQL, or a file outside the lake it may not read: one line, exit 2.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"query failed: {first}") from None
    console.out.print(formatters[fmt](result), markup=False, highlight=False)
    return EXIT_OK


def show_status(settings: Settings, *, now: datetime) -> int:
    """`ubiops-etl status`: cursor, last run, rows and lag per (project, stream)."""
    lake = Lake.open(settings.location, create=False)
    runs = lake.ledger.read(last=500)
    last_ok: dict[tuple[str, str], str] = {}
    for run in runs:
        for s in run.get("streams", []):
            if s.get("ok"):
                last_ok[(s["project"], s["stream"])] = run["finished_at"]
    counts = _rows_by_project(settings)
    table = Table(title=f"warehouse {lake.root}")
    for column in ("project", "stream", "synced to (UTC)", "last ok run"):
        table.add_column(column, no_wrap=True)
    for column in ("rows", "lag"):
        table.add_column(column, justify="right", no_wrap=True)
    for project, stream in lake.state.streams():
        if stream not in ALL_STREAMS:
            continue
        cursor = _cursor_of(lake.state.load(project, stream) or {}, stream)
        lag = "-" if cursor is None else f"{(now - cursor).total_seconds() / 60:.1f} min"
        table.add_row(
            project,
            stream,
            _short(cursor),
            _short(datetime.fromisoformat(last_ok[(project, stream)]))
            if (project, stream) in last_ok
            else "-",
            f"{counts.get((project, stream), 0):,}",
            lag,
        )
    console.out.print(table)
    if runs:
        last = runs[-1]
        console.out.print(
            f"last run: {last['kind']} {'ok' if last['ok'] else 'INCOMPLETE'} at "
            f"{last['finished_at']}, {last['rows_written']:,} rows written"
        )
    return EXIT_OK


def _short(moment: datetime | None) -> str:
    return moment.strftime("%m-%d %H:%M") if moment else "-"


def _cursor_of(state: dict[str, Any], stream: str) -> datetime | None:
    """The point up to which a stream is complete, from its committed state."""
    from flows.core import intervals

    if stream == "logs":
        return intervals.covered_until(intervals.from_json(state.get("completed", [])))
    if stream == "requests":
        ends = [v.get("covered_until") for v in state.values() if isinstance(v, dict)]
        found = [datetime.fromisoformat(e) for e in ends if e]
        return min(found) if found else None
    key = "scanned_at" if stream == "audit_events" else "fetched_at"
    return datetime.fromisoformat(state[key]) if state.get(key) else None


def _rows_by_project(settings: Settings) -> dict[tuple[str, str], int]:
    result = run_sql(
        settings.location,
        "SELECT project, 'logs' AS s, count(*) FROM logs GROUP BY ALL "
        "UNION ALL SELECT project, 'requests', count(*) FROM requests GROUP BY ALL "
        "UNION ALL SELECT project, 'audit_events', count(*) FROM audit_events GROUP BY ALL "
        "UNION ALL SELECT project, 'snapshots', count(*) FROM projects GROUP BY ALL",
    )
    return {(str(r[0]), str(r[1])): int(r[2]) for r in result.rows}
