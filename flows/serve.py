"""`ubiops-etl serve`: the flows as Prefect deployments with schedules, served from here.

Schedules need a real Prefect API (`prefect server start` or Prefect Cloud): an ephemeral API
lives only as long as one process and cannot schedule, so without PREFECT_API_URL this says
what to run instead of pretending to serve.
"""

from __future__ import annotations

import os
from typing import Any

from flows.core.errors import UsageError
from flows.core.settings import Settings
from flows.core.timeparse import parse_age
from flows.runs import prefect_api_url


def build_deployments(
    settings: Settings, *, sync_every: str, sync_cron: str | None, compact_cron: str
) -> list[Any]:
    """The sync and compact deployments with their schedules and parameters (no token)."""
    from flows.params import RunParams
    from flows.prefect_flows import compact_flow, sync_flow

    warehouse = settings.location.uri  # absolute: the worker may start elsewhere
    run_params = RunParams(
        warehouse=warehouse,
        streams=list(settings.streams),
        projects=list(settings.projects) or None,
    )
    params: dict[str, Any] = {"params": run_params.model_dump(mode="json", exclude_none=True)}
    schedule: dict[str, Any] = (
        {"cron": sync_cron} if sync_cron else {"interval": parse_age(sync_every)}
    )
    sync = sync_flow.to_deployment(
        name="ubiops-sync",
        parameters=params,
        concurrency_limit=1,
        description="Incremental sync of UbiOps logs, requests, audit events and snapshots.",
        tags=["ubiops-etl"],
        **schedule,
    )
    compact = compact_flow.to_deployment(
        name="ubiops-compact",
        cron=compact_cron,
        parameters={"warehouse": warehouse},
        concurrency_limit=1,
        description="Merge small Parquet files into one per partition.",
        tags=["ubiops-etl"],
    )
    return [sync, compact]


def serve_deployments(
    settings: Settings, *, sync_every: str, sync_cron: str | None, compact_cron: str
) -> int:
    """Register the deployments and serve them until interrupted."""
    settings.require_token()
    if prefect_api_url(os.environ) is None:
        raise UsageError(
            "serve needs a Prefect API that can schedule: run `prefect server start` and "
            "set PREFECT_API_URL=http://127.0.0.1:4200/api (or use Prefect Cloud)"
        )
    from prefect import serve

    deployments = build_deployments(
        settings, sync_every=sync_every, sync_cron=sync_cron, compact_cron=compact_cron
    )
    serve(*deployments, print_starting_message=True)
    return 0
