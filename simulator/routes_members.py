"""Environment variables and project users: the write operations that leave audit events."""

from __future__ import annotations

import random
import re

from starlette.requests import Request
from starlette.responses import Response

from simulator.activity import new_uuid
from simulator.context import empty_response, json_response, sim
from simulator.errors import ApiError
from simulator.model import EnvVar, Project
from simulator.params import body_bool, body_str, json_body, query_choice

# Letters and underscores, not starting or ending with an underscore (API.md); digits are
# tolerated inside, as the live service does.
ENV_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_]{0,62}[A-Za-z0-9])?$")


def _env_var(project: Project, request: Request) -> EnvVar:
    var = project.env_vars.get(request.path_params["id"])
    if var is None:
        raise ApiError(404, "Environment variable not found")
    return var


def _check_env_name(project: Project, name: str, own_id: str | None = None) -> str:
    if not ENV_NAME.match(name):
        raise ApiError(
            400,
            "`name` may only contain letters and underscores and must not "
            "start or end with an underscore",
        )
    if any(v.name == name and v.id != own_id for v in project.env_vars.values()):
        raise ApiError(409, f"An environment variable named {name!r} already exists")
    return name


async def env_vars_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        return json_response([v.render() for v in project.env_vars.values()])


async def env_vars_get(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        return json_response(_env_var(ctx.project(request, org), request).render())


async def env_vars_create(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    body = await json_body(request)
    name = body_str(body, "name", required=True) or ""
    value = body_str(body, "value", required=True) or ""
    secret = body_bool(body, "secret", required=False) or False
    with ctx.world.lock:
        project = ctx.project(request, org)
        _check_env_name(project, name)
        rng = random.Random(f"{project.id}:env:{name}:{len(project.audit)}")
        var = EnvVar(new_uuid(rng), name, value, secret)
        project.env_vars[var.id] = var
        ctx.world.record_audit(
            project, "create", f"Created environment variable {name}", "environment_variable", name
        )
        return json_response(var.render(), status=201)


async def env_vars_update(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    body = await json_body(request)
    name = body_str(body, "name", required=False)
    value = body_str(body, "value", required=False)
    secret = body_bool(body, "secret", required=False)
    with ctx.world.lock:
        project = ctx.project(request, org)
        var = _env_var(project, request)
        if var.secret and secret is False:
            raise ApiError(400, "A secret environment variable cannot be made non-secret")
        if name is not None:
            var.name = _check_env_name(project, name, own_id=var.id)
        if value is not None:
            var.value = value
        if secret is not None:
            var.secret = secret
        ctx.world.record_audit(
            project,
            "update",
            f"Updated environment variable {var.name}",
            "environment_variable",
            var.name,
        )
        return json_response(var.render())


async def env_vars_delete(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        var = _env_var(project, request)
        del project.env_vars[var.id]
        ctx.world.record_audit(
            project,
            "delete",
            f"Deleted environment variable {var.name}",
            "environment_variable",
            "",
        )
    return empty_response()


async def users_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    user_type = query_choice(request.query_params, "user_type", ("user", "service"))
    with ctx.world.lock:
        project = ctx.project(request, org)
        users = ctx.world.org_users[project.organization]
        rows = [
            users[uid].render()
            for uid in project.user_ids
            if user_type in (None, users[uid].user_type)
        ]
        return json_response(rows)


async def users_get(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        user_id = request.path_params["user_id"]
        if user_id not in project.user_ids:
            raise ApiError(404, "User not found in this project")
        return json_response(ctx.world.org_users[project.organization][user_id].render())


async def users_create(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    body = await json_body(request)
    user_id = body_str(body, "user_id", required=True) or ""
    with ctx.world.lock:
        project = ctx.project(request, org)
        user = ctx.world.org_users[project.organization].get(user_id)
        if user is None:
            raise ApiError(404, "No user with this id in the organization")
        if user_id in project.user_ids:
            raise ApiError(409, "The user is already a member of this project")
        project.user_ids.append(user_id)
        ctx.world.record_audit(
            project, "create", f"Added user {user.email} to project", "user", user.email
        )
        return json_response(user.render(), status=201)


async def users_delete(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    with ctx.world.lock:
        project = ctx.project(request, org)
        user_id = request.path_params["user_id"]
        if user_id not in project.user_ids:
            raise ApiError(404, "User not found in this project")
        project.user_ids.remove(user_id)
        email = ctx.world.org_users[project.organization][user_id].email
        ctx.world.record_audit(project, "delete", f"Removed user {email} from project", "user", "")
    return empty_response()
