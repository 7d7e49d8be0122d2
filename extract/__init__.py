"""The only code that speaks HTTP: client, retries, rate limit, paginators and streams.

Entry points for flows::

    config = ClientConfig(host=..., token=SecretStr(...), rate_per_minute=290, max_concurrency=8)
    async with open_client(config) as client:            # keep-alive httpx client, shared pacing
        listing = await list_projects(client)           # .valid names, .invalid (reported)
        async for page in iter_logs(client, p, since, until, resume, concurrency=4): ...
        async for page in iter_requests(client, p, "deployment", since, until, resume=c): ...
        async for page in iter_audit_events(client, p, known=audit_cursor): ...
        tables = await fetch_snapshot(client, p)         # {table: [raw rows]}
    client.stats                                          # calls, retries, 429s per group

`UbiOpsClient(http, config, clock=..., rate_limits=...)` is the injectable form for tests.
A `Page` holds new raw records and the cursor to commit once they are durable; cursors are
frozen dataclasses with `to_json()` / `from_json()`. Errors: see `extract.errors`.
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
    UnexpectedResponse,
)
from extract.logs import LogCursor, LogPaginator, plan_log_windows
from extract.paging import Page, iter_pages
from extract.projects import (
    ProjectListing,
    check_project_names,
    list_projects,
    validate_project_name,
)
from extract.ratelimit import Clock, RateLimiter, RateLimits, SystemClock
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
    "ExtractError",
    "GroupStats",
    "InvalidProjectName",
    "LogCursor",
    "LogPaginator",
    "NotFound",
    "ObjectType",
    "Page",
    "PagingStalled",
    "PermissionDenied",
    "ProjectListing",
    "RateLimiter",
    "RateLimits",
    "RequestCursor",
    "RequestPaginator",
    "RetryPolicy",
    "SystemClock",
    "UbiOpsClient",
    "UnexpectedResponse",
    "check_project_names",
    "fetch_snapshot",
    "iter_audit_events",
    "iter_logs",
    "iter_pages",
    "iter_requests",
    "list_projects",
    "open_client",
    "plan_log_windows",
    "validate_project_name",
]
