"""The simulated world's records: plain dataclasses, rendered to API JSON on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.logstore import LogStore
from simulator.timefmt import format_ms

FINAL_STATUSES = ("completed", "failed", "cancelled")
STATUSES = ("pending", "processing", "failed", "completed", "cancelled", "cancelled_pending")


@dataclass
class User:
    id: str
    email: str
    name: str
    surname: str
    user_type: str = "user"

    def render(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "surname": self.surname}


@dataclass
class EnvVar:
    id: str
    name: str
    value: str
    secret: bool

    def render(self) -> dict[str, Any]:
        # Secret values never leave the API, not even to the token that created them.
        value = None if self.secret else self.value
        return {"id": self.id, "name": self.name, "value": value, "secret": self.secret}


@dataclass
class Deployment:
    id: str
    name: str
    versions: dict[str, str]  # version name -> revision id
    environment: str
    credit_base: float


@dataclass
class Pipeline:
    id: str
    name: str
    versions: list[str]
    objects: list[tuple[str, str, str]]  # (object name, deployment, deployment version)


@dataclass
class Environment:
    id: str
    name: str
    build_ids: list[str] = field(default_factory=list)


@dataclass
class Request:
    """A request with its whole planned lifecycle; its status is a function of time."""

    id: str
    object_type: str  # "deployment" | "pipeline"
    target: str
    version: str
    created_ms: int
    started_ms: int | None
    finished_ms: int
    outcome: str  # "completed" | "failed" | "cancelled"
    cancel_ms: int | None = None
    in_pipeline: bool = False
    schedule: str | None = None

    def status_at(self, t_ms: int) -> str:
        if t_ms >= self.finished_ms:
            return self.outcome
        if self.cancel_ms is not None and t_ms >= self.cancel_ms:
            return "cancelled_pending"
        if self.started_ms is not None and t_ms >= self.started_ms:
            return "processing"
        return "pending"

    def render(self, t_ms: int) -> dict[str, Any]:
        status = self.status_at(t_ms)
        finished = status in FINAL_STATUSES
        started = self.started_ms is not None and t_ms >= self.started_ms
        is_deployment = self.object_type == "deployment"
        return {
            "id": self.id,
            "deployment": self.target if is_deployment else None,
            "pipeline": None if is_deployment else self.target,
            "version": self.version,
            "status": status,
            "success": (status == "completed") if finished else None,
            "time_created": format_ms(self.created_ms),
            "time_started": format_ms(self.started_ms) if started and self.started_ms else None,
            "time_completed": format_ms(self.finished_ms) if finished else None,
        }


@dataclass
class AuditEvent:
    id: str
    date_ms: int
    action: str
    user: str
    event: str
    object_type: str
    object_name: str

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": format_ms(self.date_ms),
            "action": self.action,
            "user": self.user,
            "event": self.event,
            "object_type": self.object_type,
            "object_name": self.object_name,
        }


@dataclass
class Project:
    id: str
    name: str
    organization: str
    creation_ms: int
    logs: LogStore
    advanced_permissions: bool = False
    credits: float | None = None
    suspended: bool = False
    suspended_reason: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    environments: list[Environment] = field(default_factory=list)
    env_vars: dict[str, EnvVar] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)
    quotas: list[tuple[str, int]] = field(default_factory=list)
    buckets: int = 1
    requests: dict[str, list[Request]] = field(
        default_factory=lambda: {"deployment": [], "pipeline": []}
    )
    audit: list[AuditEvent] = field(default_factory=list)  # oldest first
    # per object type; raised by the mutate-during-paging fault
    expired_before_ms: dict[str, int] = field(default_factory=dict)

    def render_summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "creation_date": format_ms(self.creation_ms),
            "advanced_permissions": self.advanced_permissions,
            "organization_name": self.organization,
        }

    def render_detail(self) -> dict[str, Any]:
        return self.render_summary() | {
            "credits": self.credits,
            "suspended": self.suspended,
            "suspended_reason": self.suspended_reason,
            "cors_origins": list(self.cors_origins),
        }
