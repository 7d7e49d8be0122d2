"""Project-level operations: projects CRUD, instance types, quotas, resources, credit usage."""

from __future__ import annotations

import base64
import random
import re

from starlette.requests import Request
from starlette.responses import Response

from simulator.activity import new_uuid
from simulator.context import empty_response, json_response, sim
from simulator.errors import ApiError
from simulator.logstore import LogStore
from simulator.model import Project
from simulator.params import body_bool, body_str, json_body, query_choice, query_int
from simulator.usage import usage_report

PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


async def projects_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    wanted = request.query_params.get("organization")
    with ctx.world.lock:
        rows = [
            p.render_summary()
            for p in ctx.world.projects.values()
            if p.organization == org and wanted in (None, "", p.organization)
        ]
    return json_response(rows)


async def projects_get(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        return json_response(ctx.project(request, org).render_detail())


def _check_name(name: str) -> str:
    if not PROJECT_NAME.match(name):
        raise ApiError(
            400,
            "`name` may only contain lowercase letters, numbers and dashes, "
            "must start with a letter and be at most 64 characters",
        )
    return name


def _credits(body: dict[str, object]) -> float | None:
    value = body.get("credits")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ApiError(400, "`credits` must be a non-negative number or null")
    return float(value)


def _origins(body: dict[str, object]) -> list[str] | None:
    value = body.get("cors_origins")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, "`cors_origins` must be a list of strings")
    return list(value)


async def projects_create(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    body = await json_body(request)
    name = _check_name(body_str(body, "name", required=True) or "")
    org_name = body_str(body, "organization_name", required=True)
    advanced = body_bool(body, "advanced_permissions", required=False) or False
    credits, origins = _credits(body), _origins(body)
    if org_name != org:
        raise ApiError(403, "You can only create projects in your own organization")
    with ctx.world.lock:
        if name in ctx.world.projects:
            raise ApiError(409, f"A project named {name!r} already exists")
        rng = random.Random(f"new-project:{name}:{len(ctx.world.projects)}")
        code = rng.getrandbits(24)
        project = Project(
            new_uuid(rng),
            name,
            org,
            ctx.world.as_of_ms,
            LogStore(code),
            advanced_permissions=advanced,
            credits=credits,
            cors_origins=origins or [],
        )
        project.user_ids = [u.id for u in ctx.world.org_users.get(org, {}).values()][:1]
        ctx.world.add_project(project)
        ctx.world.record_audit(project, "create", f"Created project {name}", "project", name)
        return json_response(project.render_detail(), status=201)


async def projects_update(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    body = await json_body(request)
    new_name = body_str(body, "name", required=False)
    advanced = body_bool(body, "advanced_permissions", required=False)
    suspend = body_bool(body, "suspend", required=False)
    credits, origins = _credits(body), _origins(body)
    with ctx.world.lock:
        project = ctx.project(request, org)
        if new_name is not None and new_name != project.name:
            if _check_name(new_name) in ctx.world.projects:
                raise ApiError(409, f"A project named {new_name!r} already exists")
            ctx.world.projects[new_name] = ctx.world.projects.pop(project.name)
            if project.name in ctx.world.activities:
                ctx.world.activities[new_name] = ctx.world.activities.pop(project.name)
            project.name = new_name
        if advanced is not None:
            project.advanced_permissions = advanced
        if "credits" in body:
            project.credits = credits
        if origins is not None:
            project.cors_origins = origins
        if suspend is not None:
            project.suspended = suspend
            project.suspended_reason = "Suspended by a project admin" if suspend else None
        ctx.world.record_audit(
            project, "update", f"Updated project {project.name}", "project", project.name
        )
        return json_response(project.render_detail())


async def projects_delete(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        del ctx.world.projects[project.name]
        ctx.world.activities.pop(project.name, None)
    return empty_response()


async def instance_types_list(request: Request) -> Response:
    """A paginated envelope `{count, next, previous, results}` (client 4.12 expects it):
    `limit` items from an opaque `cursor`; `next`/`previous` are absolute URLs or null."""
    ctx = sim(request)
    org = ctx.authorize(request)
    limit = query_int(request.query_params, "limit", 100, 1)
    start = _cursor_offset(request.query_params.get("cursor"))
    with ctx.world.lock:
        ctx.project(request, org)
        items = ctx.world.instance_types
        page = items[start : start + limit]
        after, before = start + len(page), max(0, start - limit)
        body = {
            "count": len(items),
            "next": _page_url(request, after, limit) if after < len(items) else None,
            "previous": _page_url(request, before, limit) if start > 0 else None,
            "results": page,
        }
    return json_response(body)


def _cursor_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o="))
    except ValueError:
        raise ApiError(400, "Invalid cursor") from None
    if offset < 0:
        raise ApiError(400, "Invalid cursor")
    return offset


def _page_url(request: Request, offset: int, limit: int) -> str:
    cursor = base64.urlsafe_b64encode(f"o={offset}".encode()).decode()
    return str(request.url.include_query_params(cursor=cursor, limit=limit))


async def quotas_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        return json_response([{"resource": r, "quota": q} for r, q in project.quotas])


async def projects_resource_usage(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        return json_response(
            {
                "deployments": len(project.deployments),
                "deployment_versions": sum(len(d.versions) for d in project.deployments),
                "pipelines": len(project.pipelines),
                "pipeline_versions": sum(len(p.versions) for p in project.pipelines),
                "buckets": project.buckets,
                "environments": len(project.environments),
            }
        )


async def projects_usage_get(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    params = request.query_params
    interval = query_choice(params, "interval", ("day", "month"), "month") or "month"
    with ctx.world.lock:
        project = ctx.project(request, org)
        report = usage_report(
            project, ctx.world.as_of_ns, interval, params.get("start_date"), params.get("end_date")
        )
        return json_response(report)
