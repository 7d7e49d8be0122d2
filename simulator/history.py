"""One-off history of a generated project: environment builds, in-flight requests, audit trail."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from simulator.activity import (
    DAY_NS,
    NS_PER_MS,
    Activity,
    emit,
    new_uuid,
    register_deployment_request,
)
from simulator.logstore import SYSTEM, LogRow
from simulator.model import AuditEvent, Project, Request

if TYPE_CHECKING:
    from simulator.world import World

DAILY_EVENTS = (
    ("update", "Updated version {v} of deployment {d}", "deployment_version"),
    ("update", "Updated deployment {d}", "deployment"),
    ("info", "Requested logs of deployment {d}", "deployment"),
    ("info", "Triggered a new build of environment {e}", "environment"),
    ("create", "Created revision of version {v} of deployment {d}", "revision"),
    ("update", "Updated environment variable LOG_LEVEL", "environment_variable"),
)


def add_build_logs(project: Project, act: Activity, start_ns: int) -> None:
    """A build or two per environment early in the history: system logs with build ids."""
    rows: list[LogRow] = []
    for env in project.environments:
        for _ in range(act.rng.randrange(1, 3)):
            build_id = new_uuid(act.rng)
            env.build_ids.append(build_id)
            src = project.logs.add_source(
                {"environment_name": env.name, "environment_build_id": build_id}
            )
            ts_us = (start_ns + act.rng.randrange(DAY_NS // 4)) // 1000
            for _ in range(act.rng.randrange(8, 15)):
                emit(act, rows, ts_us, src, "build", SYSTEM)
                ts_us += act.rng.randrange(2_000_000, 20_000_000)
            emit(act, rows, ts_us, src, "build_done", SYSTEM)
    project.logs.add(rows)


def add_in_flight_requests(project: Project, act: Activity, now_ns: int) -> None:
    """Guarantee unfinished work at `now`: one request still queued, one still processing."""
    if not project.deployments:
        return
    now_ms = now_ns // NS_PER_MS
    dep = project.deployments[0]
    version = next(iter(dep.versions))
    queued = Request(
        new_uuid(act.rng),
        "deployment",
        dep.name,
        version,
        now_ms - 20_000,
        now_ms + 300_000,
        now_ms + 600_000,
        "completed",
    )
    running = Request(
        new_uuid(act.rng),
        "deployment",
        dep.name,
        version,
        now_ms - 180_000,
        now_ms - 120_000,
        now_ms + 900_000,
        "failed",
    )
    rows: list[LogRow] = []
    for request in (running, queued):
        register_deployment_request(project, act, request, dep, rows)
    project.logs.add(rows)
    project.requests["deployment"].sort(key=lambda r: r.created_ms)


def add_audit_history(
    rng: random.Random, world: World, project: Project, start_ns: int, now_ns: int
) -> None:
    """Set-up events after project creation, then a few changes a day, oldest first."""
    members = [world.org_users[project.organization][uid] for uid in project.user_ids]
    emails = [m.email for m in members if m.user_type == "user"] or ["admin@example.com"]
    setup_end = start_ns // NS_PER_MS
    at = project.creation_ms
    events = [
        _event(
            rng, at, "create", emails[0], f"Created project {project.name}", "project", project.name
        )
    ]
    setup = [
        ("create", f"Created environment {e.name}", "environment", e.name)
        for e in project.environments
    ]
    for dep in project.deployments:
        setup.append(("create", f"Created deployment {dep.name}", "deployment", dep.name))
        setup += [
            ("create", f"Created version {v} of deployment {dep.name}", "deployment_version", v)
            for v in dep.versions
        ]
    setup += [
        ("create", f"Created pipeline {p.name}", "pipeline", p.name) for p in project.pipelines
    ]
    setup += [
        ("create", f"Created environment variable {v.name}", "environment_variable", v.name)
        for v in project.env_vars.values()
    ]
    setup += [("create", f"Added user {m.email} to project", "user", m.email) for m in members]
    setup.append(("delete", "Deleted deployment legacy-model", "deployment", ""))
    for action, text, object_type, name in setup:
        at = rng.randrange(at + 1, max(at + 2, setup_end))
        events.append(_event(rng, at, action, rng.choice(emails), text, object_type, name))
    events += _daily_events(rng, project, emails, start_ns, now_ns)
    events.sort(key=lambda e: e.date_ms)
    project.audit.extend(events)


def _daily_events(
    rng: random.Random, project: Project, emails: list[str], start_ns: int, now_ns: int
) -> list[AuditEvent]:
    if not project.deployments:
        return []
    count = int((now_ns - start_ns) / DAY_NS * rng.uniform(3, 8))
    events = []
    for _ in range(count):
        action, template, object_type = rng.choice(DAILY_EVENTS)
        dep = rng.choice(project.deployments)
        version = next(iter(dep.versions))
        env = rng.choice(project.environments).name
        text = template.format(v=version, d=dep.name, e=env)
        name = {"environment": env, "environment_variable": "LOG_LEVEL"}.get(object_type, dep.name)
        at = rng.randrange(start_ns, now_ns) // NS_PER_MS
        events.append(_event(rng, at, action, rng.choice(emails), text, object_type, name))
    return events


def _event(
    rng: random.Random,
    at_ms: int,
    action: str,
    user: str,
    text: str,
    object_type: str,
    name: str,
) -> AuditEvent:
    return AuditEvent(new_uuid(rng), at_ms, action, user, text, object_type, name)
