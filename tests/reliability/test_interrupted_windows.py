"""A sync killed while its log windows ran concurrently can leave an earlier window
unfinished behind a later one that finished. The next sync must still fetch the rest of it.

Protection checked: planning from every range a stream was asked for, minus the completed
intervals (flows/core/streams/logs.py `plan_log_spans`), rather than from the high-water mark
only. Planning from the high-water mark minus the lookback skips the unfinished window, and
its logs are lost for good (found by the chaos test as rejects missing after kills).
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from lakeroot import LakeRoot
from reliability_harness import FigureBook, check_logs, parse_api_time, read_lake, running_sim

from extract import LogCursor
from flows.core.runner import execute
from flows.core.settings import Settings
from simulator import WorldSpec
from transform import normalize
from warehouse import Lake

SPEC = WorldSpec(projects=1, days=2.5, logs_per_day=300, requests_per_day=10, burst_size=20)


async def test_unfinished_window_behind_a_finished_one_is_resumed(
    tmp_path: Path, figures: FigureBook, seed: int
):
    """State as a kill leaves it (windows 1 and 3 complete, window 2 stopped half-way, the
    lake holding exactly what was committed): the next sync lands every log."""
    root = tmp_path / "lake"
    with running_sim(replace(SPEC, seed=seed + 6)) as sim:
        now = sim.clock.freeze()
        project = sim.world.project_names[0]
        since = now - timedelta(days=3)
        w1, w2, w3 = (since + timedelta(days=i) for i in range(3))
        truth = sim.world.truth_logs(project)
        in_w2 = [r for r in truth if w2 <= parse_api_time(r["date"]) < w3]
        assert len(in_w2) > 100
        stop = in_w2[len(in_w2) // 2]
        committed = [
            r
            for r in truth
            if parse_api_time(r["date"]) < w2
            or parse_api_time(r["date"]) >= w3
            or (r in in_w2 and in_w2.index(r) <= in_w2.index(stop))
        ]
        lake = Lake.open(root)
        lake.write("logs", normalize("logs", committed, project=project, extracted_at=now).rows)
        cursor = LogCursor(w2, w3, last_id=stop["id"], last_date=parse_api_time(stop["date"]))
        lake.state.commit(
            project,
            "logs",
            {
                "completed": [[w1.isoformat(), w2.isoformat()], [w3.isoformat(), now.isoformat()]],
                "partial": {w2.isoformat(): cursor.to_json()},
            },
        )
        settings = Settings(
            api_host=sim.base_url,
            api_token=sim.token,
            warehouse=str(root),
            streams=("logs",),
            rate_per_minute=100_000,
            initial_history="3d",
        )
        summary = await execute(
            settings,
            since=None,
            until=None,
            backfill=False,
            clock=sim.clock.now,
            logger=logging.getLogger("reliability"),
        )
        figures["local"].runs += 1
        assert summary.ok, [(r.stream, r.error) for r in summary.results]
        verdicts = [
            check_logs(read_lake(LakeRoot.local(root), via), sim.world, project, sim.faults)
            for via in ("views", "files")
        ]
        figures["local"].add_verdicts(verdicts)
        assert all(v.ok for v in verdicts), [v.describe() for v in verdicts]


async def test_late_logs_dated_before_a_resumed_cursor_are_fetched_by_the_next_run(
    tmp_path: Path, figures: FigureBook, seed: int
):
    """A killed run left its newest window partial, the cursor at a log P two minutes old;
    then a buffered logger flushes lines dated up to ten minutes back (late logs: new ids,
    old dates), some before P. The next finished run must hold them: the lookback re-reads
    before the cursor (DESIGN.md), also where a window is resumed from a cursor."""
    root = tmp_path / "lake"
    with running_sim(replace(SPEC, seed=seed + 7)) as sim:
        now = sim.clock.freeze()
        project = sim.world.project_names[0]
        since = now - timedelta(days=3)
        start = now - timedelta(hours=12)
        truth = sim.world.truth_logs(project)
        dated = sorted(truth, key=lambda r: (parse_api_time(r["date"]), r["id"]))
        stop = [r for r in dated if parse_api_time(r["date"]) <= now - timedelta(minutes=2)][-1]
        stop_at = parse_api_time(stop["date"])
        committed = dated[: dated.index(stop) + 1]
        lake = Lake.open(root)
        lake.write("logs", normalize("logs", committed, project=project, extracted_at=now).rows)
        cursor = LogCursor(start, now, last_id=stop["id"], last_date=stop_at)
        lake.state.commit(
            project,
            "logs",
            {
                "completed": [[since.isoformat(), start.isoformat()]],
                "partial": {start.isoformat(): cursor.to_json()},
                "wanted": [[since.isoformat(), now.isoformat()]],
            },
        )
        known = {r["id"] for r in truth}
        rng = random.Random(seed)
        for _ in range(30):  # what the simulator does while a client pages (late logs)
            sim.world.mutate(sim.world.projects[project], rng)
        late = [r for r in sim.world.truth_logs(project) if r["id"] not in known]
        early = {r["id"] for r in late if parse_api_time(r["date"]) < stop_at}
        assert early, "no late log dated before the cursor"
        settings = Settings(
            api_host=sim.base_url,
            api_token=sim.token,
            warehouse=str(root),
            streams=("logs",),
            rate_per_minute=100_000,
            initial_history="3d",
        )
        summary = await execute(
            settings,
            since=None,
            until=None,
            backfill=False,
            clock=sim.clock.now,
            logger=logging.getLogger("reliability"),
        )
        assert summary.ok, [(r.stream, r.error) for r in summary.results]
        verdicts = [
            check_logs(read_lake(LakeRoot.local(root), via), sim.world, project, sim.faults)
            for via in ("views", "files")
        ]
        lost = {i for v in verdicts for i in v.lost}
        assert all(v.ok for v in verdicts), (
            f"{len(lost & early)} of {len(early)} late logs dated before the resumed cursor "
            f"lost, {len(lost - early)} other logs lost",
            [v.describe() for v in verdicts],
        )
