"""The ASGI app: the 21 operations of API.md under /v2.1 (or the current API's variant of
the logs and requests lists), JSON errors, faults around it all."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from simulator import routes_current as current
from simulator import routes_members as members
from simulator import routes_projects as projects
from simulator import routes_streams as streams
from simulator.clock import Clock, SystemClock
from simulator.context import SimContext, json_response
from simulator.errors import ApiError
from simulator.faults import RAW_SEND_KEY, FaultMiddleware, Faults, Sleep
from simulator.modes import API_MODES, ApiMode
from simulator.world import World

PREFIX = "/v2.1"
Handler = Callable[[Request], Awaitable[Response]]
P = "/projects/{project_name}"

# (path, method, operation id as in API.md, handler)
OPERATIONS: tuple[tuple[str, str, str, Handler], ...] = (
    ("/projects", "GET", "projects_list", projects.projects_list),
    ("/projects", "POST", "projects_create", projects.projects_create),
    (P, "GET", "projects_get", projects.projects_get),
    (P, "PATCH", "projects_update", projects.projects_update),
    (P, "DELETE", "projects_delete", projects.projects_delete),
    (P + "/instance-types", "GET", "instance_types_list", projects.instance_types_list),
    (P + "/quotas", "GET", "quotas_list", projects.quotas_list),
    (P + "/resources", "GET", "projects_resource_usage", projects.projects_resource_usage),
    (P + "/usage", "GET", "projects_usage_get", projects.projects_usage_get),
    (
        P + "/environment-variables",
        "GET",
        "project_environment_variables_list",
        members.env_vars_list,
    ),
    (
        P + "/environment-variables",
        "POST",
        "project_environment_variables_create",
        members.env_vars_create,
    ),
    (
        P + "/environment-variables/{id}",
        "GET",
        "project_environment_variables_get",
        members.env_vars_get,
    ),
    (
        P + "/environment-variables/{id}",
        "PATCH",
        "project_environment_variables_update",
        members.env_vars_update,
    ),
    (
        P + "/environment-variables/{id}",
        "DELETE",
        "project_environment_variables_delete",
        members.env_vars_delete,
    ),
    (P + "/users", "GET", "project_users_list", members.users_list),
    (P + "/users", "POST", "project_users_create", members.users_create),
    (P + "/users/{user_id}", "GET", "project_users_get", members.users_get),
    (P + "/users/{user_id}", "DELETE", "project_users_delete", members.users_delete),
    (P + "/logs", "POST", "projects_log_list", streams.projects_log_list),
    (P + "/requests", "GET", "project_requests_list", streams.project_requests_list),
    (P + "/audit", "GET", "project_audit_events_list", streams.project_audit_events_list),
)


def operations(api: ApiMode) -> tuple[tuple[str, str, str, Handler], ...]:
    """The routes of one API mode: `current` serves GET /logs (POST /logs answers 404) and
    the requests list of client 4.6+; `legacy` is API.md as documented."""
    if api == "legacy":
        return OPERATIONS
    routes: list[tuple[str, str, str, Handler]] = []
    for path, method, op, handler in OPERATIONS:
        if op == "projects_log_list":
            routes.append((path, method, op, current.logs_gone))
            routes.append((path, "GET", "logs_list", current.logs_list))
        elif op == "project_requests_list":
            routes.append((path, method, op, current.requests_list))
        else:
            routes.append((path, method, op, handler))
    return tuple(routes)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(
        "^" + re.escape(PREFIX) + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "/?$"
    )


_CLASSIFY = [(_pattern(path), method, op) for path, method, op, _ in operations("current")]


def classify(method: str, path: str) -> tuple[str, str]:
    """(operation id, rate-limit group) of a call; requests endpoints form their own group."""
    for pattern, op_method, op in _CLASSIFY:
        if op_method == method and pattern.match(path):
            return op, "requests" if op == "project_requests_list" else "general"
    return "unknown", "general"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response({"error": exc.message}, status=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return json_response({"error": f"Method {request.method} not allowed"}, 405)
    return json_response({"error": exc.detail or "Not found"}, status=exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return json_response({"error": "Internal server error"}, status=500)


class SimulatorApp(Starlette):
    """Starlette, plus the server's own `send` kept in the scope so a fault can drop the
    connection (Starlette's error middleware wraps `send` before any user middleware)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # setdefault: an ASGI wrapper in front keeps the outermost (real) send for drops.
        scope.setdefault(RAW_SEND_KEY, send)
        await super().__call__(scope, receive, send)


def create_app(
    world: World,
    clock: Clock | None = None,
    faults: Faults | None = None,
    log_limit_max: int = 500,
    live: bool = False,
    sleep: Sleep = asyncio.sleep,
    api: ApiMode = "legacy",
) -> Starlette:
    """The simulator as a Starlette app; `app.state.stats` counts calls, statuses and faults.

    `sleep` is what added latency awaits; tests pass a recorder instead of waiting. `api`
    picks the API served (`operations`).
    """
    if log_limit_max < 1:
        raise ValueError("log_limit_max must be at least 1")
    if api not in API_MODES:
        raise ValueError(f"api must be one of {', '.join(API_MODES)}, got {api!r}")
    context = SimContext(world, clock or SystemClock(), faults or Faults(), log_limit_max, live)
    routes = [
        Route(path, handler, methods=[method], name=op)
        for path, method, op, handler in operations(api)
    ]
    app = SimulatorApp(
        routes=[Mount(PREFIX, routes=routes)],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.sim = context
    app.state.stats = context.stats
    app.state.world = world
    app.add_middleware(FaultMiddleware, context=context, classify=classify, sleep=sleep)
    return app
