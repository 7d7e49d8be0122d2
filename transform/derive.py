"""Per-table computed columns, as expressions over the typed columns of the lake frame.

Each function receives an expression for every column of the typed frame (by name) and
returns expressions for the columns it computes or overrides; they run as one
`with_columns` query, paid only by the tables that have computed columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from transform.schemas import FINISHED_STATUSES

Typed = Mapping[str, pl.Expr]


def _seconds_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    # Null when either side is null: a request that has not started has no queue time yet.
    return (end - start).dt.total_microseconds().cast(pl.Float64) / 1_000_000


def requests_columns(typed: Typed) -> dict[str, pl.Expr]:
    """Queue and run seconds, and whether the request reached a final status."""
    created, started = typed["time_created"], typed["time_started"]
    return {
        "seconds_queued": _seconds_between(created, started),
        "seconds_running": _seconds_between(started, typed["time_completed"]),
        "finished": typed["status"].is_in(FINISHED_STATUSES),
    }


def environment_variables_columns(typed: Typed) -> dict[str, pl.Expr]:
    """Null the value of every secret variable, even if a faulty server sent one."""
    hidden = pl.lit(None, pl.String())
    return {"value": pl.when(typed["secret"]).then(hidden).otherwise(typed["value"])}


def redact_secret_value(record: Any) -> Any:
    """The record with `value` nulled unless it is certainly not secret (for rejects)."""
    if isinstance(record, Mapping) and record.get("secret") is not False and "value" in record:
        return {**record, "value": None}
    return record


COMPUTED: dict[str, Callable[[Typed], dict[str, pl.Expr]]] = {
    "requests": requests_columns,
    "environment_variables": environment_variables_columns,
}
