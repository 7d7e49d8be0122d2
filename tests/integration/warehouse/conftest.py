"""Shared fixtures of the warehouse tests: literal frames shaped like transform's output."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from lake_examples import EXAMPLE_TIME, example_frame, example_rejects

from warehouse import LakeLocation
from warehouse.objects import ObjectStore
from warehouse.query import _register_store


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


def data_files(location: LakeLocation, table: str) -> list[str]:
    """The table's Parquet files that the README's plain glob
    `<root>/<table>/project=*/**/*.parquet` matches, as readable paths or URLs."""
    store = ObjectStore(location)
    return [
        location.join(info.key)
        for info in store.list(f"{table}/")
        if info.key.startswith(f"{table}/project=") and info.key.endswith(".parquet")
    ]


def read_direct(location: LakeLocation, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    """Rows of the table's raw Parquet files read by DuckDB with hive partitioning (no views,
    no Delta log): what a plain Parquet reader of the lake sees."""
    files = data_files(location, table)
    if not files:
        return []
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        _register_store(con, location)
        sql = (
            f"SELECT {columns} FROM read_parquet([{listed}], hive_partitioning = true) ORDER BY ALL"
        )
        return con.execute(sql).fetchall()


@pytest.fixture
def direct() -> Callable[..., list[tuple[Any, ...]]]:
    """Reader of a table's raw files through DuckDB, bypassing the views."""
    return read_direct


@pytest.fixture
def t0() -> dt.datetime:
    """The default extraction and event time of the literal frames."""
    return EXAMPLE_TIME
