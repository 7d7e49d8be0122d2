"""Which charting library for `ubiops-etl report`: file size, time to build, time for a
headless Chromium to load the page, and whether it needs the network.

The same five charts (30 days x 8 deployments, as the report draws them) are built three ways:

- altair-svg: Vega-Altair specs rendered to static SVG by vl-convert (no script in the page)
- altair-inline: Vega-Altair with the Vega/Vega-Lite scripts inlined (`inline=True`)
- plotly-inline: Plotly figures with plotly.js inlined once

    pip install --target /tmp/charts altair vl-convert-python plotly
    PYTHONPATH=/tmp/charts .venv/bin/python -m bench.report_libs   # writes bench/report-libs.md

The browser time is `performance.now()` once the page's charts are in the DOM, in headless
Chromium at 1280 px driven by Playwright (median of 5); every request that leaves the page is
blocked and counted, so the page is measured as it behaves offline.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

DAYS = 30
DEPLOYMENTS = [f"deployment-{i}" for i in range(8)]


def frame() -> pl.DataFrame:
    rng = random.Random(7)
    start = dt.date(2026, 11, 1)
    rows = [
        {
            "day": start + dt.timedelta(d),
            "deployment": name,
            "requests": rng.randint(50, 500),
            "failure_rate": rng.random() * 0.2,
            "p95_run_seconds": rng.random() * 10,
            "error_logs": rng.randint(0, 80),
        }
        for d in range(DAYS)
        for name in DEPLOYMENTS
    ]
    return pl.DataFrame(rows)


def altair_charts(data: pl.DataFrame) -> list[Any]:
    import altair as alt

    base = alt.Chart(data).properties(width=1100, height=220)
    return [
        base.mark_line().encode(x="day:T", y="requests:Q", color="deployment:N"),
        base.mark_line().encode(x="day:T", y="failure_rate:Q", color="deployment:N"),
        base.mark_bar().encode(x="deployment:N", y="max(p95_run_seconds):Q"),
        base.mark_bar().encode(x="day:T", y="error_logs:Q", color="deployment:N"),
        base.mark_bar().encode(y="deployment:N", x="sum(requests):Q"),
    ]


def altair_svg(data: pl.DataFrame) -> str:
    import vl_convert as vlc

    svgs = [vlc.vegalite_to_svg(c.to_dict()) for c in altair_charts(data)]
    return "<html><body>" + "".join(svgs) + "</body></html>"


def altair_inline(data: pl.DataFrame) -> str:
    import altair as alt

    chart = alt.vconcat(*altair_charts(data))
    return str(chart.to_html(inline=True))


def plotly_inline(data: pl.DataFrame) -> str:
    import plotly.express as px

    pdf = data  # plotly reads polars through narwhals
    figures = [
        px.line(pdf, x="day", y="requests", color="deployment"),
        px.line(pdf, x="day", y="failure_rate", color="deployment"),
        px.bar(pdf, x="deployment", y="p95_run_seconds"),
        px.bar(pdf, x="day", y="error_logs", color="deployment"),
        px.bar(pdf, y="deployment", x="requests", orientation="h"),
    ]
    parts = [
        f.to_html(full_html=False, include_plotlyjs=(i == 0), default_width=1100)
        for i, f in enumerate(figures)
    ]
    return "<html><body>" + "".join(parts) + "</body></html>"


# Each variant's page is done when this many chart SVGs are in the DOM (Plotly draws two
# SVG layers per chart, Vega one per chart; altair-inline is one vconcat chart).
DONE = {"altair-svg": 5, "altair-inline": 1, "plotly-inline": 10}


def browser_figures(pages: dict[str, Path], runs: int = 5) -> dict[str, tuple[float, int]]:
    """Per page: median ms from navigation start until its charts are drawn, and how many
    requests went anywhere but the page itself (all blocked: offline)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "install chromium (apt-get install -y chromium)"
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for name, page_path in pages.items():
            times, outside = [], 0
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                seen: list[str] = []
                page.route("**/*", lambda route, seen=seen: _offline(route, seen))
                page.goto(page_path.as_uri(), wait_until="load")
                page.wait_for_function(
                    f"document.querySelectorAll('svg').length >= {DONE.get(name, 0)}"
                )
                times.append(page.evaluate("performance.now()"))
                outside = max(outside, len(seen))
                page.close()
            out[name] = (statistics.median(times), outside)
        browser.close()
    return out


def _offline(route: Any, seen: list[str]) -> None:
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        seen.append(route.request.url)
        route.abort()


def main() -> None:
    data = frame()
    builders: dict[str, Callable[[pl.DataFrame], str]] = {
        "altair-svg": altair_svg,
        "altair-inline": altair_inline,
        "plotly-inline": plotly_inline,
    }
    lines = [
        "# Charting library for the report",
        "",
        f"Five charts, {DAYS} days x {len(DEPLOYMENTS)} deployments; "
        "`PYTHONPATH=/tmp/charts .venv/bin/python -m bench.report_libs` "
        f"on {os.cpu_count()} shared cores, load average {os.getloadavg()[0]:.1f} at the start.",
        "",
        "| variant | file size | build CPU s (median of 3) | ms until drawn (median of 5) "
        "| requests off the page | script tags |",
        "|---|---|---|---|---|---|",
    ]
    pages, rows = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in builders.items():
            build(data)  # warm imports and the renderer
            cpu = []
            for _ in range(3):
                started = time.process_time()
                html = build(data)
                cpu.append(time.process_time() - started)
            pages[name] = Path(tmp) / f"{name}.html"
            pages[name].write_text(html)
            rows[name] = (len(html.encode()) / 1024, statistics.median(cpu), html.count("<script"))
        pages["blank"] = Path(tmp) / "blank.html"
        pages["blank"].write_text("<html><body></body></html>")
        shown = browser_figures(pages)
    for name, (kib, cpu_s, scripts) in rows.items():
        ms, outside = shown[name]
        lines.append(
            f"| {name} | {kib:,.0f} KiB | {cpu_s:.2f} | {ms:,.0f} | {outside} | {scripts} |"
        )
    lines += ["", f"Blank page in the same browser: {shown['blank'][0]:,.0f} ms.", ""]
    Path("bench/report-libs.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
