"""The API disappears mid-run (its port refuses connections), then comes back.

Protections checked:
- the bounded retry of connection errors (extract/retry.py): a short outage is ridden out
  (without retrying `httpx.ConnectError` the first run fails instead of exiting 0);
- the retry budget (UBIOPS_ETL_MAX_ATTEMPTS / _MAX_RETRY_SECONDS): a long outage ends the run
  with exit 1 and one clear line within the budget, never a hang;
- state committed only after its data (flows/core/streams/): after the failed run no committed
  cursor covers a record missing from the lake, so the next run completes exactly.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

from reliability_harness import (
    TRACEBACK,
    FigureBook,
    SimServer,
    assert_exact,
    check_lake,
    covered_but_missing,
    running_sim,
    wait_for,
)

from simulator import Faults, WorldSpec

SPEC = WorldSpec(projects=2, days=1.5, logs_per_day=1000, requests_per_day=60, burst_size=80)
SLOW = Faults(latency_s=0.05)


def calls_made(sim: SimServer) -> int:
    return sum(sim.stats()["calls"].values())


def test_short_outage_is_retried_and_the_run_finishes(make_etl, figures: FigureBook, seed: int):
    """Connections refused for two seconds mid-run: the run retries, finishes with exit 0 and
    lands the exact truth."""
    with running_sim(replace(SPEC, seed=seed), SLOW) as sim:
        sim.clock.freeze()
        etl = make_etl(sim)
        proc = etl.spawn("sync")
        assert wait_for(lambda: calls_made(sim) >= 12 or not proc.alive(), "calls", 120)
        assert proc.alive(), "the run ended before the outage"
        sim.stop()
        down_at = time.monotonic()
        # The outage lasts two seconds (well inside the retry budget); then the API is back.
        wait_for(lambda: not proc.alive(), "the run", timeout_s=2.0)
        sim.start()
        outage_s = time.monotonic() - down_at
        result = proc.wait()
        figures["local"].runs += 1
        figures["local"].faults["API refusing connections (short outage)"] += 1
        assert result.code == 0, result.stderr[-2000:]
        retries = int(re.search(r"(\d+) retries", result.stdout).group(1))  # type: ignore[union-attr]
        assert retries > 0, result.stdout[-500:]
        assert outage_s >= 1.5
        verdicts = check_lake(etl.warehouse, sim.world, sim.faults)
        figures["local"].add_verdicts(verdicts)
        assert_exact(verdicts)


def test_long_outage_fails_cleanly_without_advancing_state(
    make_etl, figures: FigureBook, seed: int
):
    """An API that stays away: exit 1 within the retry budget with a line naming the host, no
    cursor past the data that landed; once it is back the next run completes exactly."""
    with running_sim(replace(SPEC, seed=seed + 1), SLOW) as sim:
        sim.clock.freeze()
        etl = make_etl(sim, UBIOPS_ETL_MAX_ATTEMPTS="3", UBIOPS_ETL_MAX_RETRY_SECONDS="4")
        proc = etl.spawn("sync")
        assert wait_for(lambda: calls_made(sim) >= 12 or not proc.alive(), "calls", 120)
        assert proc.alive(), "the run ended before the outage"
        sim.stop()
        down_at = time.monotonic()
        failed = proc.wait(timeout=120)
        gave_up_after = time.monotonic() - down_at
        figures["local"].runs += 1
        figures["local"].faults["API refusing connections (long outage)"] += 1
        assert failed.code == 1, failed.stderr[-2000:]
        assert TRACEBACK not in failed.stderr
        assert f"127.0.0.1:{sim.port}" in failed.stderr
        assert failed.last_error_line().startswith("error:")
        # Each call gives up within its 4 s budget; streams run concurrently.
        assert gave_up_after < 40, gave_up_after
        assert covered_but_missing(etl.warehouse, sim) == []

        sim.start()
        again = etl.run("sync")
        figures["local"].runs += 1
        assert again.code == 0, again.stderr[-2000:]
        verdicts = check_lake(etl.warehouse, sim.world, sim.faults)
        figures["local"].add_verdicts(verdicts)
        assert_exact(verdicts)
