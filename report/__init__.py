"""The report people look at: the lake's answers (polars frames, queried by `warehouse`)
rendered as one self-contained HTML page with static SVG charts. Pure: no files, no SQL;
`flows` wires the query, the rendering and the write."""

from report.page import ReportData, render_report, summary_markdown

__all__ = ["ReportData", "render_report", "summary_markdown"]
