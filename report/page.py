"""The report page: one self-contained HTML file (inline CSS, inline SVG charts, no script,
nothing fetched), and the short markdown summary a Prefect artifact carries. Pure: frames in,
text out."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from report import charts

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1220px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: #57606a; margin: 0 0 20px; }
.kpis { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 20px; }
.kpi { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 16px;
       min-width: 150px; }
.kpi b { display: block; font-size: 20px; }
figure, section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px;
                  margin: 0 0 20px; padding: 16px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
h2 { font-size: 15px; margin: 0 0 10px; }
.empty { color: #57606a; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #d8dee4;
         vertical-align: top; }
td.log { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap;
         word-break: break-word; }
"""


@dataclass(frozen=True)
class ReportData:
    """What the report shows, as the warehouse answered it (see warehouse.report_sql)."""

    since: datetime
    until: datetime
    generated_at: datetime
    requests_daily: pl.DataFrame
    durations: pl.DataFrame
    error_logs_daily: pl.DataFrame
    audit_by_user: pl.DataFrame
    latest_errors: pl.DataFrame
    projects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def range_text(self) -> str:
        """The time range as every title states it."""
        return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC"

    @property
    def scope_text(self) -> str:
        return ", ".join(self.projects) if self.projects else "all projects"


Chart = Callable[[pl.DataFrame, str], "str | None"]


def _figure(title: str, svg: str | None, empty: str) -> str:
    body = svg if svg is not None else f'<h2>{html.escape(title)}</h2><p class="empty">{empty}</p>'
    kind = "chart" if svg is not None else "empty"
    return f'<figure class="{kind}" aria-label="{html.escape(title)}">{body}</figure>'


def _kpis(data: ReportData) -> str:
    requests = data.requests_daily
    total = int(requests["requests"].sum()) if not requests.is_empty() else 0
    finished = int(requests["finished"].sum()) if not requests.is_empty() else 0
    failures = int(requests["failures"].sum()) if not requests.is_empty() else 0
    errors = int(data.error_logs_daily["error_logs"].sum()) if data.error_logs_daily.height else 0
    events = int(data.audit_by_user["events"].sum()) if data.audit_by_user.height else 0
    rate = f"{failures / finished:.1%}" if finished else "-"
    cells = [
        ("requests", f"{total:,}"),
        ("failed / finished", rate),
        ("error log lines", f"{errors:,}"),
        ("audit events", f"{events:,}"),
    ]
    return (
        '<div class="kpis">'
        + "".join(f'<div class="kpi"><b>{value}</b>{label}</div>' for label, value in cells)
        + "</div>"
    )


def _latest_errors(data: ReportData) -> str:
    title = f"Latest error logs (newest first, at most 20), {data.range_text}"
    frame = data.latest_errors
    if frame.is_empty():
        return _figure(title, None, "No error logs in this range.")
    rows = "".join(
        "<tr>"
        f"<td>{row['date']:%Y-%m-%d %H:%M:%S}</td>"
        f"<td>{html.escape(row['project'])}</td>"
        f"<td>{html.escape(row['source'] or '')}</td>"
        f"<td>{html.escape(row['version'] or '')}</td>"
        f'<td class="log">{html.escape(row["log"])}</td>'
        "</tr>"
        for row in frame.iter_rows(named=True)
    )
    head = "<tr><th>UTC</th><th>project</th><th>deployment / pipeline</th><th>version</th>"
    return (
        f'<section aria-label="{html.escape(title)}"><h2>{html.escape(title)}</h2>'
        f"<table><thead>{head}<th>log</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document, readable at 1280 px, that works offline."""
    span = data.range_text
    figures: list[tuple[Chart, pl.DataFrame, str, str]] = [
        (
            charts.requests_per_day,
            data.requests_daily,
            f"Requests per day, per deployment and pipeline, {span}",
            "No requests in this range.",
        ),
        (
            charts.failure_rate_per_day,
            data.requests_daily,
            f"Failure rate per day (failed / finished), per deployment and pipeline, {span}",
            "No finished requests in this range.",
        ),
        (
            charts.durations_per_deployment,
            data.durations,
            f"Seconds queued and running per deployment, p50 and p95 of finished requests, {span}",
            "No finished deployment requests in this range.",
        ),
        (
            charts.error_logs_per_day,
            data.error_logs_daily,
            f"Error log lines per day, per deployment, {span}",
            "No error logs in this range.",
        ),
        (
            charts.audit_actions_per_user,
            data.audit_by_user,
            f"Audit events per user and action, {span}",
            "No audit events in this range.",
        ),
    ]
    body = "".join(
        _figure(title, draw(frame, title), empty) for draw, frame, title, empty in figures
    )
    heading = f"UbiOps report: {html.escape(data.scope_text)}"
    sub = (
        f"{html.escape(span)} &middot; generated {data.generated_at:%Y-%m-%d %H:%M} UTC "
        "by ubiops-etl from the lake's marts"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title><style>{CSS}</style></head><body><main>"
        f'<h1>{heading}</h1><p class="sub">{sub}</p>{_kpis(data)}{body}{_latest_errors(data)}'
        "</main></body></html>\n"
    )


def summary_markdown(data: ReportData, location: str) -> str:
    """A few lines for a Prefect markdown artifact: the headline numbers and where the
    report is."""
    frame = data.requests_daily
    worst = (
        frame.group_by("object_name")
        .agg(pl.col("failures").sum(), pl.col("finished").sum())
        .filter(pl.col("finished") > 0)
        .with_columns((pl.col("failures") / pl.col("finished")).alias("rate"))
        .sort(["rate", "object_name"], descending=[True, False])
        .head(3)
    )
    lines = [
        f"# UbiOps report: {data.scope_text}",
        "",
        f"{data.range_text}. Report: `{location}`",
        "",
        "| deployment / pipeline | failed | finished | failure rate |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['object_name']} | {r['failures']} | {r['finished']} | {r['rate']:.1%} |"
        for r in worst.iter_rows(named=True)
    ]
    return "\n".join(lines) + "\n"
