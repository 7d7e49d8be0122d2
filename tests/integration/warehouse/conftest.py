"""Shared fixtures of the warehouse tests: literal frames shaped like transform's output."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from lake_examples import EXAMPLE_TIME, example_frame, example_rejects, read_direct

from warehouse import LakeLocation


@pytest.fixture
def frame() -> Callable[[str, list[dict[str, Any]]], pl.DataFrame]:
    """The literal frame builder."""
    return example_frame


@pytest.fixture
def rejects() -> Callable[[list[dict[str, Any]]], pl.DataFrame]:
    """The literal rejects-frame builder."""
    return example_rejects


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> LakeLocation:
    """An empty lake root: a local directory, and (second run) a bucket on a real S3 server."""
    if request.param == "local":
        return LakeLocation.parse(tmp_path / "lake")
    url = request.getfixturevalue("s3_root")
    return LakeLocation.parse(url, os.environ)


@pytest.fixture
def direct() -> Callable[..., list[tuple[Any, ...]]]:
    """Reader of a table's raw files through DuckDB, bypassing the views."""
    return read_direct


@pytest.fixture
def t0() -> dt.datetime:
    """The default extraction and event time of the literal frames."""
    return EXAMPLE_TIME
