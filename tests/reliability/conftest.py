"""The reliability suite: the whole pipeline under faults, kills, concurrency, hostile input.

One Prefect server serves the session (so each `ubiops-etl sync` subprocess does not start an
ephemeral API); the simulator runs in this process on a real socket so its ground truth is
at hand. At the end of the session the figures go to bench/reliability.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_harness import (
    SOAK,
    Etl,
    Figures,
    SimServer,
    clean_env,
)

REPO = Path(__file__).resolve().parents[2]
FIGURES_FILE = REPO / "bench" / "reliability.md"
SEED = int(os.environ.get("UBIOPS_ETL_RELIABILITY_SEED", "20261128"))

_figures = Figures()
_outcomes: dict[str, str] = {}
_seconds: list[float] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Remember each reliability test's outcome for the figures file."""
    outcome = yield
    report = outcome.get_result()
    if "reliability" not in str(item.path):
        return
    _seconds.append(report.duration)
    if report.when == "call" or report.failed:
        previous = _outcomes.get(item.name)
        if previous != "failed":
            _outcomes[item.name] = report.outcome


@pytest.fixture(scope="session")
def seed() -> int:
    """The suite's seed (UBIOPS_ETL_RELIABILITY_SEED overrides it)."""
    return SEED


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    """The session's figures; written to bench/reliability.md when the session ends."""
    yield _figures
    # Only a run that included the chaos test has the figures a reader expects; a single
    # test run by hand leaves the committed file alone.
    if any(name.startswith("test_sigkilled") for name in _outcomes):
        FIGURES_FILE.write_text(render_figures(_figures, _outcomes, sum(_seconds)))


def render_figures(fig: Figures, outcomes: dict[str, str], seconds: float) -> str:
    passed = sum(1 for o in outcomes.values() if o == "passed")
    lines = [
        "# Reliability figures",
        "",
        "Written by the reliability suite (`tests/reliability`) at the end of each run:",
        "`.venv/bin/pytest tests/reliability` (part of `make test`); long soak:",
        "`UBIOPS_ETL_SOAK=1 .venv/bin/pytest tests/reliability`.",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'soak' if SOAK else 'default'} mode, "
        f"seed {SEED}, {seconds:.0f} s in these tests, {passed}/{len(outcomes)} tests passed",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| faults survived (injected by the simulator and the storage) | "
        f"{sum(fig.faults.values()):,} |",
        f"| kills survived (SIGKILL of a running sync) | {sum(fig.kills.values())} |",
        f"| bad inputs tried | {sum(fig.bad_inputs.values()):,} |",
        f"| sync runs | {fig.runs} |",
        f"| records checked against the ground truth | {fig.records_checked:,} |",
        f"| **records lost** | **{fig.records_lost}** |",
        f"| **records duplicated** | **{fig.records_duplicated}** |",
        f"| records wrong (text, date, status) or invented | {fig.records_wrong} |",
        f"| **secrets leaked** | **{fig.secrets_leaked}** |",
        f"| places searched for secrets | {fig.secret_places_checked:,} |",
        "",
    ]
    for title, counter in (
        ("Faults survived", fig.faults),
        ("Kills survived", fig.kills),
        ("Bad inputs tried", fig.bad_inputs),
    ):
        lines += [f"## {title}", "", "| kind | count |", "|---|---:|"]
        lines += [f"| {kind} | {count:,} |" for kind, count in sorted(counter.items())]
        lines.append("")
    lines += ["## Tests", "", "| test | outcome |", "|---|---|"]
    lines += [f"| `{name}` | {outcome} |" for name, outcome in sorted(outcomes.items())]
    return "\n".join(lines) + "\n"


# prefect_home and prefect_api: the session's Prefect server, from tests/conftest.py.

EtlFactory = Callable[..., Etl]


@pytest.fixture
def make_etl(prefect_api: str, prefect_home: Path, tmp_path: Path) -> EtlFactory:
    """Build the CLI runner for a simulator and a warehouse (fast test settings)."""

    def build(server: SimServer, warehouse: Path | None = None, **extra: str) -> Etl:
        lake = warehouse or tmp_path / "lake"
        env = clean_env(
            {
                "PREFECT_API_URL": prefect_api,
                "PREFECT_HOME": str(prefect_home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "UBIOPS_API_HOST": server.base_url,
                "UBIOPS_API_TOKEN": f"Token {server.token}",
                "UBIOPS_ETL_WAREHOUSE": str(lake),
                "UBIOPS_ETL_MAX_ATTEMPTS": "4",
                "UBIOPS_ETL_MAX_RETRY_SECONDS": "8",
                "UBIOPS_ETL_RATE_PER_MINUTE": "100000",
                "UBIOPS_ETL_INITIAL_HISTORY": "3d",
                "UBIOPS_ETL_PAGE_SIZE": "200",
                "UBIOPS_ETL_CONCURRENCY": "4",
                **extra,
            }
        )
        return Etl(env, lake)

    return build
