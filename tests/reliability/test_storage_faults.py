"""Storage that fails under a real sync: on S3, a proxy between `ubiops-etl` and the server
answers some requests with 500/503/403 or drops the connection (before forwarding, or after
the request landed so the client never learns it did); on a local root, the process may not
write files past a size limit (RLIMIT_FSIZE: writes fail with EFBIG, as on a full disk).
Every run either succeeds or fails cleanly (exit 1, one `error:` line, no traceback), no
committed cursor covers a record the lake does not hold, and the next run is exact.

Protections checked:
- object_store's retries of 5xx and dropped connections (delta-rs, obstore): without them
  the 503/500 runs fail;
- an atomic Delta commit per batch with the conflict retry (warehouse/tables.py): a commit
  PUT whose answer is lost is retried, the server says it exists (412), and the merge is
  redone on the new version without doubling rows;
- cursors committed only after their data (flows/core/streams/): a refused cursor write leaves
  the committed data to be re-merged by the next run, a refused data write leaves the cursor;
- failures of one stream reported on one line (flows/cli.py `run_cli`), not as a traceback.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from lakeroot import LakeRoot
from reliability_harness import (
    CHECKS,
    TRACEBACK,
    FigureBook,
    RunResult,
    assert_exact,
    check_lake,
    covered_but_missing,
    running_sim,
)
from s3proxy import Rule, cursor_put, data_put, delta_commit, proxy_for

from simulator import WorldSpec

SPEC = WorldSpec(projects=2, days=0.5, logs_per_day=800, requests_per_day=60, burst_size=60)


def log_read(method: str, key: str) -> bool:
    return method == "GET" and "/_delta_log/" in key


def assert_clean(result: RunResult) -> None:
    assert result.code in (0, 1), (result.code, result.stderr[-2000:])
    assert TRACEBACK not in result.stderr, result.stderr[-3000:]
    if result.code == 1:
        assert result.last_error_line(), result.stderr[-2000:]


def run_s3_phases(
    make_etl: Any,
    s3_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    figures: FigureBook,
    seed: int,
    phases: list[tuple[str, list[Rule]]],
    **extra: str,
) -> list[RunResult]:
    """One run through the faulty proxy per phase (each clean, no cursor past missing data),
    then a run without faults that must be exact."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    root = LakeRoot.on_s3(s3_server)
    book = figures["s3"]
    results = []
    with running_sim(replace(SPEC, projects=1, seed=seed + 3 + len(phases))) as sim:
        etl = make_etl(sim, root, prefect=False, UBIOPS_ETL_BATCH_ROWS="200", **extra)
        with proxy_for(root) as proxy:
            assert proxy is not None
            for phase, rules in phases:
                proxy.rules = rules
                result = etl.run("sync", proxy=proxy)
                results.append(result)
                book.runs += 1
                for rule in rules:
                    assert rule.fired, f"{phase}: {rule.name} never happened"
                    book.faults[f"S3: {rule.name}"] += rule.fired
                assert_clean(result)
                assert covered_but_missing(root, sim) == [], phase
            proxy.rules = []
            sim.clock.freeze()
            final = etl.run("sync", proxy=proxy)
            book.runs += 1
        assert final.code == 0, final.stderr[-2000:]
        synced = extra.get("UBIOPS_ETL_STREAMS")
        tables = tuple(synced.split(",")) if synced else tuple(CHECKS)
        verdicts = check_lake(root, sim.world, sim.faults, tables=tables)
        book.add_verdicts(verdicts)
        assert_exact(verdicts)
    return results


def test_s3_5xx_and_dropped_connections_are_ridden_out_and_the_next_run_is_exact(
    make_etl, s3_server, monkeypatch, figures: FigureBook, seed: int
):
    """A run through a faulty proxy (5xx on uploads and Delta log reads; a commit PUT
    dropped before it reached the server, another after it landed), then a clean run."""
    rng = random.Random(seed)
    phases = [
        (
            "5xx and drops",
            [
                Rule("503 on data uploads", data_put, "503", p=0.2, rng=rng),
                Rule("500 on Delta log reads", log_read, "500", p=0.05, rng=rng),
                Rule("connection dropped before a commit PUT", delta_commit("", 1), "drop"),
                Rule(
                    "commit PUT landed, its answer dropped",
                    delta_commit("", 1),
                    "drop-after",
                    nth=3,
                ),
            ],
        ),
    ]
    run_s3_phases(make_etl, s3_server, monkeypatch, figures, seed, phases)


def test_s3_refused_cursor_write_fails_the_stream_with_one_line(
    make_etl, s3_server, monkeypatch, figures: FigureBook, seed: int
):
    """A cursor PUT refused with 403 (no retry helps): the run exits 1 with one `error:`
    line and no traceback; the next run re-merges the batch and is exact."""
    phases = [("cursor refused", [Rule("403 on a cursor PUT", cursor_put, "403")])]
    (refused,) = run_s3_phases(
        make_etl,
        s3_server,
        monkeypatch,
        figures,
        seed,
        phases,
        UBIOPS_ETL_STREAMS="audit_events",
    )
    assert refused.code == 1


def test_local_writes_past_a_size_limit_fail_cleanly_and_the_next_run_is_exact(
    make_etl, tmp_path, figures: FigureBook, seed: int
):
    """A sync that may not write files over 6 kB (data files are bigger) fails with exit 1
    and one line, its cursors cover nothing missing; the next, unlimited run is exact."""
    root = LakeRoot.local(tmp_path / "lake")
    book = figures["local"]
    with running_sim(replace(SPEC, seed=seed + 4)) as sim:
        sim.clock.freeze()
        etl = make_etl(sim, root, prefect=False, UBIOPS_ETL_BATCH_ROWS="200")
        limited = etl.run("sync", entry=True, RELIABILITY_FSIZE="6000")
        book.runs += 1
        book.faults["local: file size limit (EFBIG) on writes"] += 1
        assert covered_but_missing(root, sim) == []
        assert "too large" in limited.stderr.lower(), limited.stderr[-2000:]
        final = etl.run("sync")
        book.runs += 1
        assert final.code == 0, final.stderr[-2000:]
        verdicts = check_lake(root, sim.world, sim.faults)
        book.add_verdicts(verdicts)
        assert_exact(verdicts)
        assert_clean(limited)
        assert limited.code == 1, limited.stdout[-2000:]
