"""The run core imports no entry point: neither Prefect nor the command line's libraries
(typer, click, rich), nor a module of `flows` outside `flows.core`."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import flows.core

FORBIDDEN = ("prefect", "typer", "click", "rich")
CORE = Path(flows.core.__file__).parent
LOWER_LAYERS = ("extract", "transform", "warehouse")

# Imports every module of the packages in argv[1] (the layers below), notes what is loaded,
# then every module of the packages in argv[2:]; prints both sets of module names.
PROBE = """
import importlib, json, pkgutil, sys
def load(package):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=package + "."):
        importlib.import_module(info.name)
for package in sys.argv[1].split(","):
    load(package)
before = sorted(sys.modules)
for package in sys.argv[2:]:
    load(package)
print(json.dumps({"before": before, "after": sorted(sys.modules)}))
"""


def added_by_importing(*packages: str) -> tuple[set[str], set[str]]:
    """(modules the layers below the core load, modules `packages` add to them), measured
    in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(LOWER_LAYERS), *packages],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    before = set(report["before"])
    return before, set(report["after"]) - before


def violations(modules: set[str]) -> set[str]:
    """Modules the core must not pull in: the entry points' libraries and the entry points."""
    libraries = {m for m in modules if m.split(".")[0] in FORBIDDEN}
    entry_points = {m for m in modules if m.startswith("flows.") and not m.startswith("flows.core")}
    return libraries | entry_points


def imported_names(source: str) -> set[str]:
    """Every module an import statement of `source` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_importing_the_run_core_loads_no_entry_point_and_no_cli_or_prefect_library():
    """Every module of flows.core, imported in a fresh interpreter after the layers below it,
    loads no prefect, typer, click or rich module and no module of flows outside the core
    (httpx, below the core, loads click and rich for its own command line: not the core)."""
    below, added = added_by_importing("flows.core")
    assert {"flows.core.runner", "flows.core.streams.logs"} <= added
    assert not {m for m in below if m.split(".")[0] in ("prefect", "typer")}
    assert violations(added) == set()


def test_no_module_of_the_core_names_an_entry_point_or_its_libraries():
    """No import statement in flows/core names prefect, typer, click, rich or a module of
    flows outside the core, not even inside a function (a lazy import is still a dependency)."""
    found = {
        str(path.relative_to(CORE)): violations(imported_names(path.read_text()))
        for path in CORE.rglob("*.py")
    }
    assert len(found) > 8
    assert {path: names for path, names in found.items() if names} == {}


@pytest.mark.parametrize("entry_point", ["flows.prefect_flows", "flows.cli"])
def test_the_import_check_sees_an_entry_point(entry_point):
    """The check can fail: importing a module that uses Prefect or the CLI's libraries shows
    that module and at least one of the libraries."""
    _, added = added_by_importing("flows.core", entry_point)
    assert entry_point in violations(added)
    assert {m.split(".")[0] for m in violations(added)} & set(FORBIDDEN)


def test_the_source_check_sees_a_lazy_import():
    """The check can fail: an import inside a function is found."""
    source = "def f():\n    from prefect import flow\n    import flows.cli\n"
    assert violations(imported_names(source)) == {"prefect", "prefect.flow", "flows.cli"}
