"""Shared fixtures of the warehouse tests: literal frames shaped like transform's output."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from transform.schemas import EXTRACTED_AT, REJECTS_SCHEMA, SCHEMAS

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

_DEFAULTS: dict[str, dict[str, Any]] = {
    "logs": {"log": "hello", "level": "info", "system": False},
    "requests": {
        "object_type": "deployment",
        "deployment": "dep",
        "status": "pending",
        "finished": False,
    },
    "audit_events": {"action": "create", "user": "a@example.com"},
    "projects": {"id": "p-uuid"},
    "project_users": {"email": "u@example.com"},
}
_TIME_COLUMN = {"logs": "date", "requests": "time_created", "audit_events": "date"}


def make_frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame with exactly the table's declared schema; unspecified columns get defaults."""
    schema = SCHEMAS[table]
    full = []
    for row in rows:
        record: dict[str, Any] = dict.fromkeys(schema.names)
        record.update({"project": "alpha", EXTRACTED_AT: T0})
        record.update(_DEFAULTS.get(table, {}))
        if table in _TIME_COLUMN:
            record[_TIME_COLUMN[table]] = T0
        record.update(row)
        if schema.day_from is not None and "day" not in row:
            record["day"] = record[schema.day_from].astimezone(dt.UTC).date()
        full.append(record)
    return pl.DataFrame(full, schema=schema.polars_schema, orient="row")


def make_rejects(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A rejects frame with REJECTS_SCHEMA."""
    base = {"table": "logs", "project": "alpha", "reason": "no id", "raw": "{}", EXTRACTED_AT: T0}
    return pl.DataFrame([{**base, **r} for r in rows], schema=REJECTS_SCHEMA, orient="row")


@pytest.fixture
def frame() -> Callable[[str, list[dict[str, Any]]], pl.DataFrame]:
    """The literal frame builder."""
    return make_frame


@pytest.fixture
def rejects() -> Callable[[list[dict[str, Any]]], pl.DataFrame]:
    """The literal rejects-frame builder."""
    return make_rejects


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
        return pl.DataFrame(schema={"id": pl.String(), "file": pl.String()})
    return pl.concat(frames, how="diagonal_relaxed")


@pytest.fixture
def stored() -> Callable[[Any, str], pl.DataFrame]:
    """Reader of what a storage's data files hold for a table."""
    return stored_rows


@pytest.fixture
def t0() -> dt.datetime:
    """The default extraction and event time of the literal frames."""
    return T0
