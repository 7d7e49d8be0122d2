"""`ubiops-etl report` as a user runs it, and the page in a real browser: the demo writes the
report and ends with its path; headless Chromium (Debian's package, installed here when
missing) loads it at 1280 px with every request off the page blocked, and every chart must be
drawn. The screenshot the README shows is saved from this run into docs/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CLI, base_env

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"
UPDATE_DOCS = os.environ.get("UBIOPS_ETL_UPDATE_DOCS") == "1"
TITLE_RANGE = re.compile(r", \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d UTC$")


def ensure_chromium() -> str:
    """The system Chromium; installed from the OS packages when missing (CI's fresh machine)."""
    found = shutil.which("chromium")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(
            [*sudo, *step], capture_output=True, text=True, timeout=900, env=env, check=False
        )
        assert done.returncode == 0, f"{' '.join(step)} failed: {done.stderr[-2000:]}"
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CLI's environment: no Prefect API (runs go direct), no UbiOps settings."""
    return base_env(tmp_path_factory.mktemp("report-env"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, Path]:
    """`ubiops-etl demo` into a fresh warehouse: (warehouse, the report path it printed)."""
    warehouse = tmp_path_factory.mktemp("report") / "demo"
    done = run("demo", "--warehouse", str(warehouse), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("Report (open it in a browser): "), last
    path = Path(last.split(": ", 1)[1])
    assert path == warehouse / "report.html"
    return warehouse, path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright driving the system Chromium (Playwright's own browser download is never
    used)."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_the_report_renders_in_chromium(demo, browser, tmp_path):
    """At 1280 px, offline: five charts each drawn as SVG with marks and a title naming the
    range, the latest-errors table filled, no console error, nothing fetched, no horizontal
    scrolling; with UBIOPS_ETL_UPDATE_DOCS=1 the screenshot replaces docs/report.png."""
    _, path = demo
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(path.as_uri(), wait_until="load")
    charts = page.evaluate(
        """() => [...document.querySelectorAll('figure')].map(f => ({
            kind: f.className,
            label: f.getAttribute('aria-label'),
            svgs: f.querySelectorAll('svg').length,
            marks: f.querySelectorAll(
                'g.role-mark:not(.role-axis *):not(.role-legend *):not(.role-title *) path'
            ).length,
            title: [...f.querySelectorAll('g.role-title text')].map(t => t.textContent).join(' '),
            width: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
        }))"""
    )
    assert len(charts) == 5, charts
    for chart in charts:
        assert chart["kind"] == "chart", chart
        assert chart["svgs"] == 1, chart
        assert chart["marks"] > 0, chart
        assert TITLE_RANGE.search(chart["label"]), chart
        assert chart["title"] == chart["label"], chart
        assert 600 < chart["width"] <= 1280, chart
    rows = page.locator("section table tbody tr").count()
    assert 0 < rows <= 20
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert problems == []
    assert outside == []
    shot = SCREENSHOT if UPDATE_DOCS else tmp_path / "report.png"
    page.screenshot(
        path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1560}
    )
    assert shot.stat().st_size > 10_000
    page.close()


def test_a_broken_page_is_caught(browser, tmp_path):
    """The checks above can fail: a page whose chart has no marks and whose script throws is
    seen as such by the same browser."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<figure class="chart"><svg width="10" height="10"></svg></figure>'
        "<script>undefined_function()</script>"
    )
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(bad.as_uri(), wait_until="load")
    assert page.locator("figure g.role-mark path").count() == 0
    assert errors
    assert "undefined_function" in errors[0]
    page.close()


def test_report_flags(demo, env, tmp_path):
    """--project and --out are honoured; a bad --since, a range that ends before it starts,
    a warehouse with no lake and a project the lake does not hold each end in one `error:`
    line and exit 2."""
    warehouse, _ = demo
    projects = sorted(
        p.name.removeprefix("project=") for p in (warehouse / "logs").glob("project=*")
    )
    out = tmp_path / "one" / "r.html"
    done = run("report", "-w", str(warehouse), "--project", projects[0], "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"report: {out}"
    page = out.read_text()
    assert f"UbiOps report: {projects[0]}" in page
    assert all(p not in page for p in projects[1:])
    for args, needle in [
        (("--since", "last tuesday"), "ISO 8601"),
        (("--since", "2999-01-01"), "must be before now"),
        (("-w", str(tmp_path / "nothing-here")), "no lake"),
        (("--project", "no-such-project"), "unknown project 'no-such-project'"),
    ]:
        done = run("report", "-w", str(warehouse), *args, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("error:"), lines
        assert needle in lines[0], lines
