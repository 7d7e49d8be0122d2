"""Snapshots: the slowly changing facts of one project, fetched whole on every run.

Secret environment variable values are never kept: the API returns null for them and we
force null as well, so a server that leaks one cannot make us store it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from extract.client import UbiOpsClient
from extract.errors import NotFound, PermissionDenied
from extract.paging import Record
from extract.projects import validate_project_name
from extract.timeutil import format_api_datetime

log = logging.getLogger(__name__)

SNAPSHOT_TABLES = (
    "projects",
    "project_users",
    "environment_variables",
    "instance_types",
    "quotas",
    "resource_counts",
    "credit_usage",
)


async def fetch_snapshot(
    client: UbiOpsClient,
    project: str,
    *,
    usage_since: datetime | None = None,
    usage_until: datetime | None = None,
) -> dict[str, list[Record]]:
    """Raw rows per snapshot table.

    A table the token may not read (403), or whose endpoint this server lacks (404), is left
    out and logged; a 404 for the project itself raises `NotFound`.
    """
    base = f"/projects/{validate_project_name(project)}"
    usage_params: dict[str, str | int] = {"interval": "day"}
    if usage_since and usage_until:
        usage_params["start_date"] = format_api_datetime(usage_since)
        usage_params["end_date"] = format_api_datetime(usage_until)
    calls = {
        "projects": client.get(base),
        "project_users": client.get(f"{base}/users"),
        "environment_variables": client.get(f"{base}/environment-variables"),
        "instance_types": client.get(f"{base}/instance-types"),
        "quotas": client.get(f"{base}/quotas"),
        "resource_counts": client.get(f"{base}/resources"),
        "credit_usage": client.get(f"{base}/usage", usage_params),
    }
    bodies = await asyncio.gather(*calls.values(), return_exceptions=True)
    tables: dict[str, list[Record]] = {}
    for table, body in zip(calls, bodies, strict=True):
        optional = isinstance(body, PermissionDenied) or (
            isinstance(body, NotFound) and table != "projects"
        )
        if optional:
            log.warning("snapshot of %s: %s left out (%s)", project, table, body)
            continue
        if isinstance(body, BaseException):
            raise body
        tables[table] = _SHAPERS.get(table, _rows)(body)
    return tables


def _rows(body: Any) -> list[Record]:
    """A list body as is; a single object as one row."""
    if isinstance(body, list):
        return [row for row in body if isinstance(row, dict)]
    return [body] if isinstance(body, dict) else []


def _environment_variables(body: Any) -> list[Record]:
    return [
        {**row, "value": None if row.get("secret") else row.get("value")} for row in _rows(body)
    ]


def _credit_usage(body: Any) -> list[Record]:
    """The usage response object as received: transform flattens it (and refuses a broken
    shape into the rejects), so nothing is dropped here."""
    return [body] if isinstance(body, dict) else []


_SHAPERS = {"environment_variables": _environment_variables, "credit_usage": _credit_usage}
