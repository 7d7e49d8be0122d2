"""The only code that speaks HTTP: client, retries, rate limit, paginators and streams.

Entry points for flows::

    config = ClientConfig(host=..., token=SecretStr(...), max_concurrency=4)
    async with open_client(config) as client:      # keep-alive httpx client, process-wide pacing
        listing = await list_projects(client)      # .valid names; .invalid (name, reason) pairs
        async for page in iter_logs(client, p, since, until, resume, concurrency=4):
            ...                                    # resume: LogCursor or several, one per window
        async for page in iter_requests(client, p, "deployment", since, until, resume=cursor):
            ...
        async for page in iter_audit_events(client, p, known=audit_cursor):
            ...
        tables = await fetch_snapshot(client, p)   # {table: [raw rows]}, secrets nulled
    client.stats                                   # calls, retries, 429s per endpoint group

`UbiOpsClient(http, config, clock=..., pacing=...)` is the injectable form for tests.
Logs come from `POST /logs` (legacy) or `GET /logs` (current, content ids) as
`config.log_api` says (`auto`: the POST while the server has it); `client.traits` records
which one the run used. A `Page` holds new raw records, the cursor to commit once they are
durable, the window they belong to and whether that window is complete. Cursors are frozen
dataclasses with `to_json()` / `from_json()`. Windows are half-open `[start, end)`. Errors:
`extract.errors`.

Pacing follows the server's `x-ratelimit-*` headers and 429s, one budget per endpoint group
shared by every client of the process (`extract.pacing`); `rate_per_minute` is an explicit
cap. Several worker processes against one account each follow the headers, which count
every process's calls.
"""

from extract.audit import AuditCursor, AuditPaginator
from extract.client import ApiRequest, ClientStats, GroupStats, UbiOpsClient, open_client
from extract.config import ClientConfig, RetryPolicy
from extract.errors import (
    ApiError,
    ApiUnavailable,
    AuthError,
    BadRequest,
    ExtractError,
    InvalidProjectName,
    NotFound,
    PagingStalled,
    PermissionDenied,
    RequestFailed,
    UnexpectedResponse,
)
from extract.interleave import interleave
from extract.logs import LogCursor, LogPaginator, plan_log_windows
from extract.logs_current import CurrentLogPaginator
from extract.pacing import Clock, Pacer, Pacing, RateSignal, SystemClock
from extract.paging import Page, iter_pages
from extract.projects import (
    ProjectListing,
    check_project_names,
    list_projects,
    validate_project_name,
)
from extract.request_list import OBJECT_TYPES, ObjectType, RequestCursor, RequestPaginator
from extract.snapshots import SNAPSHOT_TABLES, fetch_snapshot
from extract.streams import iter_audit_events, iter_logs, iter_requests

__all__ = [
    "OBJECT_TYPES",
    "SNAPSHOT_TABLES",
    "ApiError",
    "ApiRequest",
    "ApiUnavailable",
    "AuditCursor",
    "AuditPaginator",
    "AuthError",
    "BadRequest",
    "ClientConfig",
    "ClientStats",
    "Clock",
    "CurrentLogPaginator",
    "ExtractError",
    "GroupStats",
    "InvalidProjectName",
    "LogCursor",
    "LogPaginator",
    "NotFound",
    "ObjectType",
    "Pacer",
    "Pacing",
    "Page",
    "PagingStalled",
    "PermissionDenied",
    "ProjectListing",
    "RateSignal",
    "RequestCursor",
    "RequestFailed",
    "RequestPaginator",
    "RetryPolicy",
    "SystemClock",
    "UbiOpsClient",
    "UnexpectedResponse",
    "check_project_names",
    "fetch_snapshot",
    "interleave",
    "iter_audit_events",
    "iter_logs",
    "iter_pages",
    "iter_requests",
    "list_projects",
    "open_client",
    "plan_log_windows",
    "validate_project_name",
]
