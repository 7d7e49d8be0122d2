"""A deterministic world: organisations, projects and their facts, history up to `now`."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime

from simulator.activity import DAY_NS, NS_PER_MS, NS_PER_S, advance, new_activity, new_uuid
from simulator.clock import to_ns
from simulator.history import add_audit_history, add_build_logs, add_in_flight_requests
from simulator.logstore import LogStore
from simulator.model import Deployment, Environment, EnvVar, Pipeline, Project, User
from simulator.world import World

FIRST_NAMES = ("Ada", "Bram", "Chloé", "Dmitri", "Eva", "Femke", "Guo", "Hiroshi", "Inés", "Jan")
SURNAMES = ("de Vries", "Jansen", "Łukasiewicz", "Okafor", "Müller", "Smit", "Tanaka", "Bakker")
MODELS = ("churn-model", "image-classifier", "text-summarizer", "fraud-detector", "forecaster")
ENV_VARS = (
    ("LOG_LEVEL", "INFO", False),
    ("MODEL_BUCKET", "default", False),
    ("DATABASE_PASSWORD", "hunter2-不要", True),
    ("API_KEY", "sk-sim-123", True),
    ("BATCH_SIZE", "32", False),
)


@dataclass(frozen=True)
class WorldSpec:
    """What to generate; every count is per project of the token's organisation."""

    seed: int = 0
    projects: int = 3
    days: float = 10.0
    logs_per_day: float = 2_000.0
    requests_per_day: float = 200.0
    deployments: int = 3
    pipelines: int = 1
    users: int = 6
    foreign_projects: int = 1  # projects of another organisation, invisible to `token`
    quiet_period_hours: float = 30.0  # one gap with no activity at all (0 disables it)
    burst_size: int = 300
    token: str | None = field(default=None, repr=False)
    organization: str = "acme-ml"


def generate_world(spec: WorldSpec, now: datetime) -> World:
    """Build the world as it stands at `now`; the same spec and now give the same world."""
    now_ns = to_ns(now)
    root = random.Random(f"ubiops-sim:{spec.seed}")
    token = spec.token or "sim" + hashlib.sha256(f"token:{spec.seed}".encode()).hexdigest()[:37]
    foreign_org = f"{spec.organization}-partner"
    world = World(spec, token, spec.organization, now_ns)
    world.add_organization(
        foreign_org, "sim" + hashlib.sha256(f"fx:{spec.seed}".encode()).hexdigest()[:37]
    )
    for org in (spec.organization, foreign_org):
        world.org_users[org] = _users(root, org, spec.users)
    names = [f"{spec.organization}-{kind}" for kind in ("prod", "staging", "research")]
    names += [f"{spec.organization}-team-{i}" for i in range(3, spec.projects)]
    for name in names[: spec.projects]:
        world.add_project(_project(spec, world, name, spec.organization, now_ns))
    for index in range(spec.foreign_projects):
        name = f"{foreign_org}-{index}"
        world.add_project(_project(spec, world, name, foreign_org, now_ns))
    return world


def _users(rng: random.Random, org: str, count: int) -> dict[str, User]:
    users: dict[str, User] = {}
    for i in range(count):
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], SURNAMES[(i * 3) % len(SURNAMES)]
        email = f"{first.lower().replace('é', 'e')}.{i}@{org}.example.com"
        user = User(new_uuid(rng), email, first, last)
        users[user.id] = user
    bot = User(new_uuid(rng), f"etl-bot@{org}.serviceuser.example.com", "etl-bot", "-", "service")
    users[bot.id] = bot
    return users


def _project(spec: WorldSpec, world: World, name: str, org: str, now_ns: int) -> Project:
    rng = random.Random(f"ubiops-sim:{spec.seed}:{name}")
    start_ns = now_ns - int(spec.days * DAY_NS)
    created_ms = (start_ns - rng.randrange(2, 200) * DAY_NS - rng.randrange(DAY_NS)) // NS_PER_MS
    code = int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)
    project = Project(new_uuid(rng), name, org, created_ms, LogStore(code))
    project.credits = rng.choice((None, 10_000.0, 50_000.0))
    project.buckets = rng.randrange(1, 4)
    project.quotas = [
        ("memory_standard", 274_877_906_944),
        ("cpu_standard", 62),
        ("gpu_standard", rng.choice((0, 2))),
        ("deployments", 40),
    ]
    _add_facts(rng, spec, world, project)
    act = new_activity(rng, start_ns, spec.requests_per_day, spec.logs_per_day, spec.burst_size)
    add_build_logs(project, act, start_ns)
    if spec.quiet_period_hours > 0 and spec.days >= spec.quiet_period_hours / 24 + 2:
        quiet_len = int(spec.quiet_period_hours * 3600 * NS_PER_S)
        quiet_start = rng.randrange(start_ns + DAY_NS // 2, now_ns - DAY_NS - quiet_len)
        act.quiet = (quiet_start, quiet_start + quiet_len)
    advance(project, act, now_ns)
    add_in_flight_requests(project, act, now_ns)
    add_audit_history(rng, world, project, start_ns, now_ns)
    world.activities[project.name] = act
    return project


def _add_facts(rng: random.Random, spec: WorldSpec, world: World, project: Project) -> None:
    for i in range(2):
        env_name = ("python3-11", "python3-11-gpu-cuda12")[i]
        project.environments.append(Environment(new_uuid(rng), env_name))
    for i in range(spec.deployments):
        versions = {f"v{v}": new_uuid(rng) for v in range(1, rng.randrange(2, 4))}
        env = project.environments[i % 2].name
        name = MODELS[i % len(MODELS)] + ("" if i < len(MODELS) else f"-{i}")
        project.deployments.append(
            Deployment(new_uuid(rng), name, versions, env, round(rng.uniform(2, 40), 2))
        )
    for i in range(spec.pipelines if project.deployments else 0):
        steps = project.deployments[: rng.randrange(1, min(3, len(project.deployments)) + 1)]
        objects = [(f"{d.name}-object", d.name, next(iter(d.versions))) for d in steps]
        project.pipelines.append(
            Pipeline(
                new_uuid(rng), f"pipeline-{i + 1}", ["v1", "v2"][: rng.randrange(1, 3)], objects
            )
        )
    for name, value, secret in ENV_VARS[: rng.randrange(3, len(ENV_VARS) + 1)]:
        var = EnvVar(new_uuid(rng), name, value, secret)
        project.env_vars[var.id] = var
    members = list(world.org_users[project.organization])
    project.user_ids = members[: max(3, len(members) - rng.randrange(0, 3))]
