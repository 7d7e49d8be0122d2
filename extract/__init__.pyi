"""Type stub: the names `__init__.py` loads on first use (lazy_loader.attach_stub)."""

from .audit import (
    AuditCursor,
    AuditPaginator,
)
from .budget import SharedPacing
from .client import (
    ApiRequest,
    ClientStats,
    GroupStats,
    UbiOpsClient,
    open_client,
)
from .config import (
    ClientConfig,
    RetryPolicy,
)
from .errors import (
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
from .interleave import interleave
from .logs import (
    LogCursor,
    LogPaginator,
    plan_log_windows,
)
from .logs_current import CurrentLogPaginator
from .pacing import (
    Budget,
    Clock,
    Pacer,
    Pacing,
    RateSignal,
    SystemClock,
)
from .paging import (
    Page,
    iter_pages,
)
from .projects import (
    ProjectListing,
    check_project_names,
    list_projects,
    validate_project_name,
)
from .request_list import (
    OBJECT_TYPES,
    ObjectType,
    RequestCursor,
    RequestPaginator,
)
from .snapshots import (
    SNAPSHOT_TABLES,
    fetch_snapshot,
)
from .streams import (
    iter_audit_events,
    iter_logs,
    iter_requests,
)

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
    "Budget",
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
    "SharedPacing",
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
