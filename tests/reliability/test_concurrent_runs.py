"""Runs at the same time on one lake (local and S3), and a run taking over from a killed one.

Protections checked:
- optimistic concurrency of Delta commits with retries (warehouse/tables.py `_commit`): two
  runs of different projects commit to the same tables at once; without the retry one of
  them fails with a commit conflict (the S3 test sees the server refuse conflicting
  commit files with 412 and requires both runs to finish exact anyway);
- the lease per (project, stream) in the lake root (warehouse/leases.py, flows/core/runner.py
  `_leased`): a second run of the same project skips every stream and exits 3; without the
  lease both write, and the second run's sweep can delete the first one's uploads;
- takeover of a lease whose holder died on this host (warehouse/leases.py `_process_gone`):
  without it the run after a SIGKILL exits 3 until the lease expires (5 minutes).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from lakeroot import LakeRoot
from reliability_harness import (
    TRACEBACK,
    FigureBook,
    Gate,
    assert_exact,
    check_lake,
    running_sim,
    wait_for,
)
from s3proxy import delta_commit, proxy_for
from starlette.types import ASGIApp

from simulator import Faults, WorldSpec

SPEC = WorldSpec(projects=2, days=0.5, logs_per_day=600, requests_per_day=40, burst_size=60)
STREAMS = ("logs", "audit_events")
"""The streams the lease tests run (each has its own lease; two keep the runs short)."""


def lease_docs(root: LakeRoot, project: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """The newest lease generation of each stream of `project`, and its document."""
    newest: dict[str, tuple[int, dict[str, Any]]] = {}
    for key in root.list_keys(f"_state/leases/{project}"):
        stream, name = key.split("/")[-2:]
        generation = int(name.removesuffix(".json"))
        if generation > newest.get(stream, (0, {}))[0]:
            newest[stream] = (generation, json.loads(root.get(key) or b"{}"))
    return newest


def test_two_runs_of_different_projects_into_one_lake_are_both_exact(
    make_etl, lake_root: LakeRoot, figures: FigureBook, seed: int
):
    """`sync -p A` and `sync -p B` started together on one lake: both exit 0 and the lake
    holds both projects exactly; on S3 their commits to the same tables interleave."""
    with running_sim(replace(SPEC, seed=seed + 11), Faults(latency_s=0.01)) as sim:
        sim.clock.freeze()
        first, second = sim.world.project_names[:2]
        etl = make_etl(
            sim,
            lake_root,
            prefect=False,
            UBIOPS_ETL_BATCH_ROWS="100",
            UBIOPS_ETL_STREAMS="logs,requests,audit_events",
        )
        with proxy_for(lake_root) as proxy_a, proxy_for(lake_root) as proxy_b:
            runs = [
                etl.spawn("sync", "-p", first, proxy=proxy_a),
                etl.spawn("sync", "-p", second, proxy=proxy_b),
            ]
            results = [run.wait() for run in runs]
            book = figures[lake_root.kind]
            book.runs += 2
            assert [r.code for r in results] == [0, 0], [r.stderr[-1500:] for r in results]
            assert all(TRACEBACK not in r.stderr for r in results)
            if proxy_a is not None and proxy_b is not None:
                # Each run committed to the tables both write while the other run was working
                # on the lake (between its first and its last storage request).
                for mine, other in ((proxy_a, proxy_b), (proxy_b, proxy_a)):
                    busy = (other.log[0].at, other.log[-1].at)
                    commits = [s.at for s in mine.seen(delta_commit("", 1))]
                    assert any(busy[0] < at < busy[1] for at in commits), (busy, commits)
                conflicts = proxy_a.statuses[412] + proxy_b.statuses[412]
                book.faults["commit conflicts between two runs (412 from S3)"] += conflicts
        verdicts = check_lake(lake_root, sim.world, sim.faults)
        book.add_verdicts(verdicts)
        book.bad_inputs["two runs of different projects at once"] += 1
        assert_exact(verdicts)
        assert {v.project for v in verdicts if v.rows} == {first, second}


def test_second_run_of_the_same_project_skips_it_with_exit_3(
    make_etl, lake_root: LakeRoot, figures: FigureBook, seed: int
):
    """While one run holds the project's leases, a second run of that project skips every
    stream and exits 3 with a line saying another run is writing; the first ends exact."""
    gates: list[Gate] = []

    def gated(app: ASGIApp) -> ASGIApp:
        gates.append(Gate(app))
        return gates[0]

    with running_sim(replace(SPEC, projects=1, seed=seed + 12), wrap=gated) as sim:
        sim.clock.freeze()
        project = sim.world.project_names[0]
        etl = make_etl(sim, lake_root, prefect=False, UBIOPS_ETL_STREAMS=",".join(STREAMS))
        holder = etl.spawn("sync", "-p", project)
        held = wait_for(
            lambda: len(lease_docs(lake_root, project)) == len(STREAMS) or not holder.alive(),
            "the first run's leases",
            timeout_s=120,
        )
        assert held
        assert holder.alive(), holder.wait().stderr[-1500:]
        refused = etl.run("sync", "-p", project)
        gates[0].open()
        finished = holder.wait()
        book = figures[lake_root.kind]
        book.runs += 2
        assert refused.code == 3, (refused.code, refused.stderr[-1500:])
        assert "being written by another run" in refused.stderr, refused.stderr[-1500:]
        assert refused.last_error_line().startswith("error:")
        assert TRACEBACK not in refused.stderr
        assert finished.code == 0, finished.stderr[-1500:]
        assert {doc["pid"] for _, doc in lease_docs(lake_root, project).values()} == {holder.pid}
        verdicts = check_lake(lake_root, sim.world, sim.faults, tables=STREAMS)
        book.add_verdicts(verdicts)
        book.bad_inputs["a second run of a project being written"] += 1
        assert_exact(verdicts)


def test_leases_of_a_killed_run_are_taken_over_at_once(
    make_etl, lake_root: LakeRoot, figures: FigureBook, seed: int
):
    """A run SIGKILLed while it holds every lease of a project (leases valid for 5 more
    minutes): the next run on this host takes each lease over at once (its holder's pid is
    dead), exits 0 and lands the exact truth."""
    gates: list[Gate] = []

    def gated(app: ASGIApp) -> ASGIApp:
        gates.append(Gate(app))
        return gates[0]

    with running_sim(replace(SPEC, projects=1, seed=seed + 13), wrap=gated) as sim:
        sim.clock.freeze()
        project = sim.world.project_names[0]
        etl = make_etl(
            sim,
            lake_root,
            prefect=False,
            UBIOPS_ETL_LEASE_TTL="5m",
            UBIOPS_ETL_STREAMS=",".join(STREAMS),
        )
        holder = etl.spawn("sync", "-p", project)
        held = wait_for(
            lambda: len(lease_docs(lake_root, project)) == len(STREAMS) or not holder.alive(),
            "the first run's leases",
            timeout_s=120,
        )
        assert held
        assert holder.alive(), holder.wait().stderr[-1500:]
        holder.kill("holding every lease of the project")
        assert holder.wait().killed
        gates[0].open()
        taker = etl.run("sync", "-p", project)
        book = figures[lake_root.kind]
        book.runs += 2
        book.kills["holder of every lease of a project (taken over by the next run)"] += 1
        assert taker.code == 0, (taker.code, taker.stderr[-1500:])
        assert taker.seconds < 120, taker.seconds  # not after the 300 s expiry
        leases = lease_docs(lake_root, project)
        assert {g for g, _ in leases.values()} == {2}, leases
        assert all(
            doc["pid"] != holder.pid and doc.get("released_at") for _, doc in leases.values()
        )
        verdicts = check_lake(lake_root, sim.world, sim.faults, tables=STREAMS)
        book.add_verdicts(verdicts)
        assert_exact(verdicts)
