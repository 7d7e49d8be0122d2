"""The three event streams: logs (cursor paging), requests and audit events (offset paging)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulator.context import SimContext, json_response, sim
from simulator.errors import ApiError
from simulator.invalid import corrupt_records
from simulator.logstore import Window
from simulator.model import STATUSES, Project
from simulator.model import Request as SimRequest
from simulator.params import (
    body_int,
    check_range,
    json_body,
    parse_date,
    query_bool,
    query_choice,
    query_date,
    query_int,
    shown,
)
from simulator.timefmt import NS_PER_MS, NS_PER_S

NAME_FILTERS = (
    "deployment_name",
    "deployment_version",
    "deployment_version_revision_id",
    "environment_name",
    "environment_build_id",
    "pipeline_name",
    "pipeline_version",
    "pipeline_object_name",
    "deployment_request_id",
    "pipeline_request_id",
    "webhook_name",
)
FILTER_NEEDS = {
    "deployment_version": ("deployment_name",),
    "pipeline_version": ("pipeline_name",),
    "pipeline_object_name": ("pipeline_name", "pipeline_version"),
}
LOG_ID = re.compile(r"^[0-9a-f]{24}$")
MAX_RANGE_S = 86_400
DEFAULT_RANGE_S = -21_600
AUDIT_ACTIONS = ("create", "update", "delete", "info")


@dataclass(frozen=True)
class LogQuery:
    names: dict[str, str]
    system: bool | None
    level: str | None
    log_id: str | None
    date_ns: int | None
    range_s: int
    limit: int


def parse_log_query(body: dict[str, Any], limit_max: int) -> LogQuery:
    filters = body.get("filters")
    filters = {} if filters is None else filters
    if not isinstance(filters, dict):
        raise ApiError(400, "`filters` must be an object")
    unknown = set(filters) - {*NAME_FILTERS, "system", "level"}
    if unknown:
        raise ApiError(400, f"Unknown log filter(s): {shown(', '.join(sorted(unknown)), 80)}")
    names = {k: v for k, v in filters.items() if k in NAME_FILTERS and v is not None}
    for key, value in names.items():
        if not isinstance(value, str):
            raise ApiError(400, f"Filter `{key}` must be a string")
    for key, needs in FILTER_NEEDS.items():
        if key in names and any(n not in names for n in needs):
            raise ApiError(400, f"Filter `{key}` requires {' and '.join(needs)} as well")
    log_id = body.get("id")
    if log_id is not None and (not isinstance(log_id, str) or not LOG_ID.match(log_id)):
        raise ApiError(400, "`id` must be a log id: 24 lowercase hexadecimal characters")
    date_ns = None if body.get("date") is None else parse_date("date", body["date"])
    range_s = body_int(body, "date_range")
    range_s = DEFAULT_RANGE_S if range_s is None else range_s
    check_range("date_range", range_s, -MAX_RANGE_S, MAX_RANGE_S)
    limit = body_int(body, "limit")
    limit = check_range("limit", 50 if limit is None else limit, 1, limit_max)
    return LogQuery(
        names,
        _system_filter(filters.get("system")),
        _level_filter(filters),
        log_id,
        date_ns,
        range_s,
        limit,
    )


def _system_filter(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(400, "Filter `system` must be true or false")


def _level_filter(filters: dict[str, Any]) -> str | None:
    level = filters.get("level")
    if level is not None and level not in ("info", "error"):
        raise ApiError(400, "Filter `level` must be info or error")
    return level


async def projects_log_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    query = parse_log_query(await json_body(request, required=False), ctx.log_limit_max)
    with ctx.world.lock:
        project = ctx.project(request, org)
        if ctx.faults.mutate_during_paging:
            ctx.stats.count_fault("mutate")
            ctx.world.mutate(project, ctx.rng)
        seqs = _log_page(ctx, project, query)
        if ctx.faults.p_invalid <= 0:  # the fast path: no dicts, JSON text straight away
            body = "[" + ",".join(project.logs.render_json(seq) for seq in seqs) + "]"
            return Response(body.encode(), media_type="application/json")
        records = [project.logs.render(seq) for seq in seqs]
    return json_response(corrupt_records(records, "log", ctx.faults, ctx.stats))


def _log_page(ctx: SimContext, project: Project, query: LogQuery) -> list[int]:
    store, as_of = project.logs, ctx.world.as_of_ns
    cursor = None
    if query.log_id is not None:
        cursor = store.seq_of(query.log_id, as_of)
        if cursor is None:
            raise ApiError(404, f"Log {query.log_id} not found in this project")
        start = store.date_ns(cursor)
    else:
        start = as_of if query.date_ns is None else query.date_ns
    keep = None
    if query.names or query.system is not None or query.level is not None:
        names = query.names
        keep = store.matcher(
            lambda meta: all(meta.get(k) == v for k, v in names.items()), query.system, query.level
        )
    window = Window(start, cursor, query.range_s * NS_PER_S, query.limit)
    return store.query(window, as_of, keep)


def _request_filter(request: Request) -> Callable[[SimRequest, str], bool] | None:
    """The record predicate of the list's filters, or None when there are none."""
    params = request.query_params
    status = query_choice(params, "status", STATUSES)
    success = query_bool(params, "success")
    in_pipeline = query_bool(params, "pipeline")
    schedule = params.get("request_schedule") or None
    search = params.get("search_id") or None
    if (status, success, in_pipeline, schedule, search) == (None, None, None, None, None):
        return None

    def keep(req: SimRequest, current: str) -> bool:
        finished = current in ("completed", "failed", "cancelled")
        return (
            (status is None or current == status)
            and (success is None or (finished and (current == "completed") == success))
            and (in_pipeline is None or req.in_pipeline == in_pipeline)
            and (schedule is None or req.schedule == schedule)
            and (search is None or search in req.id)
        )

    return keep


