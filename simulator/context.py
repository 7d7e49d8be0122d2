"""What every handler needs: the world, the clock, the fault plan, auth and project lookup."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulator.clock import Clock, to_ns
from simulator.errors import ApiError
from simulator.faults import Faults
from simulator.model import Project
from simulator.params import shown
from simulator.stats import SimStats
from simulator.world import World


@dataclass
class SimContext:
    world: World
    clock: Clock
    faults: Faults
    log_limit_max: int
    live: bool
    stats: SimStats = field(default_factory=SimStats)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"faults:{self.faults.seed}")

    def now_ns(self) -> int:
        return to_ns(self.clock.now())

    def tick(self) -> None:
        """Live mode: bring the world up to the clock before answering."""
        if self.live:
            self.world.advance(self.now_ns())

    def authorize(self, request: Request) -> str:
        """The organisation of the caller's token, or a 401."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.strip():
            raise ApiError(401, "Authentication credentials were not provided")
        organization = self.world.organization_of(token.strip())
        if organization is None:
            raise ApiError(401, "Invalid token")
        self.tick()
        return organization

    def project(self, request: Request, organization: str) -> Project:
        """The project in the path, if the caller's organisation owns it."""
        name = request.path_params["project_name"]
        project = self.world.projects.get(name)
        if project is None:
            raise ApiError(404, f"Project {shown(name)} not found")
        if project.organization != organization:
            raise ApiError(403, "You do not have permission to perform this action")
        return project


def sim(request: Request) -> SimContext:
    context: SimContext = request.app.state.sim
    return context


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


def empty_response() -> Response:
    return Response(status_code=204)
