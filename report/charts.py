"""The report's charts: Vega-Altair specs from the report's frames, rendered to static SVG by
vl-convert (no script in the page, nothing fetched; bench/report-libs.md says why).

Each function takes a frame and the chart's title and returns the SVG, or None when the
frame is empty (the page then says so instead of drawing empty axes).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc

WIDTH = 1040
"""Plot width in px: with the legend the chart fits a 1280 px window."""


def _svg(chart: Any) -> str:
    # No base URL is allowed: a spec can never make the renderer fetch anything.
    return vlc.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])


def _days(frame: pl.DataFrame) -> pl.DataFrame:
    # Days as text on an ordinal axis: no time zone can shift a bar to the wrong day.
    return frame.with_columns(pl.col("day").cast(pl.String))


def _base(frame: pl.DataFrame, title: str, height: int = 240) -> alt.Chart:
    return alt.Chart(frame).properties(
        title=alt.TitleParams(title, anchor="start", fontSize=15), width=WIDTH, height=height
    )


def requests_per_day(frame: pl.DataFrame, title: str) -> str | None:
    """Stacked bars: requests per day, one colour per deployment or pipeline."""
    if frame.is_empty():
        return None
    data = _days(frame).with_columns(
        (pl.col("object_type") + ": " + pl.col("object_name")).alias("object")
    )
    chart = (
        _base(data, title)
        .mark_bar()
        .encode(
            x=alt.X("day:O", title="day (UTC)"),
            y=alt.Y("sum(requests):Q", title="requests"),
            color=alt.Color("object:N", title="deployment / pipeline"),
            tooltip=["day:O", "object:N", "requests:Q", "failures:Q"],
        )
    )
    return _svg(chart)


def failure_rate_per_day(frame: pl.DataFrame, title: str) -> str | None:
    """Lines: failed / finished requests per day, per deployment or pipeline."""
    data = frame.filter(pl.col("finished") > 0)
    if data.is_empty():
        return None
    data = _days(data).with_columns(
        (pl.col("object_type") + ": " + pl.col("object_name")).alias("object")
    )
    chart = (
        _base(data, title)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:O", title="day (UTC)"),
            y=alt.Y("failure_rate:Q", title="failed / finished", axis=alt.Axis(format="%")),
            color=alt.Color("object:N", title="deployment / pipeline"),
        )
    )
    return _svg(chart)


DURATIONS = {
    "p50_queue_seconds": "queued p50",
    "p95_queue_seconds": "queued p95",
    "p50_run_seconds": "running p50",
    "p95_run_seconds": "running p95",
}


def durations_per_deployment(frame: pl.DataFrame, title: str) -> str | None:
    """Grouped horizontal bars: p50/p95 seconds queued and running, per deployment."""
    if frame.is_empty():
        return None
    data = frame.unpivot(
        on=list(DURATIONS), index="deployment", variable_name="measure", value_name="seconds"
    ).with_columns(pl.col("measure").replace_strict(DURATIONS))
    order = list(DURATIONS.values())
    chart = (
        _base(data, title, height=max(120, 70 * frame.height))
        .mark_bar()
        .encode(
            y=alt.Y("deployment:N", title=None),
            yOffset=alt.YOffset("measure:N", sort=order),
            x=alt.X("seconds:Q", title="seconds"),
            color=alt.Color("measure:N", sort=order, title=None),
        )
    )
    return _svg(chart)


def error_logs_per_day(frame: pl.DataFrame, title: str) -> str | None:
    """Stacked bars: error log lines per day, one colour per deployment (or pipeline)."""
    if frame.is_empty():
        return None
    chart = (
        _base(_days(frame), title)
        .mark_bar()
        .encode(
            x=alt.X("day:O", title="day (UTC)"),
            y=alt.Y("sum(error_logs):Q", title="error log lines"),
            color=alt.Color("source:N", title="deployment / pipeline"),
        )
    )
    return _svg(chart)


def audit_actions_per_user(frame: pl.DataFrame, title: str) -> str | None:
    """Stacked horizontal bars: audit events per user, one colour per action."""
    if frame.is_empty():
        return None
    chart = (
        _base(frame, title, height=max(120, 24 * frame["user"].n_unique()))
        .mark_bar()
        .encode(
            y=alt.Y("user:N", title=None, sort="-x"),
            x=alt.X("sum(events):Q", title="events"),
            color=alt.Color("action:N", title="action"),
        )
    )
    return _svg(chart)
