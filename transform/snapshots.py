"""Raw shapes of the snapshot endpoints that are not one record per lake row.

Most snapshot responses are already a list of objects (users, environment variables, instance
types, quotas) or one object that is one row (project detail, resource counts), and go
straight to the generic reader. Credit usage is one object per project holding three lists;
it is flattened here into one record per (scope, deployment, interval). A response whose
shape cannot be read is refused whole; an interval that cannot be typed is refused as its
flattened record (the interval's fields plus `scope` and the deployment's id and name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from transform.fields import json_type_name

_USAGE_ENVELOPE = frozenset(
    {"interval", "data_project", "data_deployments", "data_deleted_deployments"}
)
# API.md names the deleted-deployments list both ways; accept either.
_DELETED_ALIASES = ("data_deleted_deployments", "data_deployments_deleted")
_DEPLOYMENT_ENVELOPE = frozenset({"deployment_id", "deployment_name", "data"})


def _items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected array, got {json_type_name(value)}")
    return value


def _with_context(item: Any, context: Mapping[str, Any]) -> Any:
    # The item's own fields win; envelope fields the API may add ride along into `_extra`.
    return {**context, **item} if isinstance(item, Mapping) else item


def _flatten_one(usage: Any) -> list[Any]:
    if not isinstance(usage, Mapping):
        raise ValueError(f"not a JSON object (got {json_type_name(usage)})")
    envelope_extra = {
        k: v for k, v in usage.items() if k not in _USAGE_ENVELOPE and k not in _DELETED_ALIASES
    }
    flat = [
        _with_context(item, {**envelope_extra, "scope": "project"})
        for item in _items(usage.get("data_project"), "data_project")
    ]
    for deployment in _items(usage.get("data_deployments"), "data_deployments"):
        if not isinstance(deployment, Mapping):
            raise ValueError("data_deployments: an entry is not a JSON object")
        context = {k: v for k, v in deployment.items() if k != "data"}
        context = {**envelope_extra, **context, "scope": "deployment"}
        flat += [
            _with_context(item, context)
            for item in _items(deployment.get("data"), "data_deployments[].data")
        ]
    deleted = next((usage[k] for k in _DELETED_ALIASES if k in usage), None)
    flat += [
        _with_context(item, {**envelope_extra, "scope": "deleted_deployments"})
        for item in _items(deleted, "data_deleted_deployments")
    ]
    return flat


def flatten_usage(responses: Sequence[Any]) -> tuple[list[Any], list[tuple[Any, str]]]:
    """One record per usage interval, and the responses whose shape could not be read."""
    flat: list[Any] = []
    refused: list[tuple[Any, str]] = []
    for usage in responses:
        try:
            flat += _flatten_one(usage)
        except ValueError as problem:
            refused.append((usage, str(problem)))
    return flat, refused