async def project_requests_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    params = request.query_params
    object_type = query_choice(params, "object_type", ("deployment", "pipeline"))
    if object_type is None:
        raise ApiError(400, "`object_type` is required: deployment or pipeline")
    keep = _request_filter(request)
    start, end = query_date(params, "start_date"), query_date(params, "end_date")
    if start is not None and end is not None and end < start:
        raise ApiError(400, "`end_date` must not be before `start_date`")
    descending = query_choice(params, "sort", ("asc", "desc"), "desc") == "desc"
    limit = clamped_limit(ctx, query_int(params, "limit", 50, 1))
    offset = query_int(params, "offset", 0, 0)
    with ctx.world.lock:
        project = ctx.project(request, org)
        if ctx.faults.mutate_during_paging:
            ctx.stats.count_fault("mutate")
            ctx.world.mutate(project, ctx.rng)
        rows = in_window(ctx.world.visible_requests(project, object_type), start, end)
        as_of = ctx.world.as_of_ms
        if keep is not None:
            rows = [r for r in rows if keep(r, r.status_at(as_of))]
        if descending:
            rows = rows[::-1]
        page = [r.render(as_of) for r in rows[offset : offset + limit]]
    return json_response(corrupt_records(page, "request", ctx.faults, ctx.stats))


def in_window(rows: list[SimRequest], start: int | None, end: int | None) -> list[SimRequest]:
    key = _created_ms
    lo = 0 if start is None else bisect.bisect_left(rows, -(-start // NS_PER_MS), key=key)
    hi = len(rows) if end is None else bisect.bisect_right(rows, end // NS_PER_MS, key=key)
    return rows[lo:hi]


def _created_ms(request: SimRequest) -> int:
    return request.created_ms


def clamped_limit(ctx: SimContext, limit: int) -> int:
    clamp = ctx.faults.clamp_limit
    if clamp is not None and limit > clamp:
        ctx.stats.count_fault("clamp")
        return clamp
    return limit


async def project_audit_events_list(request: Request) -> Response:
    ctx = sim(request)
    org = ctx.authorize(request)
    params = request.query_params
    action = query_choice(params, "action", AUDIT_ACTIONS)
    limit = clamped_limit(ctx, query_int(params, "limit", 50, 1))
    offset = query_int(params, "offset", 0, 0)
    with ctx.world.lock:
        project = ctx.project(request, org)
        if ctx.faults.mutate_during_paging:
            ctx.stats.count_fault("mutate")
            ctx.world.mutate(project, ctx.rng)
        events = [e for e in reversed(project.audit) if action in (None, e.action)]
        page = [e.render() for e in events[offset : offset + limit]]
    return json_response(corrupt_records(page, "audit", ctx.faults, ctx.stats))
