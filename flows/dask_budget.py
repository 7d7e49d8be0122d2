"""The run's one API budget on the Dask scheduler, which every worker process draws from.

`install` adds a handler to the cluster's scheduler (a scheduler plugin, so the package must
be importable where the scheduler runs); the handler keeps one `Pacing` per (host, cap,
burst) in the scheduler's process, the same process-wide pacers `extract.pacing.shared_pacing`
gives that process's own clients (with a local cluster, the flow run's process: its own calls
count too). A task on a worker paces with `worker_pacing`: each API call first asks the
scheduler for its slot (`extract.budget`), one round trip over the worker's connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from distributed import Client, get_worker
from distributed.diagnostics.plugin import SchedulerPlugin

from extract import ClientConfig
from extract.budget import Event, SharedPacing, answer
from extract.pacing import EndpointGroup, shared_pacing

HANDLER = "ubiops_etl_budget"


def serve(host: str, cap: float | None, burst: int, group: str, events: list[list[Any]]) -> float:
    """The scheduler's side: the slot of one call of `group` (seconds to wait)."""
    return answer(shared_pacing(host, cap, burst), group, events)


class BudgetPlugin(SchedulerPlugin):
    """Adds `serve` to the scheduler's handlers (kept when registered again: the state is
    the scheduler process's pacers, not the plugin's)."""

    name = "ubiops-etl-budget"

    async def start(self, scheduler: Any) -> None:
        scheduler.handlers[HANDLER] = serve


def install(client: Client) -> None:
    """Put the budget on the scheduler `client` is connected to."""
    client.register_plugin(BudgetPlugin())


def worker_pacing(config: ClientConfig) -> SharedPacing:
    """Pacing for a client in a task on a Dask worker: every slot from the scheduler."""
    worker = get_worker()
    loop: asyncio.AbstractEventLoop = worker.loop.asyncio_loop  # type: ignore[attr-defined]

    async def on_worker_loop(group: EndpointGroup, events: list[Event]) -> float:
        reply = await getattr(worker.scheduler, HANDLER)(
            host=config.host,
            cap=config.rate_per_minute,
            burst=config.rate_burst,
            group=group,
            events=events,
        )
        return float(reply)

    async def ask(group: EndpointGroup, events: list[Event]) -> float:
        # The task runs its own event loop in a worker thread; the worker's connection to
        # the scheduler belongs to the worker's loop.
        future = asyncio.run_coroutine_threadsafe(on_worker_loop(group, events), loop)
        return await asyncio.wrap_future(future)

    return SharedPacing(ask)
