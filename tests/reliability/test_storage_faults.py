"""A full disk or a permission error while the lake is written, injected through the storage
adapter into a real sync (`flows.runner.execute`, Prefect-free) against the simulator.

Protections checked:
- the journal's rollback on an ordinary error and LocalStorage's temp cleanup
  (warehouse/journal.py `Transaction.commit`, warehouse/storage.py `write_atomic`): without
  them a failed write leaves orphan Parquet files or temp files in the lake;
- state committed only after its data (flows/streams/): a failed write must leave the
  stream's cursor where it was;
- dedupe by id on the re-run (warehouse/writer.py): when the state commit is what fails, the
  data is already there and the next run writes it again.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from reliability_harness import (
    Figures,
    SimServer,
    assert_exact,
    check_lake,
    covered_but_missing,
    read_state,
    running_sim,
)

from flows.runner import execute
from flows.settings import Settings
from flows.summary import RunSummary
from simulator import WorldSpec
from warehouse import Lake
from warehouse.storage import LocalStorage
from lake_examples import FailWith

SPEC = WorldSpec(projects=2, days=1.5, logs_per_day=600, requests_per_day=60, burst_size=60)


def settings_for(sim: SimServer, root: Path) -> Settings:
    return Settings(
        api_host=sim.base_url,
        api_token=sim.token,
        warehouse=root,
        rate_per_minute=100_000,
        initial_history="3d",
        max_attempts=3,
        max_retry_seconds=5,
    )


async def sync_once(sim: SimServer, root: Path, hook: FailWith | None = None) -> RunSummary:
    """One sync; with `hook`, the lake's storage raises where the hook says."""

    def open_lake(path: Path) -> Lake:
        return Lake.open(path, LocalStorage(path, hook=hook))

    settings = settings_for(sim, root)
    now = sim.clock.now()
    return await execute(
        settings,
        kind="sync",
        since=None,
        until=now,
        now=now,
        logger=logging.getLogger("reliability"),
        lake_factory=open_lake,
    )


def stray_files(root: Path) -> list[str]:
    """Temp files, journal entries, or Parquet files that do not read as whole files."""
    found = [str(p) for p in (root / "_tmp").glob("*") if p.is_file()]
    found += [str(p) for p in (root / "_state" / "journal").glob("*") if p.is_file()]
    for path in root.rglob("*.parquet"):
        try:
            pq.read_metadata(path)
        except Exception:
            found.append(str(path))
    return found


CASES = [
    pytest.param(
        "write:temp", "logs/", errno.ENOSPC, "No space left on device", id="disk-full-logs"
    ),
    pytest.param(
        "write:temp", "requests/", errno.EACCES, "Permission denied", id="no-permission-requests"
    ),
    pytest.param(
        "write:temp", "_state/journal/", errno.ENOSPC, "No space left", id="disk-full-journal"
    ),
    pytest.param(
        "write:temp", "_state/streams/", errno.EACCES, "Permission denied", id="no-permission-state"
    ),
]


@pytest.mark.parametrize(("step", "prefix", "code", "message"), CASES)
async def test_storage_error_fails_cleanly_and_the_next_run_completes(
    tmp_path: Path, figures: Figures, seed: int, step: str, prefix: str, code: int, message: str
):
    """The failing stream reports the OS error, leaves no partial file and no advanced cursor;
    the next run completes and the lake equals the truth."""
    root = tmp_path / "lake"
    with running_sim(replace(SPEC, seed=seed + 3)) as sim:
        sim.clock.freeze()
        hook = FailWith(step=step, prefix=prefix, code=code)
        first = await sync_once(sim, root, hook)
        assert hook.failed, f"no {step} under {prefix} happened"
        figures.runs += 1
        figures.faults[f"storage: {errno.errorcode[code]} at {step} {prefix}"] += 1
        failed = [r for r in first.results if not r.ok]
        assert len(failed) == 1, [(r.project, r.stream, r.error) for r in first.results]
        broken = failed[0]
        assert message in (broken.error or "")
        assert not first.ok
        assert stray_files(root) == []
        # No committed cursor covers a record the lake does not hold.
        assert covered_but_missing(root, sim) == []
        if broken.stream == "logs":
            assert read_state(root, broken.project, "logs") == {}
        if prefix == "logs/":
            assert not list((root / "logs" / f"project={broken.project}").rglob("*.parquet"))
        second = await sync_once(sim, root)
        figures.runs += 1
        assert second.ok, [(r.project, r.stream, r.error) for r in second.results]
        verdicts = check_lake(root, sim.world, sim.faults)
        figures.add_verdicts(verdicts)
        assert_exact(verdicts)
