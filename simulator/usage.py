"""Credit usage per day, derived (not stored) from a hash, aggregated per day or month."""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulator.errors import ApiError
from simulator.model import Project
from simulator.params import parse_date
from simulator.timefmt import NS_PER_MS, NS_PER_S

MAX_SPAN_DAYS = 731
MIN_DAY, MAX_DAY = date(1970, 1, 1), date(2999, 12, 31)


def _day_factor(key: str, day: date) -> float:
    digest = hashlib.blake2b(f"{key}:{day.isoformat()}".encode(), digest_size=4).digest()
    return 0.4 + int.from_bytes(digest, "big") / 2**32 * 1.2


def _add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day, last))


def _period(project: Project, now_day: date) -> tuple[date, date]:
    """The current subscription month, anchored on the project's creation day."""
    anchor = datetime.fromtimestamp(project.creation_ms // 1000, UTC).day
    start = _add_months(now_day, 0, anchor)
    if start > now_day:
        start = _add_months(now_day, -1, anchor)
    return start, _add_months(start, 1, anchor)


def _bounds(
    project: Project, now_day: date, start: str | None, end: str | None
) -> tuple[date, date]:
    if start is None and end is None:
        return _period(project, now_day)
    if start is None or end is None:
        raise ApiError(400, "`start_date` and `end_date` must be given together")
    first = _to_day(parse_date("start_date", start))
    last = _to_day(parse_date("end_date", end))
    if last <= first:
        raise ApiError(400, "`end_date` must be after `start_date`")
    if (last - first).days > MAX_SPAN_DAYS:
        raise ApiError(400, f"The period may span at most {MAX_SPAN_DAYS} days")
    return first, last


def _to_day(ns: int) -> date:
    try:
        day = datetime.fromtimestamp(ns // NS_PER_S, UTC).date()
    except (ValueError, OverflowError, OSError):
        day = date.min
    if not MIN_DAY <= day <= MAX_DAY:
        raise ApiError(400, f"Dates must lie between {MIN_DAY} and {MAX_DAY}")
    return day


def _buckets(first: date, last: date, interval: str) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    cursor, step = first, 0
    while cursor < last:
        step += 1
        nxt = (
            cursor + timedelta(days=1) if interval == "day" else _add_months(first, step, first.day)
        )
        out.append((cursor, min(nxt, last)))
        cursor = nxt
    return out


def _series(
    key: str, base: float, buckets: list[tuple[date, date]], alive: tuple[date, date]
) -> list[dict[str, Any]]:
    points = []
    for first, last in buckets:
        value = 0.0
        day = max(first, alive[0])
        while day < min(last, alive[1]):
            value += base * _day_factor(key, day)
            day += timedelta(days=1)
        points.append(
            {
                "start_date": f"{first.isoformat()}T00:00:00Z",
                "end_date": f"{last.isoformat()}T00:00:00Z",
                "value": round(value, 3),
            }
        )
    return points


def usage_report(
    project: Project, now_ns: int, interval: str, start: str | None, end: str | None
) -> dict[str, Any]:
    now_day = _to_day(now_ns)
    first, last = _bounds(project, now_day, start, end)
    buckets = _buckets(first, last, interval)
    alive = (_to_day(project.creation_ms * NS_PER_MS), now_day + timedelta(days=1))
    series = [_series(d.id, d.credit_base * 24, buckets, alive) for d in project.deployments]
    deleted = _series(f"{project.id}:deleted", 3.0, buckets, alive)
    totals = [
        dict(point, value=round(sum(s[i]["value"] for s in series) + point["value"], 3))
        for i, point in enumerate(deleted)
    ]
    # API.md's fields plus the version fields client 4.12 requires (its usage is per version;
    # here all of a deployment's usage is booked on its first version).
    deployments = [
        {
            "deployment_id": d.id,
            "deployment_name": d.name,
            "version_id": next(iter(d.versions.values())),
            "version": next(iter(d.versions)),
            "data": data,
        }
        for d, data in zip(project.deployments, series, strict=True)
    ]
    return {
        "interval": interval,
        "data_project": totals,
        "data_deployments": deployments,
        "data_deleted_deployments": deleted,
    }
