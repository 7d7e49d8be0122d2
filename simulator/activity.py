"""Requests and logs arriving over time: one code path for history generation and live mode.

Arrivals are drawn from a per-project RNG as a sequence (next arrival = previous + an
exponential gap), so the world at time T is the same whether it was reached in one step or in
a thousand small ones. A request's whole lifecycle and its logs are planned when it arrives;
the API shows only what has happened by "now" (statuses and logs are filtered by time).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from simulator.logstore import ERROR, STYLE_SHIFT, SYSTEM, LogRow
from simulator.logtext import KIND_INDEXES
from simulator.model import Deployment, Project, Request

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
REQUEST_LOGS_MEAN = 5.0
FILLER_GROUP_MEAN = 9.8


@dataclass
class Activity:
    """Per-project arrival state."""

    rng: random.Random
    requests_per_day: float
    filler_groups_per_day: float
    burst_size: int
    next_request_ns: int
    next_filler_ns: int
    quiet: tuple[int, int] | None = None  # no activity at all in [start, end]
    last_source: int | None = None  # the latest request's log source...
    last_span_us: tuple[int, int] = (0, -1)  # ...and when it runs: extra output lands inside
    idle_sources: dict[str, int] = field(default_factory=dict)  # per deployment, no request


def new_activity(
    rng: random.Random, start_ns: int, requests_per_day: float, logs_per_day: float, burst: int
) -> Activity:
    filler_logs = max(0.0, logs_per_day - requests_per_day * REQUEST_LOGS_MEAN)
    act = Activity(rng, requests_per_day, filler_logs / FILLER_GROUP_MEAN, burst, 0, 0)
    act.next_request_ns = start_ns + _gap(act, act.requests_per_day)
    act.next_filler_ns = start_ns + _gap(act, act.filler_groups_per_day)
    return act


def _gap(act: Activity, per_day: float) -> int:
    if per_day <= 0:
        return 1 << 62
    return max(1, int(act.rng.expovariate(per_day / DAY_NS)))


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _quiet(act: Activity, ts: int, margin: int = 0) -> bool:
    return act.quiet is not None and act.quiet[0] - margin <= ts <= act.quiet[1]


def advance(project: Project, act: Activity, until_ns: int) -> None:
    """Create every request and log that arrives up to `until_ns`."""
    rows: list[LogRow] = []
    # One merged timeline, so the RNG is consumed in the same order however time is stepped.
    while min(act.next_request_ns, act.next_filler_ns) <= until_ns:
        if act.next_request_ns <= act.next_filler_ns:
            ts = act.next_request_ns
            if project.deployments and not _quiet(act, ts, 3_600 * NS_PER_S):
                _arrive(project, act, ts, rows)
            act.next_request_ns += _gap(act, act.requests_per_day)
        else:
            ts = act.next_filler_ns
            if project.deployments and not _quiet(act, ts):
                _filler_group(project, act, ts, rows)
            act.next_filler_ns += _gap(act, act.filler_groups_per_day)
    project.logs.add(rows)
    # Pipeline steps are created after their parent, possibly after later arrivals.
    for requests in project.requests.values():
        requests.sort(key=_created)


def _arrive(project: Project, act: Activity, ts: int, rows: list[LogRow]) -> None:
    rng = act.rng
    if project.pipelines and rng.random() < 0.25:
        _pipeline_request(project, act, ts, rows)
        return
    dep = rng.choice(project.deployments)
    version = rng.choice(list(dep.versions))
    schedule = "nightly-batch" if rng.random() < 0.1 else None
    request = plan_request(rng, "deployment", dep.name, version, ts // NS_PER_MS, schedule)
    register_deployment_request(project, act, request, dep, rows)


def register_deployment_request(
    project: Project, act: Activity, request: Request, dep: Deployment, rows: list[LogRow]
) -> None:
    """Store a direct deployment request and plan the logs of its lifecycle."""
    project.requests["deployment"].append(request)
    meta = {
        "deployment_name": dep.name,
        "deployment_version": request.version,
        "deployment_version_revision_id": dep.versions[request.version],
        "deployment_request_id": request.id,
    }
    act.last_source = project.logs.add_source(meta)
    _request_logs(act, request, act.last_source, rows)


def _pipeline_request(project: Project, act: Activity, ts: int, rows: list[LogRow]) -> None:
    rng = act.rng
    pipe = rng.choice(project.pipelines)
    pversion = rng.choice(pipe.versions)
    parent = plan_request(rng, "pipeline", pipe.name, pversion, ts // NS_PER_MS, None)
    project.requests["pipeline"].append(parent)
    step_ms = parent.created_ms
    for object_name, dep_name, dep_version in pipe.objects:
        child = plan_request(rng, "deployment", dep_name, dep_version, step_ms, None)
        child.in_pipeline = True
        project.requests["deployment"].append(child)
        revision = next(
            (d.versions.get(dep_version, "") for d in project.deployments if d.name == dep_name), ""
        )
        meta = {
            "deployment_name": dep_name,
            "deployment_version": dep_version,
            "deployment_version_revision_id": revision,
            "deployment_request_id": child.id,
            "pipeline_name": pipe.name,
            "pipeline_version": pversion,
            "pipeline_object_name": object_name,
            "pipeline_request_id": parent.id,
        }
        act.last_source = project.logs.add_source(meta)
        _request_logs(act, child, act.last_source, rows)
        step_ms = child.finished_ms
        if child.outcome != "completed":
            break  # a failed or cancelled step ends the pipeline request
    _settle_parent(parent, child)


def _settle_parent(parent: Request, last_child: Request) -> None:
    """A pipeline request ends when its last step does, and shares that step's fate."""
    parent.started_ms = parent.created_ms + 3
    parent.finished_ms = last_child.finished_ms + 5
    parent.outcome = last_child.outcome
    parent.cancel_ms = None if last_child.cancel_ms is None else last_child.cancel_ms + 1


