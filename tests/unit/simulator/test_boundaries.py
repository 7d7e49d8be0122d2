"""The simulator stays independent of the code it stands in for, and keeps tokens out of sight."""

from __future__ import annotations

import ast
from pathlib import Path

import simulator
from simulator import World, WorldSpec

FORBIDDEN = {"extract", "transform", "warehouse", "flows"}


def test_simulator_imports_none_of_the_etl_packages() -> None:
    """No module of simulator/ imports extract, transform, warehouse or flows."""
    root = Path(simulator.__file__).parent
    offenders = []
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [(path.name, n) for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_reprs_do_not_show_tokens(shared_world: World) -> None:
    """Neither the world nor a spec with an explicit token shows the token in its repr."""
    spec = WorldSpec(token="very-visible-token")
    assert "very-visible-token" not in repr(spec)
    assert shared_world.token not in repr(shared_world)
