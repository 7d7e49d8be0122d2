"""Invalid records in every stream: the run still finishes, says how many it rejected, and
table rows + rejected records = records served.

Protection checked: per-record validation into `_rejects` (transform's rejects + the sink's
`write_rejects`). Dropping rejects instead of writing them loses records (rows + rejects <
served); letting them through fails the run or puts untyped rows in the tables.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from reliability_harness import (
    FigureBook,
    assert_exact,
    check_lake,
    read_rejects,
    running_sim,
)

from simulator import Faults, WorldSpec

SPEC = WorldSpec(projects=2, days=1.5, logs_per_day=800, requests_per_day=80, burst_size=80)


def test_invalid_records_go_to_rejects_and_rows_plus_rejects_equal_served(
    make_etl, figures: FigureBook, seed: int
):
    """With 10% of records broken in five ways, sync exits 0, prints the reject count, and
    every served record is a table row or a reject, never both, never neither."""
    faults = Faults(p_invalid=0.1, seed=seed)
    with running_sim(replace(SPEC, seed=seed + 2), faults) as sim:
        sim.clock.freeze()
        etl = make_etl(sim, prefect=False)
        result = etl.run("sync")
        figures["local"].runs += 1
        assert result.code == 0, result.stderr[-2000:]
        printed = re.search(r"([\d,]+) rejected \(see _rejects\)", result.stdout)
        assert printed is not None, result.stdout[-1000:]
        rejects = read_rejects(etl.warehouse)
        assert int(printed.group(1).replace(",", "")) == len(rejects)
        per_table = Counter(r["table"] for r in rejects)
        assert {"logs", "requests", "audit_events"} <= set(per_table), per_table
        verdicts = check_lake(etl.warehouse, sim.world, sim.faults)
        figures["local"].add_verdicts(verdicts)
        served = sim.stats()["faults"].get("invalid", 0)
        figures["local"].bad_inputs["invalid records served (every stream)"] += served
        assert_exact(verdicts)
        for v in verdicts:
            assert v.rows + v.rejected_found == v.expected_rows + v.rejected_expected
        assert sum(v.rejected_expected for v in verdicts) > 50
