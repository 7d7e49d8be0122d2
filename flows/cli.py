"""`ubiops-etl`: the command line. Parses flags (each with an env var), builds Settings once,
runs the Prefect flows, and turns expected failures into one clear line and a non-zero exit."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

from flows import console
from flows.core.errors import EXIT_OK, as_user_error
from flows.core.settings import DEFAULT_WAREHOUSE, Settings

# Prefect reads its settings at import time: keep the CLI quiet and offline unless told otherwise.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# With no Prefect API, a flow run starts Prefect's temporary server, which creates its database
# on first use: about 28 s on 2 cores in a fresh PREFECT_HOME (a worker whose disk is thrown
# away), over Prefect's default wait of 20 s. Wait longer; a user's own value wins.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    name="ubiops-etl",
    help="Copy UbiOps logs, requests and audit events into a Parquet lake you query with DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_WAREHOUSE = ".ubiops-etl/demo"

WarehouseOpt = Annotated[
    str,
    typer.Option(
        "--warehouse",
        "-w",
        envvar="UBIOPS_ETL_WAREHOUSE",
        help="Lake root: a directory, or s3://bucket/prefix, gs://..., az://... / abfss://...",
        show_default=True,
    ),
]
ProjectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--project",
        "-p",
        envvar="UBIOPS_ETL_PROJECTS",
        help="Project to sync (repeat; default: all projects the token can see).",
    ),
]
StreamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stream",
        "-s",
        envvar="UBIOPS_ETL_STREAMS",
        help="Stream to sync: logs, requests, audit_events, snapshots (repeat; default: all).",
    ),
]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option(envvar="UBIOPS_ETL_CONCURRENCY", help="Concurrent API calls (default 4)."),
]
PrefectOpt = Annotated[
    bool,
    typer.Option(
        "--prefect",
        envvar="UBIOPS_ETL_PREFECT",
        help="Run as a Prefect flow run even without a configured Prefect API "
        "(default: only when PREFECT_API_URL or a Prefect profile names one).",
    ),
]
RateOpt = Annotated[
    int | None,
    typer.Option(
        envvar="UBIOPS_ETL_RATE_PER_MINUTE",
        help="Cap on API calls per minute per endpoint group (default: none; the pace "
        "follows the server's rate-limit headers and 429s).",
    ),
]

TaskRunnerOpt = Annotated[
    str | None,
    typer.Option(
        "--task-runner",
        envvar="UBIOPS_ETL_TASK_RUNNER",
        help="Where the (project, stream) tasks run: local (this process, the default) or "
        "dask (Dask worker processes; runs as a Prefect flow run).",
    ),
]
DaskWorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--dask-workers",
        envvar="UBIOPS_ETL_DASK_WORKERS",
        help="Worker processes of the local Dask cluster (default 2).",
    ),
]
DaskAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        envvar="UBIOPS_ETL_DASK_ADDRESS",
        help="Scheduler of an existing Dask cluster (tcp://host:8786) instead of a local one.",
    ),
]

ApiOpt = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="UBIOPS_ETL_API",
        help="Log endpoint: auto (POST /logs while the server has it, else GET /logs; the "
        "default), legacy (POST /logs, API v2.1) or current (GET /logs).",
    ),
]


def fail(message: str, code: int) -> typer.Exit:
    console.err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def run_cli(action: Callable[[], int | None]) -> None:
    """Run a command body; translate expected failures; exit with the body's code."""
    try:
        code = action() or EXIT_OK
    except KeyboardInterrupt:
        raise fail(
            "interrupted; the next run resumes from the last committed cursor", 130
        ) from None
    except Exception as exc:
        expected = as_user_error(exc)
        if expected is None:
            raise
        raise fail(str(expected), expected.exit_code) from None
    if code:
        raise typer.Exit(code)


def _now() -> datetime:
    return datetime.now(UTC)


def _settings(ctx: typer.Context) -> Settings:
    """Settings from the environment with the command's flags on top. A flag sets the
    setting of its name (`--task-runner` sets `task_runner`); a flag not given (None) or a
    switch left off keeps the environment's value."""
    given = {
        name: value
        for name, value in ctx.params.items()
        if name in Settings.model_fields and value is not False
    }
    return Settings.from_overrides(**given)


def _run_range(ctx: typer.Context, *, backfill: bool) -> None:
    """sync and backfill: the flags become Settings, then the run over [since, until)."""
    from flows.runs import run_range

    since, until = ctx.params["since"], ctx.params["until"]
    run_cli(
        lambda: run_range(_settings(ctx), since=since, until=until, backfill=backfill, clock=_now)
    )


@app.command()
def demo(
    warehouse: WarehouseOpt = DEMO_WAREHOUSE,
    seed: Annotated[int, typer.Option(envvar="UBIOPS_ETL_DEMO_SEED", help="Simulator seed.")] = 7,
    prefect: PrefectOpt = False,
) -> None:
    """Start the embedded simulator, sync it into a lake and answer three questions."""
    from flows.demo import run_demo

    run_cli(lambda: run_demo(warehouse=warehouse, seed=seed, clock=_now, prefect=prefect))


