"""The API budget on a real Dask scheduler (`flows.dask_budget`): tasks on two workers ask
the scheduler for every slot and report what their responses said; the scheduler keeps one
`Pacing` for all of them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from distributed import Client, LocalCluster
from pydantic import SecretStr

from extract import ClientConfig
from extract.pacing import RateSignal, shared_pacing
from flows.dask_budget import install, worker_pacing


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two workers in this process (so the scheduler's pacers can be read here)."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as dask,
    ):
        install(dask)
        yield dask


def calls_on_a_worker(host: str, calls: int, limit: int | None) -> list[float]:
    """In a task: `calls` paced calls through the scheduler's budget, then (if `limit`) one
    response stating it, reported with one more call. Returns the waits."""
    config = ClientConfig(host=host, token=SecretStr("t"))

    async def run() -> list[float]:
        pacer = worker_pacing(config)["general"]
        waits = [await pacer.acquire() for _ in range(calls)]
        if limit is not None:
            pacer.observe(RateSignal(limit=limit))
            waits.append(await pacer.acquire())
        return waits

    return asyncio.run(run())


def test_tasks_on_two_workers_draw_from_the_schedulers_one_budget(client: Client) -> None:
    """Calls on two workers count in the scheduler's one pacer: a limit that only the second
    worker's response stated paces the first worker's later calls too (600 a minute after a
    burst of 5, so its ten calls wait about half a second in all)."""
    host = f"https://{uuid.uuid4().hex}.test/v2.1"
    first, second = sorted(client.scheduler_info()["workers"])
    unpaced = client.submit(calls_on_a_worker, host, 10, None, workers=[first], pure=False)
    assert unpaced.result(timeout=60) == [0.0] * 10
    told = client.submit(calls_on_a_worker, host, 0, 605, workers=[second], pure=False)
    told.result(timeout=60)
    assert shared_pacing(host, None, 5)["general"].rate_per_minute() == 600
    paced = client.submit(calls_on_a_worker, host, 10, None, workers=[first], pure=False)
    waits = paced.result(timeout=60)
    assert sum(waits) >= 0.3, waits
