"""Hostile project names in the `/projects` listing: path traversal, separators, empty,
300 characters, non-ASCII, NUL, and a name valid for the API but too long for a path segment.
Nothing may be written outside the warehouse root, each bad project is reported by name, and
the valid projects sync exactly.

Protections checked: project-name validation before a name becomes a URL or path segment
(extract/projects.py `validate_project_name`, warehouse/layout.py `validate_project`, and
LocalStorage's refusal of keys that resolve outside the root). Without the extract check,
`../escape` is requested and, were it served, written outside its partition; without the
warehouse check the 100-character alias lands as a folder the lake contract forbids.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from reliability_harness import (
    TRACEBACK,
    FigureBook,
    Rewrite,
    assert_exact,
    check_lake,
    running_sim,
)
from starlette.types import ASGIApp, Scope

from simulator import World, WorldSpec

SPEC = WorldSpec(projects=2, days=1, logs_per_day=400, requests_per_day=40, burst_size=40)
LONG_BUT_API_VALID = "p" + "q" * 99  # fine for the API's pattern; too long for the lake
HOSTILE = [
    "../escape",
    "a/b",
    "",
    "x" * 300,
    "prøject-ü",
    "..",
    "/etc",
    "a\\b",
    "nul\x00byte",
    "UPPER-case",
    LONG_BUT_API_VALID,
]


def hostile_listing(app: Any) -> ASGIApp:
    """The simulator, with the hostile names added to `/projects`; the long API-valid one
    is an alias of the first real project, so it has data to write."""
    world: World = app.state.world
    alias_of = world.project_names[0]

    def rewrite(scope: Scope, status: int, data: bytes) -> tuple[int, bytes] | None:
        if scope["path"].rstrip("/") != "/v2.1/projects" or status != 200:
            return None
        rows = json.loads(data)
        template = rows[0]
        extra = [{**template, "id": f"{i:08d}-hostile", "name": n} for i, n in enumerate(HOSTILE)]
        return status, json.dumps(rows + extra).encode()

    def alias(path: str) -> str:
        return path.replace(f"/projects/{LONG_BUT_API_VALID}", f"/projects/{alias_of}", 1)

    return Rewrite(app, body=rewrite, path=alias)


def shown(name: str) -> str:
    """How a name can be recognised in the report (long ones are cut, odd ones escaped)."""
    return repr(name)[1:-1][:40]


def test_hostile_project_names_are_reported_and_never_escape_the_root(
    make_etl, tmp_path: Path, figures: FigureBook, seed: int
):
    """Every hostile name is reported by name, no file appears outside the warehouse root or
    under a bad project folder, and the valid projects sync exactly."""
    root = tmp_path / "outer" / "inner" / "lake"
    with running_sim(replace(SPEC, seed=seed + 5), wrap=hostile_listing) as sim:
        sim.clock.freeze()
        etl = make_etl(sim, root, prefect=False)
        result = etl.run("sync")
        figures["local"].runs += 1
        figures["local"].bad_inputs["hostile project names"] += len(HOSTILE)
        assert result.code == 1, result.stderr[-2000:]
        assert TRACEBACK not in result.stderr
        report = result.stderr
        missing = [name for name in HOSTILE if shown(name) not in report]
        assert missing == [], report[-3000:]

        outside = [p for p in tmp_path.rglob("*") if root not in p.parents and p != root]
        assert all(p.is_dir() for p in outside), outside
        assert {p.name for p in outside} == {"outer", "inner"}
        valid = set(sim.world.project_names)
        folders = {
            m.group(1)
            for p in root.rglob("project=*")
            if (m := re.fullmatch(r"project=(.*)", p.name))
        }
        assert folders == valid
        state_projects = {p.name for p in (root / "_state" / "streams").iterdir()}
        assert state_projects == valid

        verdicts = check_lake(etl.root, sim.world, sim.faults)
        figures["local"].add_verdicts(verdicts)
        assert_exact(verdicts)
