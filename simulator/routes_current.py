"""The current API (client 4.10-4.15): `GET /logs` with LogQL and nanosecond timestamps, and
the requests list that takes no `sort`/`success` and lists only finished requests.

Served when the simulator runs with `api="current"`; `POST /logs` then answers 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulator.context import json_response, sim
from simulator.errors import ApiError
from simulator.invalid import corrupt_records
from simulator.params import check_range, parse_date, query_choice, query_date, query_int, shown
from simulator.routes_streams import clamped_limit, in_window
from simulator.timefmt import NS_PER_S

LOG_LIMIT_DEFAULT = 1000
LOG_LIMIT_MAX = 5000
DAY_NS = 86_400 * NS_PER_S
_VALUE = r"(`[^`]*`|\"(?:[^\"\\]|\\.)*\")"
_SELECTOR = re.compile(r"\s*\{(?P<body>[^}]*)\}")
_MATCHER = re.compile(r"\s*(?P<label>\w+)\s*(?P<op>=|!=)\s*" + _VALUE + r"\s*,?")
_LABEL_FILTER = re.compile(r"\s*\|\s*(?P<label>\w+)\s*(?P<op>=|!=)\s*" + _VALUE)
_LINE_FILTER = re.compile(r"\s*(?P<op>\|=|!=|\|~|!~)\s*" + _VALUE)


@dataclass(frozen=True)
class LogQuery:
    """The supported LogQL: label equality (selector or `| label = "v"`) and line filters."""

    labels: tuple[tuple[str, bool, str], ...]  # (label, equal?, value)
    lines: tuple[tuple[str, str], ...]  # (operator, operand)

    def keeps(self, metadata: dict[str, Any], text: Callable[[], str]) -> bool:
        for label, equal, value in self.labels:
            held = metadata.get(label)
            shown_value = str(held).lower() if isinstance(held, bool) else held
            if (shown_value is not None and str(shown_value) == value) != equal:
                return False
        return all(_line_matches(op, operand, text()) for op, operand in self.lines)


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    return str(bytes(token[1:-1], "utf-8").decode("unicode_escape"))


def _line_matches(op: str, operand: str, line: str) -> bool:
    if op in ("|=", "!="):
        return (operand in line) == (op == "|=")
    try:
        found = re.search(operand, line) is not None
    except re.error:
        raise ApiError(400, f"Invalid regular expression in query: {shown(operand)}") from None
    return found == (op == "|~")


def parse_logql(text: str) -> LogQuery:
    """The query's filters, or a 400 naming what is not supported."""
    labels: list[tuple[str, bool, str]] = []
    lines: list[tuple[str, str]] = []
    position = 0
    selector = _SELECTOR.match(text, position)
    if selector:
        body = selector.group("body")
        inner = 0
        while inner < len(body.strip()):
            matcher = _MATCHER.match(body, inner)
            if not matcher:
                raise ApiError(400, f"Unsupported stream selector: {shown(body)}")
            labels.append((matcher["label"], matcher["op"] == "=", _unquote(matcher.group(3))))
            inner = matcher.end()
        position = selector.end()
    while position < len(text.rstrip()):
        line_filter = _LINE_FILTER.match(text, position)
        if line_filter:
            lines.append((line_filter["op"], _unquote(line_filter.group(2))))
            position = line_filter.end()
            continue
        label_filter = _LABEL_FILTER.match(text, position)
        if not label_filter:
            raise ApiError(400, f"Unsupported query: {shown(text[position:])}")
        equal = label_filter["op"] == "="
        labels.append((label_filter["label"], equal, _unquote(label_filter.group(3))))
        position = label_filter.end()
    return LogQuery(tuple(labels), tuple(lines))


async def logs_list(request: Request) -> Response:
    """GET /projects/{p}/logs: `start` inclusive, `end` exclusive, oldest first when
    start < end, newest first when start > end; the last 24 h without them."""
    ctx = sim(request)
    org = ctx.authorize(request)
    params = request.query_params
    if ("start" in params) != ("end" in params):
        raise ApiError(400, "`start` and `end` must be given together")
    limit = query_int(params, "limit", LOG_LIMIT_DEFAULT, 1)
    check_range("limit", limit, 1, LOG_LIMIT_MAX)
    query = parse_logql(params.get("query", ""))
    with ctx.world.lock:
        project = ctx.project(request, org)
        store, as_of = project.logs, ctx.world.as_of_ns
        if "start" in params:
            start, end = parse_date("start", params["start"]), parse_date("end", params["end"])
        else:
            start, end = as_of - DAY_NS, as_of
        keep = None
        if query.labels or query.lines:
            keep = store.current_matcher(query.keeps)
        seqs = store.between(start, end, as_of, limit, keep)
        items = [store.render_current(seq) for seq in seqs]
    return json_response(items)


async def logs_gone(request: Request) -> Response:
    """POST /projects/{p}/logs on a server that dropped it."""
    raise ApiError(404, "Not found")


FINISHED = ("completed", "failed", "cancelled")
DROPPED_PARAMETERS = ("sort", "success", "pipeline", "request_schedule")


async def requests_list(request: Request) -> Response:
    """GET /projects/{p}/requests as client 4.6+ knows it: finished requests only, one
    `status` (failed/completed/cancelled, default completed), newest first, no `sort` or
    `success` (a 400 names them)."""
    ctx = sim(request)
    org = ctx.authorize(request)
    params = request.query_params
    dropped = [name for name in DROPPED_PARAMETERS if name in params]
    if dropped:
        raise ApiError(400, f"Unknown query parameter(s): {', '.join(dropped)}")
    object_type = query_choice(params, "object_type", ("deployment", "pipeline"))
    if object_type is None:
        raise ApiError(400, "`object_type` is required: deployment or pipeline")
    status = query_choice(params, "status", FINISHED, "completed")
    start, end = query_date(params, "start_date"), query_date(params, "end_date")
    if start is not None and end is not None and end < start:
        raise ApiError(400, "`end_date` must not be before `start_date`")
    limit = clamped_limit(ctx, query_int(params, "limit", 50, 1))
    offset = query_int(params, "offset", 0, 0)
    with ctx.world.lock:
        project = ctx.project(request, org)
        as_of = ctx.world.as_of_ms
        rows = in_window(ctx.world.visible_requests(project, object_type), start, end)
        rows = [r for r in rows if r.status_at(as_of) == status][::-1]
        page = [r.render(as_of) for r in rows[offset : offset + limit]]
    return json_response(corrupt_records(page, "request", ctx.faults, ctx.stats))
