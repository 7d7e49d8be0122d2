"""The run logic of one (project, stream): plan from state, page, write, commit."""

from flows.core.streams.context import WINDOW, ProgressHook, RunContext
from flows.core.streams.logs import plan_log_spans, sync_logs
from flows.core.streams.requests import plan_request_windows, request_start, sync_requests
from flows.core.streams.snapshots import sync_audit, sync_snapshots

__all__ = [
    "WINDOW",
    "ProgressHook",
    "RunContext",
    "plan_log_spans",
    "plan_request_windows",
    "request_start",
    "sync_audit",
    "sync_logs",
    "sync_requests",
    "sync_snapshots",
]
