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
from flows.runs import prefect_api_url

# A backfill is run by hand (`ubiops-etl backfill`), so serve has no deployment for it.
SERVED = ("ubiops-sync", "ubiops-compact")


def build_deployments(
    settings: Settings, *, sync_every: str, sync_cron: str | None, compact_cron: str
) -> list[Any]:
    """The sync and compact deployments of `ubiops-etl deploy` (the same parameters and
    schedules, never the token), to serve from this process."""
    from flows.deployments import deployment_options, deployment_specs, flow_of

    specs = deployment_specs(
        settings, sync_every=sync_every, sync_cron=sync_cron, compact_cron=compact_cron
    )
    return [
        flow_of(spec).to_deployment(name=spec.name, **deployment_options(spec))
        for spec in specs
        if spec.name in SERVED
    ]


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
