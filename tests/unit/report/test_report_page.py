"""The report page from literal frames: every chart drawn as inline SVG with a title naming
what it shows and the range, nothing to fetch, text escaped, empty data said in words."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import polars as pl
import pytest

from report import ReportData, render_report, summary_markdown

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 3, 6, 30, tzinfo=UTC)
RANGE = "2026-11-01 00:00 to 2026-11-03 06:30 UTC"


def data(**frames: pl.DataFrame) -> ReportData:
    base = {
        "requests_daily": pl.DataFrame(
            {
                "day": [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 2)],
                "object_type": ["deployment", "deployment", "pipeline"],
                "object_name": ["scorer", "scorer", "flow"],
                "requests": [10, 12, 3],
                "finished": [10, 10, 0],
                "failures": [1, 5, 0],
                "failure_rate": [0.1, 0.5, None],
            }
        ),
        "durations": pl.DataFrame(
            {
                "deployment": ["scorer"],
                "p50_queue_seconds": [0.5],
                "p95_queue_seconds": [2.0],
                "p50_run_seconds": [1.0],
                "p95_run_seconds": [9.0],
                "finished": [20],
            }
        ),
        "error_logs_daily": pl.DataFrame(
            {"day": [date(2026, 11, 1)], "source": ["scorer"], "error_logs": [4]}
        ),
        "audit_by_user": pl.DataFrame(
            {"user": ["a@example.com"], "action": ["create"], "events": [2]}
        ),
        "latest_errors": pl.DataFrame(
            {
                "date": [datetime(2026, 11, 2, 8, 0, 1, tzinfo=UTC)],
                "project": ["alpha"],
                "source": ["scorer"],
                "version": ["v1"],
                "log": ["<script>alert(1)</script> & boom"],
            }
        ),
    }
    base.update(frames)
    return ReportData(since=SINCE, until=UNTIL, generated_at=UNTIL, **base)


def figures(page: str) -> list[str]:
    return re.findall(r'<figure class="(\w+)" aria-label="([^"]*)"', page)


def test_every_chart_is_inline_svg_titled_with_the_range():
    """Five charts, each an inline SVG with marks, each titled with what it shows and the
    range (in the figure's label and in the drawn title)."""
    page = render_report(data())
    found = figures(page)
    assert [kind for kind, _ in found] == ["chart"] * 5
    titles = [title for _, title in found]
    assert all(title.endswith(RANGE) for title in titles), titles
    assert any(t.startswith("Requests per day") for t in titles)
    assert any(t.startswith("Failure rate per day") for t in titles)
    assert any(t.startswith("Seconds queued and running per deployment") for t in titles)
    assert any(t.startswith("Error log lines per day") for t in titles)
    assert any(t.startswith("Audit events per user") for t in titles)
    assert page.count("<svg") == 5
    assert RANGE in page.split("<svg", 2)[1]  # the drawn title carries the range too


def test_the_page_fetches_nothing_and_runs_no_script():
    """Self-contained: no script tag, no external source or stylesheet."""
    page = render_report(data())
    assert "<script" not in page.replace("&lt;script", "")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page


def test_log_text_is_escaped_in_the_latest_errors_table():
    """A log line is shown as text, never as markup."""
    page = render_report(data())
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; boom" in page
    assert "<script>alert" not in page


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("requests_daily", "No requests in this range."),
        ("durations", "No finished deployment requests in this range."),
        ("error_logs_daily", "No error logs in this range."),
        ("audit_by_user", "No audit events in this range."),
    ],
)
def test_an_empty_answer_is_said_in_words(frame, message):
    """No rows: the figure keeps its title and says there is nothing, instead of empty axes."""
    empty = data(**{frame: data().__getattribute__(frame).clear()})
    page = render_report(empty)
    assert message in page
    assert [kind for kind, _ in figures(page)].count("empty") >= 1


def test_headline_numbers_and_markdown_summary():
    """The headline shows totals; the markdown names the worst failure rate and the file."""
    page = render_report(data())
    assert "<b>25</b>requests" in page
    assert "<b>30.0%</b>failed / finished" in page
    markdown = summary_markdown(data(), "/lake/report.html")
    assert "`/lake/report.html`" in markdown
    assert "| scorer | 6 | 20 | 30.0% |" in markdown
    assert RANGE in markdown