@app.command()
def sync(
    ctx: typer.Context,
    projects: ProjectOpt = None,
    streams: StreamOpt = None,
    since: Annotated[
        str | None,
        typer.Option(
            envvar="UBIOPS_ETL_SINCE",
            help="Start of the first sync (ISO 8601 or an age like 7d; default 7d). "
            "Later syncs continue from their cursors.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(envvar="UBIOPS_ETL_UNTIL", help="End (ISO 8601 or age; default now)."),
    ] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    concurrency: ConcurrencyOpt = None,
    rate_per_minute: RateOpt = None,
    prefect: PrefectOpt = False,
    api: ApiOpt = None,
    task_runner: TaskRunnerOpt = None,
    dask_workers: DaskWorkersOpt = None,
    dask_address: DaskAddressOpt = None,
) -> None:
    """Incremental sync of all streams of all visible (or the named) projects."""
    _run_range(ctx, backfill=False)


@app.command()
def backfill(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option(envvar="UBIOPS_ETL_SINCE", help="Start (ISO 8601 or age like 30d).")
    ],
    until: Annotated[
        str, typer.Option(envvar="UBIOPS_ETL_UNTIL", help="End (ISO 8601 or age; e.g. now).")
    ] = "now",
    projects: ProjectOpt = None,
    streams: StreamOpt = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    concurrency: ConcurrencyOpt = None,
    rate_per_minute: RateOpt = None,
    prefect: PrefectOpt = False,
    api: ApiOpt = None,
    task_runner: TaskRunnerOpt = None,
    dask_workers: DaskWorkersOpt = None,
    dask_address: DaskAddressOpt = None,
) -> None:
    """Load a date range, windows in parallel; resumable: finished windows are not fetched again."""
    _run_range(ctx, backfill=True)


@app.command()
def compact(
    ctx: typer.Context, warehouse: WarehouseOpt = DEFAULT_WAREHOUSE, prefect: PrefectOpt = False
) -> None:
    """Bin-pack the small files frequent syncs leave, then delete the files they replaced."""
    from flows.runs import run_compact

    run_cli(lambda: run_compact(_settings(ctx), clock=_now))


@app.command()
def status(ctx: typer.Context, warehouse: WarehouseOpt = DEFAULT_WAREHOUSE) -> None:
    """Per project and stream: cursor, last run, rows and lag behind now."""
    from flows.runs import show_status

    run_cli(lambda: show_status(_settings(ctx), now=_now()))


@app.command()
def sql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A SELECT over the views (logs, requests, ...).")],
    format: Annotated[
        str,
        typer.Option("--format", "-f", envvar="UBIOPS_ETL_FORMAT", help="table, csv or json."),
    ] = "table",
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Ask the lake a question in SQL (read-only; the views are listed by `SHOW TABLES`)."""
    from flows.runs import run_query

    run_cli(lambda: run_query(_settings(ctx), query, fmt=format))


@app.command()
def report(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(
            envvar="UBIOPS_ETL_REPORT_SINCE",
            help="Start of the range (ISO 8601 or an age like 30d); the end is now.",
        ),
    ] = "30d",
    projects: ProjectOpt = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="HTML file to write (default: <warehouse>/report.html for a local lake, "
            "./report.html for object storage).",
        ),
    ] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Write one self-contained HTML report (charts, latest errors) that works offline."""
    from flows.runs import run_report

    run_cli(lambda: run_report(_settings(ctx), since=since, now=_now(), out=out))


@app.command()
def serve(
    ctx: typer.Context,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    sync_every: Annotated[
        str,
        typer.Option(envvar="UBIOPS_ETL_SYNC_EVERY", help="Sync interval (an age: 15m, 1h)."),
    ] = "15m",
    sync_cron: Annotated[
        str | None,
        typer.Option(envvar="UBIOPS_ETL_SYNC_CRON", help="Cron for sync (overrides --sync-every)."),
    ] = None,
    compact_cron: Annotated[
        str,
        typer.Option(envvar="UBIOPS_ETL_COMPACT_CRON", help="Cron for compaction."),
    ] = "0 3 * * *",
    projects: ProjectOpt = None,
    streams: StreamOpt = None,
) -> None:
    """Register sync and compact as Prefect deployments with schedules and serve them."""
    from flows.serve import serve_deployments

    run_cli(
        lambda: serve_deployments(
            _settings(ctx), sync_every=sync_every, sync_cron=sync_cron, compact_cron=compact_cron
        )
    )


@app.command()
def deploy(
    ctx: typer.Context,
    pool: Annotated[
        str,
        typer.Option("--pool", envvar="UBIOPS_ETL_POOL", help="Prefect work pool (type process)."),
    ],
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    sync_every: Annotated[
        str,
        typer.Option(envvar="UBIOPS_ETL_SYNC_EVERY", help="Sync interval (an age: 15m, 1h)."),
    ] = "15m",
    sync_cron: Annotated[
        str | None,
        typer.Option(envvar="UBIOPS_ETL_SYNC_CRON", help="Cron for sync (overrides --sync-every)."),
    ] = None,
    compact_cron: Annotated[
        str,
        typer.Option(envvar="UBIOPS_ETL_COMPACT_CRON", help="Cron for compaction."),
    ] = "0 3 * * *",
    projects: ProjectOpt = None,
    streams: StreamOpt = None,
    task_runner: TaskRunnerOpt = None,
    dask_workers: DaskWorkersOpt = None,
    dask_address: DaskAddressOpt = None,
) -> None:
    """Register the sync, backfill and compact deployments for a work pool's workers."""
    from flows.deployments import deploy_to_pool

    def go() -> int:
        names = deploy_to_pool(
            _settings(ctx),
            pool=pool,
            sync_every=sync_every,
            sync_cron=sync_cron,
            compact_cron=compact_cron,
        )
        for name in names:
            console.out.print(f"deployed {name} to work pool {pool!r}", markup=False)
        console.out.print(f"run them with: prefect worker start --pool {pool}", markup=False)
        return 0

    run_cli(go)


def _mount_simulator() -> None:
    from simulator.cli import simulator as simulator_command

    app.command("simulator")(simulator_command)


_mount_simulator()


def main() -> None:
    """Console-script entry point."""
    console.configure()
    app()
