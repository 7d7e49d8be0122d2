"""The simulated world: organisations, tokens, projects, and what "now" the API shows."""

from __future__ import annotations

import bisect
import random
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from simulator.activity import NS_PER_MS, NS_PER_S, Activity, advance, new_uuid, plan_request
from simulator.clock import to_ns
from simulator.logstore import LogRow
from simulator.logtext import KIND_INDEXES
from simulator.model import AuditEvent, Project, Request, User

if TYPE_CHECKING:
    from simulator.generate import WorldSpec

REQUEST_RETENTION_MS = 604_800_000  # `request_retention_time`: one week

INSTANCE_TYPES: tuple[tuple[str, str, int, float, int, int, float], ...] = (
    ("512mb", "512 MB", 512, 0.125, 0, 2_048, 0.5),
    ("2048mb", "2048 MB", 2_048, 0.5, 0, 8_192, 2.0),
    ("8192mb", "8192 MB", 8_192, 2.0, 0, 32_768, 8.0),
    ("16384mb_t4", "16384 MB + 1 x NVIDIA T4", 16_384, 4.0, 1, 65_536, 40.0),
)


class World:
    """All state behind the API. Handlers and tests share it, so access goes through `lock`."""

    def __init__(self, spec: WorldSpec, token: str, organization: str, as_of_ns: int) -> None:
        self.spec = spec
        self.token = token
        self.organization = organization
        self.as_of_ns = as_of_ns
        self.lock = threading.RLock()
        self.tokens: dict[str, str] = {token: organization}
        self.org_users: dict[str, dict[str, User]] = {}
        self.projects: dict[str, Project] = {}
        self.activities: dict[str, Activity] = {}
        self.instance_types = [_instance_type(row, i) for i, row in enumerate(INSTANCE_TYPES)]

    def __repr__(self) -> str:  # never show tokens
        return f"World(organization={self.organization!r}, projects={len(self.projects)})"

    def add_organization(self, organization: str, token: str) -> None:
        self.tokens[token] = organization

    def add_project(self, project: Project) -> None:
        self.projects[project.name] = project

    @property
    def project_names(self) -> list[str]:
        """Projects visible to `token`."""
        with self.lock:
            return [p.name for p in self.projects.values() if p.organization == self.organization]

    @property
    def foreign_projects(self) -> list[tuple[str, str]]:
        """(project name, token of its organisation) for projects `token` must not see."""
        with self.lock:
            by_org = {org: tok for tok, org in self.tokens.items()}
            return [
                (p.name, by_org[p.organization])
                for p in self.projects.values()
                if p.organization != self.organization
            ]

    @property
    def as_of_ms(self) -> int:
        return self.as_of_ns // NS_PER_MS

    def organization_of(self, token: str) -> str | None:
        return self.tokens.get(token)

    def admin_email(self, organization: str) -> str:
        users = self.org_users.get(organization, {})
        return next((u.email for u in users.values() if u.user_type == "user"), "admin@example.com")

    def visible_requests(self, project: Project, object_type: str) -> list[Request]:
        """Requests the API still shows (retention), oldest first."""
        expired = project.expired_before_ms.get(object_type, 0)
        floor = max(self.as_of_ms - REQUEST_RETENTION_MS, expired)
        requests = project.requests[object_type]
        lo = bisect.bisect_left(requests, floor, key=_created_ms)
        # Later pipeline steps are planned ahead; they exist once their creation time passes.
        hi = bisect.bisect_right(requests, self.as_of_ms, key=_created_ms)
        return requests[lo:hi]

    # Ground truth for exactly-once assertions ------------------------------------------
    def truth_logs(self, project: str) -> list[dict[str, Any]]:
        """Every log created so far in `project`, as the API renders it, in (date, id) order."""
        with self.lock:
            store = self.projects[project].logs
            return [store.render(seq) for seq in store.visible_seqs(self.as_of_ns)]

    def truth_requests(self, project: str, *, still_served: bool = False) -> list[dict[str, Any]]:
        """Every request ever created in `project`, at its current state, oldest first;
        with `still_served`, only those the API still lists (not expired)."""
        with self.lock:
            proj = self.projects[project]
            if still_served:
                both = self.visible_requests(proj, "deployment")
                both += self.visible_requests(proj, "pipeline")
            else:
                both = [
                    r
                    for kind in ("deployment", "pipeline")
                    for r in proj.requests[kind]
                    if r.created_ms <= self.as_of_ms
                ]
            both.sort(key=_created_ms)
            return [r.render(self.as_of_ms) for r in both]

    def truth_audit_events(self, project: str) -> list[dict[str, Any]]:
        """Every audit event of `project`, newest first."""
        with self.lock:
            return [e.render() for e in reversed(self.projects[project].audit)]

    # Change over time ---------------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        """Live mode: let everything that happens up to `now_ns` happen."""
        with self.lock:
            if now_ns <= self.as_of_ns:
                return
            for name, act in self.activities.items():
                if name in self.projects:
                    advance(self.projects[name], act, now_ns)
            self.as_of_ns = now_ns

    def advance_to(self, when: datetime) -> None:
        """Live mode from a test: let everything happen up to `when` (e.g. `clock.now()`)."""
        self.advance(to_ns(when))

    def record_audit(
        self,
        project: Project,
        action: str,
        text: str,
        object_type: str,
        object_name: str,
        at_ms: int | None = None,
    ) -> None:
        rng = random.Random(f"{project.id}:{len(project.audit)}")
        user = self.admin_email(project.organization)
        when = self.as_of_ms if at_ms is None else at_ms
        event = AuditEvent(new_uuid(rng), when, action, user, text, object_type, object_name)
        project.audit.append(event)
        project.audit.sort(key=lambda e: e.date_ms)

    def mutate(self, project: Project, rng: random.Random) -> None:
        """Records change under a paging client: new requests, late logs, an audit event, and
        the oldest requests expiring (so offsets shift both ways)."""
        with self.lock:
            now_ms = self.as_of_ms
            for object_type, requests in project.requests.items():
                visible = self.visible_requests(project, object_type)
                if len(visible) > 2:
                    project.expired_before_ms[object_type] = visible[1].created_ms
                if project.deployments and object_type == "deployment":
                    dep = rng.choice(project.deployments)
                    requests.append(
                        plan_request(
                            rng, object_type, dep.name, next(iter(dep.versions)), now_ms, None
                        )
                    )
            self._late_logs(project, rng)
            self.record_audit(project, "info", "Listed logs and requests", "project", project.name)

    def _late_logs(self, project: Project, rng: random.Random) -> None:
        """A buffered logger flushes lines dated up to ten minutes ago: new ids, old dates."""
        if not project.deployments:
            return
        dep = rng.choice(project.deployments)
        version, revision = next(iter(dep.versions.items()))
        src = project.logs.add_source(
            {
                "deployment_name": dep.name,
                "deployment_version": version,
                "deployment_version_revision_id": revision,
            }
        )
        late = KIND_INDEXES["late"][0]
        rows: list[LogRow] = [
            (self.as_of_ns - rng.randrange(0, 600 * NS_PER_S), src, late, 0)
            for _ in range(rng.randrange(1, 4))
        ]
        project.logs.add(rows, created_sec=self.as_of_ns // NS_PER_S)


def _created_ms(request: Request) -> int:
    return request.created_ms


def _instance_type(row: tuple[str, str, int, float, int, int, float], i: int) -> dict[str, Any]:
    name, display, memory, cpu, gpu, storage, rate = row
    rng = random.Random(f"instance-type:{i}")
    return {
        "id": new_uuid(rng),
        "name": name,
        "display_name": display,
        "memory_allocation": memory,
        "cpu_allocation": cpu,
        "gpu_allocation": gpu,
        "storage_allocation": storage,
        "credit_rate": rate,
    }
