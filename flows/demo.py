"""`ubiops-etl demo`: the product end to end in about a minute, with no token and no network.

It starts the embedded simulator on a free loopback port, runs the real sync flow against it
into a local warehouse, prints what landed, and answers three questions in SQL.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from flows import console
from flows.core.errors import UsageError
from flows.core.report_file import build_report
from flows.core.settings import Settings
from flows.runs import execute_run, report_run
from warehouse import Lake, LakeLocation, format_table, rows_per_table, run_sql

if TYPE_CHECKING:
    from warehouse.state import Clock

DEMO_MARKER = ".ubiops-etl-demo"
DEMO_DAYS = 3

QUESTIONS: tuple[tuple[str, str], ...] = (
    (
        "Failure rate per deployment (finished requests)",
        """SELECT object_name AS deployment, sum(requests) AS requests,
       sum(failures) AS failures,
       round(sum(failures) / nullif(sum(finished), 0), 3) AS failure_rate
FROM mart_requests_daily WHERE object_type = 'deployment'
GROUP BY ALL ORDER BY failure_rate DESC""",
    ),
    (
        "Slowest deployments by p95 run time",
        """SELECT deployment, count(*) AS finished,
       round(quantile_cont(seconds_running, 0.95), 2) AS p95_run_s,
       round(quantile_cont(seconds_queued, 0.95), 2) AS p95_queue_s
FROM requests WHERE object_type = 'deployment' AND finished
GROUP BY ALL ORDER BY p95_run_s DESC LIMIT 5""",
    ),
    (
        "Latest errors",
        """SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS utc, project, deployment_name,
       left(replace(log, chr(10), ' | '), 70) AS log
FROM logs WHERE level = 'error' ORDER BY date DESC, id DESC LIMIT 5""",
    ),
)


ASK_YOUR_OWN = """Ask your own questions:
  .venv/bin/ubiops-etl sql "SELECT * FROM mart_requests_daily LIMIT 10" --warehouse {warehouse}
  .venv/bin/ubiops-etl sql "SHOW TABLES" --warehouse {warehouse}
  BI tools: open {bi} read-only (views over the Parquet files)"""


def prepare_warehouse(location: LakeLocation) -> None:
    """Start from an empty demo lake; never wipe a root the demo did not create."""
    store = Lake(location).store
    found = store.list("")
    if found:
        if not any(info.key == DEMO_MARKER for info in found):
            raise UsageError(
                f"{location} is not empty and was not made by the demo; "
                "point --warehouse at an empty or demo location"
            )
        for info in found:
            store.delete(info.key)
    store.put(DEMO_MARKER, b"made by `ubiops-etl demo`; safe to delete\n")


def run_demo(*, warehouse: str, seed: int, clock: Clock, prefect: bool = False) -> int:
    """Simulator -> real sync (directly, or as a Prefect flow run) -> lake -> three answers."""
    from simulator import SystemClock, WorldSpec, create_app, generate_world, serve_in_thread

    started = time.monotonic()
    now = clock()
    location = LakeLocation.parse(warehouse, os.environ)
    prepare_warehouse(location)
    world = generate_world(WorldSpec(seed=seed, days=DEMO_DAYS), now=now)
    app = create_app(world, clock=SystemClock())
    with serve_in_thread(app, host="127.0.0.1", port=0) as server:
        console.err.print(
            f"simulator: {server.base_url} with {len(world.project_names)} projects "
            f"of organisation {world.organization!r} (seed {seed})"
        )
        # The simulator's token is not a secret; the flow reads it like a real one.
        os.environ["UBIOPS_API_HOST"] = server.base_url
        os.environ["UBIOPS_API_TOKEN"] = f"Token {world.token}"
        # The local simulator enforces no rate limit and sends no rate-limit headers, so the
        # client does not pace itself (extract.pacing, rule 1).
        settings = Settings.from_overrides(
            warehouse=warehouse, concurrency=8, prefect=prefect or None
        )
        ledger = execute_run(settings, f"{DEMO_DAYS + 1}d", "now", backfill=False, clock=clock)
    code = report_run(ledger)
    console.out.print("\n[bold]Rows per table[/]")
    counts = rows_per_table(location)
    for table, rows in counts.items():
        console.out.print(f"  {table:<24}{rows:>10,}")
    for title, query in QUESTIONS:
        console.out.print(f"\n[bold]{title}[/]\n[dim]{query}[/]")
        console.out.print(format_table(run_sql(location, query)), markup=False, highlight=False)
    bi = location.join("ubiops.duckdb") if location.is_local else "a file UBIOPS_ETL_BI_FILE names"
    hint = ASK_YOUR_OWN.format(warehouse=warehouse, bi=bi)
    report, _ = build_report(settings, since=f"{DEMO_DAYS + 1}d", now=now)
    console.out.print(f"\nDone in {time.monotonic() - started:.0f}s. {hint}", highlight=False)
    console.out.print(f"\nReport (open it in a browser): {report}", markup=False, highlight=False)
    return code
