"""The report's questions in SQL over the marts (and, for what no mart holds, the table
views), answered as polars frames; and writing the rendered report file.

The rendering itself is pure and lives in `report/`; `flows/` wires the two.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import polars as pl

from warehouse.location import LakeLocation
from warehouse.query import connect

# `$since`/`$until` bound the UTC days (`day`, a partition column: only those files are
# read) and, for single rows, the timestamps; `$projects` empty means every project.
_WHERE = (
    "day BETWEEN $since::DATE AND $until::DATE"
    " AND (len($projects) = 0 OR list_contains($projects, project))"
)

REPORT_QUERIES: dict[str, str] = {
    "requests_daily": """
        SELECT day, object_type, object_name,
               sum(requests)::BIGINT AS requests, sum(finished)::BIGINT AS finished,
               sum(failures)::BIGINT AS failures,
               sum(failures) / nullif(sum(finished), 0) AS failure_rate
        FROM mart_requests_daily WHERE $where
        GROUP BY ALL ORDER BY day, object_type, object_name""",
    # Quantiles over the whole range (daily quantiles cannot be combined), from the same
    # view the mart reads.
    "durations": """
        SELECT deployment,
               quantile_cont(seconds_queued, 0.5) AS p50_queue_seconds,
               quantile_cont(seconds_queued, 0.95) AS p95_queue_seconds,
               quantile_cont(seconds_running, 0.5) AS p50_run_seconds,
               quantile_cont(seconds_running, 0.95) AS p95_run_seconds,
               count(*) AS finished
        FROM requests
        WHERE $where AND object_type = 'deployment' AND finished
          AND time_created BETWEEN $since AND $until
        GROUP BY ALL ORDER BY deployment""",
    "error_logs_daily": """
        SELECT day, coalesce(deployment_name, pipeline_name, '(project)') AS source,
               sum(error_logs)::BIGINT AS error_logs
        FROM mart_error_logs_daily WHERE $where
        GROUP BY ALL ORDER BY day, source""",
    "audit_by_user": """
        SELECT coalesce("user", '(unknown)') AS "user", action, sum(events)::BIGINT AS events
        FROM mart_audit_actions_daily WHERE $where
        GROUP BY ALL ORDER BY "user", action""",
    "latest_errors": """
        SELECT date, project, coalesce(deployment_name, pipeline_name) AS source,
               deployment_version AS version, left(log, 300) AS log
        FROM logs WHERE $where AND level = 'error' AND date BETWEEN $since AND $until
        ORDER BY date DESC, id DESC LIMIT 20""",
}
"""One frame per name: what the report draws (`$where` is the range and project filter)."""


def report_frames(
    location: LakeLocation, since: datetime, until: datetime, projects: list[str]
) -> dict[str, pl.DataFrame]:
    """Each of `REPORT_QUERIES` over [since, until] (UTC), for `projects` (empty: all)."""
    params = {"since": since, "until": until, "projects": projects}
    with connect(location) as con:
        return {
            name: con.sql(sql.replace("$where", _WHERE), params=params).pl()
            for name, sql in REPORT_QUERIES.items()
        }


def write_report(path: Path | str, html: str) -> Path:
    """Write `html` to the local file `path` atomically (readers never see half a report)."""
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
