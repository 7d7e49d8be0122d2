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

from lakeroot import LakeRoot
from reliability_harness import (
    SOAK,
    Etl,
    FigureBook,
    Figures,
    SimServer,
    clean_env,
)
from s3server import S3Server

REPO = Path(__file__).resolve().parents[2]
FIGURES_FILE = REPO / "bench" / "reliability.md"
UPDATE_DOCS = os.environ.get("UBIOPS_ETL_UPDATE_DOCS") == "1"
SEED = int(os.environ.get("UBIOPS_ETL_RELIABILITY_SEED", "20261128"))

_figures = FigureBook()
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
            known = hasattr(report, "wasxfail")
            _outcomes[item.name] = "xfailed (known product bug)" if known else report.outcome


@pytest.fixture(scope="session")
def seed() -> int:
    """The suite's seed (UBIOPS_ETL_RELIABILITY_SEED overrides it)."""
    return SEED


@pytest.fixture(scope="session")
def figures() -> Iterator[FigureBook]:
    """The session's figures per lake kind. They are always rendered; they replace
    bench/reliability.md only with UBIOPS_ETL_UPDATE_DOCS=1 and a run that included the chaos
    test (the figures a reader expects), so `make test` leaves the tree as it was."""
    yield _figures
    text = render_figures(_figures, _outcomes, sum(_seconds))
    if UPDATE_DOCS and any(name.startswith("test_sigkilled") for name in _outcomes):
        FIGURES_FILE.write_text(text)


def _row(title: str, local: int, s3: int, bold: bool = False) -> str:
    cells = [title, f"{local:,}", f"{s3:,}"]
    if bold:
        cells = [f"**{c}**" for c in cells]
    return "| " + " | ".join(cells) + " |"


def render_figures(book: FigureBook, outcomes: dict[str, str], seconds: float) -> str:
    passed = sum(1 for o in outcomes.values() if o == "passed")
    local, s3 = book["local"], book["s3"]

    def both(get: Callable[[Figures], int]) -> tuple[int, int]:
        return get(local), get(s3)

    lines = [
        "# Reliability figures",
        "",
        "Written by the reliability suite (`tests/reliability`, part of `make test`) when asked:",
        "`UBIOPS_ETL_UPDATE_DOCS=1 .venv/bin/pytest tests/reliability`; long soak: add",
        "`UBIOPS_ETL_SOAK=1`. Each figure is given for a",
        "lake on a local folder and for a lake on a real S3 server process (moto's standalone",
        "server on loopback; kills and storage faults there come from a proxy between the",
        "`ubiops-etl` process and the server). Records are checked twice per lake: through the",
        "DuckDB views and through plain `read_parquet('<root>/<table>/project=*/**/*.parquet')`",
        "(so each record counts twice in 'records checked'). Tests marked xfail reproduce known",
        "product bugs; they add nothing to these figures.",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'soak' if SOAK else 'default'} mode, "
        f"seed {SEED}, {seconds:.0f} s in these tests, {passed}/{len(outcomes)} tests passed",
        "",
        "| figure | local root | S3 root |",
        "|---|---:|---:|",
        _row(
            "faults survived (injected by the simulator and the storage)",
            *both(lambda f: sum(f.faults.values())),
        ),
        _row("kills survived (SIGKILL of a running sync)", *both(lambda f: sum(f.kills.values()))),
        _row("bad inputs tried", *both(lambda f: sum(f.bad_inputs.values()))),
        _row("sync runs", *both(lambda f: f.runs)),
        _row("records checked against the ground truth", *both(lambda f: f.records_checked)),
        _row("records lost", *both(lambda f: f.records_lost), bold=True),
        _row("records duplicated", *both(lambda f: f.records_duplicated), bold=True),
        _row("records wrong (text, date, status) or invented", *both(lambda f: f.records_wrong)),
        _row("secrets leaked", *both(lambda f: f.secrets_leaked), bold=True),
        _row("places searched for secrets", *both(lambda f: f.secret_places_checked)),
        "",
    ]
    for title, pick in (
        ("Faults survived", lambda f: f.faults),
        ("Kills survived", lambda f: f.kills),
        ("Bad inputs tried", lambda f: f.bad_inputs),
    ):
        kinds = sorted(set(pick(local)) | set(pick(s3)))
        lines += [f"## {title}", "", "| kind | local root | S3 root |", "|---|---:|---:|"]
        lines += [f"| {k} | {pick(local)[k]:,} | {pick(s3)[k]:,} |" for k in kinds]
        lines.append("")
    lines += ["## Tests", "", "| test | outcome |", "|---|---|"]
    lines += [f"| `{name}` | {outcome} |" for name, outcome in sorted(outcomes.items())]
    return "\n".join(lines) + "\n"


# prefect_home and prefect_api: the session's Prefect server, from tests/conftest.py.

EtlFactory = Callable[..., Etl]


@pytest.fixture
def make_etl(prefect_api: str, prefect_home: Path, tmp_path: Path) -> EtlFactory:
    """Build the CLI runner for a simulator and a warehouse (fast test settings)."""

    def build(
        server: SimServer, root: LakeRoot | Path | None = None, prefect: bool = True, **extra: str
    ) -> Etl:
        """`prefect=False`: the CLI runs the sync directly (no Prefect API configured), as it
        does by default; the commit logic is the same, a run starts seconds faster."""
        if not isinstance(root, LakeRoot):
            root = LakeRoot.local(root or tmp_path / "lake")
        env = clean_env(
            {
                "PREFECT_API_URL": prefect_api,
                "PREFECT_HOME": str(prefect_home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "UBIOPS_API_HOST": server.base_url,
                "UBIOPS_API_TOKEN": f"Token {server.token}",
                "UBIOPS_ETL_MAX_ATTEMPTS": "4",
                "UBIOPS_ETL_MAX_RETRY_SECONDS": "8",
                "UBIOPS_ETL_RATE_PER_MINUTE": "100000",
                "UBIOPS_ETL_INITIAL_HISTORY": "3d",
                "UBIOPS_ETL_PAGE_SIZE": "200",
                "UBIOPS_ETL_CONCURRENCY": "4",
                **extra,
            }
        )
        env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
        if not prefect:
            env.pop("PREFECT_API_URL")
        return Etl(env, root)

    return build


@pytest.fixture(params=["local", "s3"])
def lake_root(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LakeRoot:
    """A fresh lake root of each kind: a local folder, and `s3://<new bucket>/lake` on the
    session's S3 server (this process's AWS variables then point at it, for the views)."""
    if request.param == "local":
        path = tmp_path / "lake"
        path.mkdir()
        return LakeRoot.local(path)
    server: S3Server = request.getfixturevalue("s3_server")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return LakeRoot.on_s3(server)
