"""Shared fixtures of the warehouse tests: literal frames shaped like transform's output."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from lake_examples import EXAMPLE_TIME, example_frame, example_rejects

from transform.schemas import SCHEMAS


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


def stored_rows(storage: Any, table: str) -> pl.DataFrame:
    """Every row in the table's data files, read directly (no views), with its file key."""
    frames = []
    for key in storage.list(table):
        if key.endswith(".parquet"):
            part = pl.read_parquet(io.BytesIO(storage.read(key)))
            frames.append(part.with_columns(pl.lit(key).alias("file")))
    if not frames:
        declared = SCHEMAS[table].polars_schema
        columns = {n: declared[n] for n in SCHEMAS[table].file_columns}
        return pl.DataFrame(schema={**columns, "file": pl.String()})
    return pl.concat(frames, how="diagonal_relaxed")


@pytest.fixture
def stored() -> Callable[[Any, str], pl.DataFrame]:
    """Reader of what a storage's data files hold for a table."""
    return stored_rows


@pytest.fixture
def t0() -> dt.datetime:
    """The default extraction and event time of the literal frames."""
    return EXAMPLE_TIME
