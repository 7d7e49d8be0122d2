"""Shared fixtures of the warehouse tests: literal frames shaped like transform's output."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from lake_examples import EXAMPLE_TIME, example_frame, example_rejects


@pytest.fixture
def frame() -> Callable[[str, list[dict[str, Any]]], pl.DataFrame]:
    """The literal frame builder."""
    return example_frame


@pytest.fixture
def rejects() -> Callable[[list[dict[str, Any]]], pl.DataFrame]:
    """The literal rejects-frame builder."""
    return example_rejects


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty lake root."""
    return tmp_path / "lake"


def read_direct(root: Path, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    """Rows of the table's raw Parquet files read by DuckDB with hive partitioning (no views)."""
    folder = root / table
    if not any(folder.rglob("*.parquet")):
        return []
    glob = f"{folder}/**/*.parquet".replace("'", "''")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        sql = f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY ALL"
        return con.execute(sql).fetchall()


@pytest.fixture
def direct() -> Callable[..., list[tuple[Any, ...]]]:
    """Reader of a table's raw files through DuckDB, bypassing the views."""
    return read_direct


@pytest.fixture
def t0() -> dt.datetime:
    """The default extraction and event time of the literal frames."""
    return EXAMPLE_TIME
