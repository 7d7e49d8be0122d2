"""Chaos: `ubiops-etl sync` as a subprocess against a simulator with every fault mode on,
SIGKILLed at each commit step and at random moments, on a local root and on an S3 root;
re-run until it exits 0; then the lake, read through the DuckDB views and through plain
`read_parquet` of the data files, must equal the simulator's ground truth.

Where the kills land (the storage calls happen inside delta-rs and obstore, so the test
acts from outside the process):
- (a) data files uploaded, commit not landed: S3, the proxy SIGKILLs the child when it sees
  the PUT of a Delta commit file (`<table>/_delta_log/<version>.json`, version >= 1) and
  drops that request; local, the child (chaos_entry.py) stops itself before each append
  commit and the test SIGKILLs it at the nth stop, continuing the others (each such kill is
  checked afterwards: the batch's last uploaded file, seen by inotify, must be in no
  commit);
- (b) commit landed, cursor not written: S3, the PUT of `_state/streams/...` is dropped
  after the SIGKILL; local, the moment a commit file `<version>.json` appears (checked
  afterwards: no cursor of that project and stream was written after the commit);
- (c) during the end-of-stream sweep: the first DELETE (S3) or unlink (local) of a data file;
- (d) random moments: after a seeded random number of storage requests (S3) or lake file
  events (local).

Protections this checks (each can be seen failing by removing it):
- one atomic Delta commit per batch and views/plain files reading only committed files: an
  upload without its commit must stay invisible, and the sweep must remove it later
  (without the sweep, plain `read_parquet` sees the orphans as duplicates);
- cursors committed only after the data (flows/core/streams/): committing first loses the batch a
  kill at (a) interrupts;
- insert-if-absent merges for logs/audit events and upserts for requests: every re-run after
  a (b) kill re-writes the batch whose cursor was not written;
- leases of a killed holder are taken over at once (same host, dead pid): without it every
  run after a kill exits 3 for up to the lease TTL, and the loop runs out of attempts;
- the retry layer (extract/retry.py) against 429/5xx/drops/truncation.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
from collections import Counter
from dataclasses import dataclass, replace

import pytest
from lakeroot import LakeRoot
from reliability_harness import (
    SOAK,
    TRACEBACK,
    Etl,
    FigureBook,
    RunResult,
    SimServer,
    Verdict,
    assert_exact,
    check_lake,
    describe,
    faults_without,
    read_state,
    running_sim,
    snapshot_rows,
)
from s3proxy import (
    Rule,
    S3Proxy,
    any_request,
    cursor_put,
    data_delete,
    delta_commit,
    proxy_for,
)
from treewatch import Event, TreeWatch

from simulator import Faults, WorldSpec

KILLS = {"local": 16 if SOAK else 6, "s3": 16 if SOAK else 4}
SPEC = WorldSpec(
    projects=3 if SOAK else 2,
    days=3 if SOAK else 0.5,
    logs_per_day=3000 if SOAK else 800,
    requests_per_day=300 if SOAK else 60,
    burst_size=60,
)
# On S3 every storage call is an HTTP request to a Python server: one project keeps the
# S3 runs short (the two-project case on S3 is test_concurrent_runs).
PROJECTS = {"local": SPEC.projects, "s3": 3 if SOAK else 1}
STEPS = ("a", "b", "c", "d")
FAULT_KINDS = {"429", "5xx", "drop", "truncate", "clamp", "invalid", "mutate"}
LABELS = {
    "a": "(a) data files uploaded, Delta commit not landed",
    "b": "(b) commit landed, cursor not written",
    "c": "(c) during the end-of-stream sweep",
    "d": "(d) random moment",
}
COMMIT_FILE = re.compile(r"(?P<table>.+)/_delta_log/(?P<version>\d{20})\.json")
STREAM_OF_TABLE = {"logs": "logs", "requests": "requests", "audit_events": "audit_events"}


@dataclass(frozen=True)
class KillPlan:
    """Which step to kill at and at its how-many-th occurrence in the run."""

    step: str
    nth: int

    @classmethod
    def draw(cls, rng: random.Random, run: int, kind: str) -> KillPlan:
        step = STEPS[run % len(STEPS)]
        if step == "d":
            return cls(step, rng.randint(20, 250) if kind == "s3" else rng.randint(5, 120))
        return cls(step, rng.randint(1, 2))


def is_batch_commit(key: str) -> bool:
    """A Delta commit of a batch (version 0 only creates the table)."""
    match = COMMIT_FILE.fullmatch(key)
    return match is not None and int(match.group("version")) >= 1


def local_trigger(step: str, event: Event) -> bool:
    if event.is_dir:
        return False
    key = event.key
    if step == "a":
        return event.kind == "moved" and key.endswith(".parquet") and "/project=" in key
    if step == "b":
        return event.kind in ("create", "moved") and is_batch_commit(key)
    if step == "c":
        return event.kind == "delete" and key.endswith(".parquet") and "/_delta_log/" not in key
    return not key.startswith("_state/ledger/")


def table_folder(key: str) -> str:
    """`logs` of `logs/project=.../x.parquet`, `_rejects/logs` of a rejects file."""
    parts = key.split("/")
    return "/".join(parts[:2]) if parts[0] == "_rejects" else parts[0]


def in_a_commit(root: LakeRoot, key: str) -> bool:
    """Whether any commit of the table (all versions) added the data file `key`."""
    assert root.path is not None
    folder = table_folder(key)
    relative = key.removeprefix(folder + "/")
    for log in sorted((root.path / folder / "_delta_log").glob("*.json")):
        for line in log.read_text().splitlines():
            add = json.loads(line).get("add")
            if add and add["path"] in (relative, relative.replace("=", "%3D")):
                return True
    return False


def cursor_after_commit(root: LakeRoot, key: str) -> bool:
    """Whether a cursor of the committed project and stream was written after commit `key`."""
    assert root.path is not None
    match = COMMIT_FILE.fullmatch(key)
    assert match is not None
    stream = STREAM_OF_TABLE.get(match.group("table"), "snapshots")
    if match.group("table").startswith("_rejects"):
        stream = STREAM_OF_TABLE.get(match.group("table").split("/")[1], "snapshots")
    committed = (root.path / key).stat().st_mtime_ns
    projects = set(re.findall(r"project=([a-z0-9-]+)", (root.path / key).read_text()))
    for project in projects:
        cursor = root.path / "_state" / "streams" / project / f"{stream}.json"
        if cursor.exists() and cursor.stat().st_mtime_ns >= committed:
            return True
    return False


def kill_before_commit(etl: Etl, plan: KillPlan) -> tuple[RunResult, str]:
    """(a) on a local root: the child stops itself before each append commit (after the
    batch's uploads); SIGKILL it at the plan's nth stop, SIGCONT it at the others. The label
    says where the kill landed, as checked afterwards."""
    root = etl.root
    assert root.path is not None
    with TreeWatch(root.path) as watch:
        proc = etl.spawn("sync", entry=True, RELIABILITY_STOP_BEFORE_APPEND_COMMIT="1")
        stops, upload = 0, None
        while proc.alive():
            for event in watch.events(0.05):  # wakes on the child's file events
                upload = event if local_trigger("a", event) else upload
            try:
                stop = os.waitid(os.P_PID, proc.pid, os.WSTOPPED | os.WNOHANG)
            except ChildProcessError:  # exited and reaped
                break
            if stop is None:
                continue
            # Stopped: every file event of its uploads is queued already.
            while events := list(watch.events(0)):
                upload = next((e for e in reversed(events) if local_trigger("a", e)), upload)
            stops += 1
            if stops == plan.nth:
                proc.kill(LABELS["a"])
                break
            os.kill(proc.pid, signal.SIGCONT)
        result = proc.wait(timeout=300)
    if not result.killed or upload is None:
        return result, ""
    if in_a_commit(root, upload.key):
        return result, "(a) raced: the commit landed before the kill"
    return result, LABELS["a"]


def kill_local(etl: Etl, plan: KillPlan) -> tuple[RunResult, str]:
    """Run a sync on a local root; SIGKILL it at the plan's file event. The label says
    where the kill landed, as checked afterwards."""
    if plan.step == "a":
        return kill_before_commit(etl, plan)
    root = etl.root
    assert root.path is not None
    with TreeWatch(root.path) as watch:
        proc = etl.spawn("sync")
        seen, trigger = 0, None
        while proc.alive() and trigger is None:
            for event in watch.events(0.05):  # waits for the child's next file event
                if local_trigger(plan.step, event):
                    seen += 1
                    if seen == plan.nth:
                        proc.kill(LABELS[plan.step])
                        trigger = event
                        break
        result = proc.wait(timeout=300)
    if not result.killed or trigger is None:
        return result, ""
    label = LABELS[plan.step]
    if plan.step == "b" and cursor_after_commit(root, trigger.key):
        label = "(b) raced: the cursor was written before the kill"
    return result, label


def kill_s3(etl: Etl, proxy: S3Proxy, plan: KillPlan) -> tuple[RunResult, str]:
    """Run a sync on an S3 root through the proxy, which SIGKILLs it at the plan's request
    and never forwards that request."""
    match = {
        "a": delta_commit(min_version=1),
        "b": cursor_put,
        "c": data_delete,
        "d": any_request,
    }[plan.step]
    proxy.rules = [Rule(LABELS[plan.step], match, "kill", nth=plan.nth)]
    result = etl.run("sync", proxy=proxy)
    proxy.rules = []
    return result, LABELS[plan.step] if result.killed else ""


def lost_logs_report(root: LakeRoot, sim: SimServer, verdicts: list[Verdict]) -> str:
    """What a failure needs to be diagnosed: the dates of lost logs (late logs have ids
    minted after their date), the simulator's now, and the committed logs cursor."""
    lines = [describe(verdicts), f"simulator now: {sim.clock.now().isoformat()}"]
    for v in verdicts:
        if v.table == "logs" and v.lost and v.via == "files":
            truth = {r["id"]: r for r in sim.world.truth_logs(v.project)}
            dates = sorted(truth[i]["date"] for i in v.lost if i in truth)
            lines.append(f"lost logs of {v.project} dated {dates}")
            lines.append(f"its cursor: {json.dumps(read_state(root, v.project, 'logs'))}")
    return "\n".join(lines)


def views_have_no_duplicates(root: LakeRoot) -> bool:
    """The DuckDB views (files of the current Delta version) show each id once, right after
    a kill, before any run cleaned up."""
    with root.views() as con:
        for table in ("logs", "requests", "audit_events"):
            dup = con.execute(f"SELECT count(*) - count(DISTINCT id) FROM {table}").fetchall()
            if dup[0][0]:
                return False
    return True


def assert_clean_exit(result: RunResult, history: list[str] | None = None) -> None:
    """A run that was not killed ends with 0, or 1 and one `error:` line; never a traceback."""
    before = "\n".join(history or [])
    assert result.code in (0, 1), (result.code, result.stderr[-2000:], before)
    assert TRACEBACK not in result.stderr, (result.stderr[-3000:], before)
    if result.code == 1:
        assert result.last_error_line(), (result.stderr[-2000:], before)


def settle(etl: Etl, sim: SimServer, faults: Faults) -> int:
    """Stop the world changing, then sync until a run exits 0; the number of runs."""
    sim.set_faults(faults_without(faults, mutate_during_paging=False))
    sim.clock.freeze()
    for attempt in range(1, 9):
        result = etl.run("sync")
        assert_clean_exit(result)
        if result.code == 0:
            return attempt
    raise AssertionError("no run finished with exit 0 after the kills")


@pytest.mark.timeout(3600 if SOAK else 600)
def test_sigkilled_syncs_converge_to_the_exact_truth(
    make_etl, lake_root: LakeRoot, figures: FigureBook, seed: int
):
    """SIGKILLs at each commit step (a)-(c) and at random moments (d), under every API fault:
    re-runs converge to a lake with every id once (through the views and through plain
    `read_parquet`), requests at their final state and log text byte-exact."""
    kind = lake_root.kind
    rng = random.Random(f"{seed}:{kind}")
    faults = Faults(
        p_429=0.02,
        p_5xx=0.03,
        latency_s=0.002,
        p_drop=0.02,
        p_truncate=0.02,
        clamp_limit=20,
        p_invalid=0.03,
        mutate_during_paging=True,
        seed=seed,
    )
    with running_sim(replace(SPEC, seed=seed, projects=PROJECTS[kind]), faults) as sim:
        etl = make_etl(sim, lake_root, prefect=False, UBIOPS_ETL_BATCH_ROWS="100")
        kills: Counter[str] = Counter()
        history: list[str] = []
        runs = 0
        with proxy_for(lake_root) as proxy:
            # Until enough kills, and every API fault kind happened at least once (small
            # worlds make few calls; a rare fault can take one more run to show up).
            while (
                sum(kills.values()) < KILLS[kind] or not set(sim.stats()["faults"]) >= FAULT_KINDS
            ):
                assert runs < 4 * KILLS[kind], "\n".join(
                    [f"only {sum(kills.values())} kills in {runs} runs", *history]
                )
                plan = KillPlan.draw(rng, runs, kind)
                if proxy is None:
                    result, label = kill_local(etl, plan)
                else:
                    result, label = kill_s3(etl, proxy, plan)
                runs += 1
                history.append(f"run {runs}: {plan} -> exit {result.code} {label}")
                if result.killed:
                    kills[label] += 1
                    assert views_have_no_duplicates(lake_root), label
                else:
                    assert_clean_exit(result, history)
        runs += settle(etl, sim, faults)

        verdicts = check_lake(lake_root, sim.world, sim.faults)
        book = figures[kind]
        book.runs += runs
        book.kills.update(kills)
        book.add_sim(sim.stats())
        book.add_verdicts(verdicts)
        book.bad_inputs["invalid records served (chaos)"] += sim.stats()["faults"].get("invalid", 0)
        assert all(v.ok for v in verdicts), "\n".join(
            [*history, lost_logs_report(lake_root, sim, verdicts)]
        )
        assert_exact(verdicts)
        assert sum(v.rows for v in verdicts) > 250 * PROJECTS[kind]
        for via in ("views", "files"):
            assert snapshot_rows(lake_root, "projects", via) == Counter(sim.world.project_names)
        # Every commit step was hit for real (a raced kill does not count for its step).
        assert all(
            any(k.startswith(f"({s})") and "raced" not in k for k in kills) for s in STEPS
        ), "\n".join(history)
        assert set(sim.stats()["faults"]) >= FAULT_KINDS