def _created(request: Request) -> int:
    return request.created_ms


def plan_request(
    rng: random.Random,
    object_type: str,
    target: str,
    version: str,
    created_ms: int,
    schedule: str | None,
) -> Request:
    """A full lifecycle: queueing, processing, and a final outcome with consistent times."""
    queue_ms = int(rng.expovariate(1 / 800)) + 5
    if rng.random() < 0.03:
        queue_ms += rng.randrange(120_000, 1_200_000)  # a congested queue
    run_ms = int(rng.lognormvariate(7.5, 1.2)) + 20
    run_ms = min(run_ms, 2_700_000)
    started, finished = created_ms + queue_ms, created_ms + queue_ms + run_ms
    roll = rng.random()
    request = Request(
        new_uuid(rng),
        object_type,
        target,
        version,
        created_ms,
        started,
        finished,
        "completed",
        schedule=schedule,
    )
    if roll < 0.10:
        request.outcome = "failed"
    elif roll < 0.13:
        request.outcome = "cancelled"
        request.cancel_ms = created_ms + rng.randrange(1, max(2, queue_ms + run_ms // 2))
        if request.cancel_ms < started:
            request.started_ms = None
        request.finished_ms = request.cancel_ms + rng.randrange(200, 5_000)
    return request


def emit(act: Activity, rows: list[LogRow], ts_us: int, src: int, kind: str, flags: int) -> None:
    style = act.rng.getrandbits(2)
    ns = act.rng.randrange(1000) if style & 2 else 0  # 9-digit dates carry real nanoseconds
    templates = KIND_INDEXES[kind]
    tmpl = templates[act.rng.randrange(len(templates))] if len(templates) > 1 else templates[0]
    rows.append((ts_us * 1000 + ns, src, tmpl, flags | (style << STYLE_SHIFT)))


def _request_logs(act: Activity, request: Request, src: int, rows: list[LogRow]) -> None:
    rng = act.rng
    begin_us = (request.started_ms or request.created_ms) * 1000 + rng.randrange(1000)
    end_us = request.finished_ms * 1000 + rng.randrange(1000)
    act.last_span_us = (begin_us, end_us - 1)
    emit(act, rows, begin_us, src, "request_start", SYSTEM)
    if request.started_ms is not None:
        for _ in range(rng.randrange(1, 4)):
            emit(act, rows, rng.randrange(begin_us, max(begin_us + 1, end_us)), src, "user", 0)
        if rng.random() < 0.01:
            _burst(act, rows, rng.randrange(begin_us, max(begin_us + 1, end_us)), src)
    if request.outcome == "failed":
        emit(act, rows, end_us - 1, src, "traceback", ERROR)
        emit(act, rows, end_us, src, "request_fail", SYSTEM | ERROR)
    elif request.outcome == "cancelled":
        emit(act, rows, end_us, src, "request_cancel", SYSTEM)
    else:
        emit(act, rows, end_us, src, "request_ok", SYSTEM)


def _filler_group(project: Project, act: Activity, ts: int, rows: list[LogRow]) -> None:
    """Output between requests: user prints, scaling messages and the odd big burst. It is
    tied to the latest request only while that request runs, so request ids stay truthful."""
    rng = act.rng
    ts_us = ts // 1000
    in_request = act.last_source is not None and act.last_span_us[0] <= ts_us
    in_request = in_request and ts_us + 40_000 <= act.last_span_us[1]
    dep = rng.choice(project.deployments)
    src = (
        act.last_source if in_request and act.last_source is not None else _idle(project, act, dep)
    )
    roll = rng.random()
    if roll < 0.05:
        emit(act, rows, ts_us, _idle(project, act, dep), "system", SYSTEM)
    elif roll < 0.07:
        _burst(act, rows, ts_us, src)
    else:
        for i in range(rng.randrange(1, 8)):
            emit(act, rows, ts_us + i * rng.randrange(50, 5_000), src, "user", 0)


def _idle(project: Project, act: Activity, dep: Deployment) -> int:
    """The log source of a deployment's code outside any request (one per deployment)."""
    if dep.name not in act.idle_sources:
        version = next(iter(dep.versions))
        act.idle_sources[dep.name] = project.logs.add_source(
            {
                "deployment_name": dep.name,
                "deployment_version": version,
                "deployment_version_revision_id": dep.versions[version],
            }
        )
    return act.idle_sources[dep.name]


def _burst(act: Activity, rows: list[LogRow], ts_us: int, src: int) -> None:
    """One print of a big table: hundreds of logs with one and the same timestamp."""
    size = act.rng.randrange(act.burst_size // 2, act.burst_size * 3 // 2 + 1)
    style = act.rng.getrandbits(2)
    row = (ts_us * 1000, src, KIND_INDEXES["burst"][0], style << STYLE_SHIFT)
    rows.extend([row] * size)
