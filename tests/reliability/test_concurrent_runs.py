"""Two syncs started at the same moment on one warehouse: one runs, the other refuses with a
clear message and exit code 3, and the lake stays exact.

Protection checked: the lake's writer lock (warehouse/lock.py, taken in flows/runner.py
`execute`). Without it both runs write and repair at once: the second run's repair rolls back
the first run's pending journal entries (deleting files it is about to commit) and both write
the same new records, so the exit codes are 0/0 and the lake holds duplicates.
"""

from __future__ import annotations

from dataclasses import replace

from reliability_harness import TRACEBACK, Figures, assert_exact, check_lake, running_sim

from simulator import Faults, WorldSpec

SPEC = WorldSpec(projects=2, days=1.5, logs_per_day=800, requests_per_day=60, burst_size=80)


def test_two_syncs_at_once_one_refuses_with_exit_3(make_etl, figures: Figures, seed: int):
    """Of two syncs started together, exactly one exits 3 saying another run holds the lake."""
    # Latency keeps the winner inside its locked section for seconds, far longer than the
    # difference in start-up time of two processes started together.
    with running_sim(replace(SPEC, seed=seed), Faults(latency_s=0.5)) as sim:
        sim.clock.freeze()
        etl = make_etl(sim)
        first, second = etl.spawn("sync", entry=False), etl.spawn("sync", entry=False)
        results = [first.wait(), second.wait()]
        figures.runs += 2
        codes = sorted(r.code for r in results)
        assert codes == [0, 3], [(r.code, r.stderr[-1500:]) for r in results]
        refused = next(r for r in results if r.code == 3)
        assert "held by another run" in refused.last_error_line()
        assert "retry" in refused.last_error_line()
        assert all(TRACEBACK not in r.stderr for r in results)
        verdicts = check_lake(etl.warehouse, sim.world, sim.faults)
        figures.add_verdicts(verdicts)
        figures.bad_inputs["concurrent syncs on one warehouse"] += 1
        assert_exact(verdicts)
        assert sum(v.rows for v in verdicts) > 500
