"""Snapshots: the slowly changing facts of one project, fetched whole on every run.

List endpoints may answer a plain list or a paginated envelope; envelopes are followed
through their `next` links. Secret environment variable values are never kept: the API
returns null for them and we force null as well, so a server that leaks one cannot make us
store it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from extract.client import UbiOpsClient
from extract.errors import NotFound, PagingStalled, PermissionDenied, UnexpectedResponse
from extract.paging import Record, list_body
from extract.projects import validate_project_name
from extract.timeutil import format_api_datetime

log = logging.getLogger(__name__)

MAX_SNAPSHOT_PAGES = 1000
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
        "project_users": get_list(client, f"{base}/users"),
        "environment_variables": get_list(client, f"{base}/environment-variables"),
        "instance_types": get_list(client, f"{base}/instance-types"),
        "quotas": get_list(client, f"{base}/quotas"),
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


async def get_list(client: UbiOpsClient, path: str) -> list[Any]:
    """Every item of a list endpoint: a plain list, or a paginated envelope whose `next`
    links are followed (same path, the link's query) until there is none."""
    first, link = list_body(await client.get(path), path)
    items = list(first)
    followed: set[str] = set()
    while link is not None:
        if link in followed or len(followed) >= MAX_SNAPSHOT_PAGES:
            raise PagingStalled(f"{path}: the paginated envelope's `next` links do not end")
        followed.add(link)
        more, link = list_body(await client.get(path, _next_params(client, path, link)), path)
        items = items + list(more)
    return items


def _next_params(client: UbiOpsClient, path: str, link: str) -> dict[str, str | int]:
    """The query of a `next` link, which must point at the same endpoint of our host."""
    target = urlsplit(urljoin(client.host + path, link))
    expected = urlsplit(client.host + path)
    same = (target.scheme, target.netloc) == (expected.scheme, expected.netloc)
    if not same or target.path.rstrip("/") != expected.path.rstrip("/"):
        raise UnexpectedResponse(f"{path}: a `next` link leads elsewhere ({target.path})")
    return dict(parse_qsl(target.query))


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
