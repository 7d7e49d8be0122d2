"""`ubiops-etl deploy`: the sync, backfill and compact deployments for a Prefect work pool.

A process worker (`prefect worker start --pool NAME`) on any machine where this package is
installed runs them: the entrypoints are module paths (`flows.prefect_flows.sync_flow`), so a
flow run imports the installed package (no checkout, no pull step), and its flow and tasks
pickle by reference for Dask workers that have the same package. Each flow run reads the
token and cloud credentials from the worker's environment and runs its (project, stream)
tasks on the task runner its parameters name. `prefect.yaml` declares the same deployments
for `prefect deploy --all`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.core.errors import UsageError
from flows.core.settings import Settings
from flows.core.timeparse import parse_age
from flows.params import RunParams

if TYPE_CHECKING:
    from prefect import Flow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TAGS = ("ubiops-etl",)
ENTRYPOINTS = {
    "ubiops-sync": "flows.prefect_flows.sync_flow",
    "ubiops-backfill": "flows.prefect_flows.backfill_flow",
    "ubiops-compact": "flows.prefect_flows.compact_flow",
}


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment as plain data: what `deploy` registers and `prefect.yaml` declares."""

    name: str
    entrypoint: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    cron: str | None = None
    interval_s: float | None = None


def deployment_specs(
    settings: Settings, *, sync_every: str, sync_cron: str | None, compact_cron: str
) -> list[DeploymentSpec]:
    """The three deployments for the settings' lake and task runner (never the token)."""
    run = RunParams.from_settings(settings).model_dump(mode="json", exclude_none=True)
    warehouse = run["settings"]["warehouse"]  # absolute: the worker may start elsewhere
    every = None if sync_cron else parse_age(sync_every).total_seconds()
    return [
        DeploymentSpec(
            "ubiops-sync",
            ENTRYPOINTS["ubiops-sync"],
            "Incremental sync of UbiOps logs, requests, audit events and snapshots.",
            {"params": run},
            cron=sync_cron,
            interval_s=every,
        ),
        DeploymentSpec(
            "ubiops-backfill",
            ENTRYPOINTS["ubiops-backfill"],
            "Load a date range (set params.since when running it); resumable.",
            {"params": run},
        ),
        DeploymentSpec(
            "ubiops-compact",
            ENTRYPOINTS["ubiops-compact"],
            "Bin-pack small files per partition and delete what they replaced.",
            {"warehouse": warehouse},
            cron=compact_cron,
        ),
    ]


def flow_of(spec: DeploymentSpec) -> Flow[Any, Any]:
    """The flow a spec's entrypoint names."""
    from prefect import Flow
    from prefect.utilities.importtools import import_object

    loaded = import_object(spec.entrypoint)
    if not isinstance(loaded, Flow):
        raise TypeError(f"{spec.entrypoint} is not a flow")
    return loaded


def deployment_options(spec: DeploymentSpec) -> dict[str, Any]:
    """What `Flow.deploy` and `Flow.to_deployment` are given for a spec, besides its name."""
    options: dict[str, Any] = {
        "parameters": spec.parameters,
        "description": spec.description,
        "tags": list(TAGS),
        "concurrency_limit": 1,
    }
    if spec.cron:
        options["cron"] = spec.cron
    elif spec.interval_s:
        options["interval"] = spec.interval_s
    return options


def deploy_to_pool(
    settings: Settings,
    *,
    pool: str,
    sync_every: str,
    sync_cron: str | None,
    compact_cron: str,
) -> list[str]:
    """Register the deployments with the Prefect API for `pool`; their names."""
    from prefect.exceptions import ObjectNotFound
    from prefect.types.entrypoint import EntrypointType

    from flows.runs import prefect_api_url

    if prefect_api_url(os.environ) is None:
        raise UsageError(
            "deploy needs a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (or use Prefect Cloud)"
        )
    _require_pool(pool)
    names = []
    specs = deployment_specs(
        settings, sync_every=sync_every, sync_cron=sync_cron, compact_cron=compact_cron
    )
    for spec in specs:
        flow = flow_of(spec)
        try:
            flow.deploy(
                name=spec.name,
                work_pool_name=pool,
                build=False,
                push=False,
                entrypoint_type=EntrypointType.MODULE_PATH,
                print_next_steps=False,
                **deployment_options(spec),
            )
        except ObjectNotFound:
            raise UsageError(f"work pool {pool!r} not found") from None
        names.append(f"{flow.name}/{spec.name}")
    return names


def _require_pool(pool: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            raise UsageError(
                f"work pool {pool!r} not found: create it with "
                f"`prefect work-pool create {pool} --type process`"
            ) from None
