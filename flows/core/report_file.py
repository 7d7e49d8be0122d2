"""The report file: the marts over a time range, rendered as one offline HTML file.

The warehouse answers the questions (SQL), `report` draws them (pure), the warehouse writes
the file; this module only wires the three and decides the defaults. A run writes it when
`UBIOPS_ETL_REPORT_FILE` is set; `ubiops-etl report` and the demo write it on demand.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flows.core.errors import UsageError
from flows.core.settings import Settings
from flows.core.timeparse import parse_instant

REPORT_FILE = "report.html"
DEFAULT_SINCE = "30d"


def default_out(settings: Settings) -> Path:
    """`<warehouse>/report.html` for a local lake, `./report.html` for object storage."""
    local = settings.location.local_path
    return Path(local) / REPORT_FILE if local is not None else Path(REPORT_FILE)


def build_report(
    settings: Settings, *, since: str, now: datetime, out: str | None = None
) -> tuple[Path, str]:
    """Query, render and write the report; its path and a markdown summary of it."""
    from report import ReportData, render_report, summary_markdown
    from warehouse import Lake
    from warehouse.report_sql import report_frames, write_report

    start = parse_instant(since, now=now)
    if start >= now:
        raise UsageError(f"--since ({start.isoformat()}) must be before now ({now.isoformat()})")
    lake = Lake.open(settings.location, create=False)  # NotALake: nothing synced there
    projects = list(settings.projects)
    known = {project for project, _ in lake.state.streams()}
    unknown = sorted(set(projects) - known)
    if unknown:
        raise UsageError(
            f"unknown project {unknown[0]!r} in {settings.location}; "
            f"synced projects: {', '.join(sorted(known)) or 'none'}"
        )
    frames = report_frames(lake.location, start, now, projects)
    data = ReportData(
        since=start,
        until=now,
        generated_at=now,
        projects=tuple(projects),
        requests_daily=frames["requests_daily"],
        durations=frames["durations"],
        error_logs_daily=frames["error_logs_daily"],
        audit_by_user=frames["audit_by_user"],
        latest_errors=frames["latest_errors"],
    )
    path = write_report(out or default_out(settings), render_report(data))
    return path, summary_markdown(data, str(path))
