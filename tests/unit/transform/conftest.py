"""Shared helpers for the transform tests: a fixed extraction time and expected-frame builders."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest

from transform import SCHEMAS, Normalized, normalize
from transform.rejects import REJECTS_SCHEMA

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PROJECT = "project-1"


def utc(*parts: int) -> datetime:
    """A UTC datetime from its parts (year, month, day[, hour, minute, second, us])."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def expected_rows(table: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The frame `normalize` should return: given columns, `project`/`_extracted_at` filled in,
    every other declared column null."""
    schema = SCHEMAS[table]
    full = [
        {name: row.get(name) for name in schema.names}
        | {"project": row.get("project", PROJECT), "_extracted_at": row.get("_extracted_at", NOW)}
        for row in rows
    ]
    return pl.DataFrame(full, schema=schema.polars_schema, orient="row")


def expected_rejects(table: str, pairs: Sequence[tuple[Any, str]]) -> pl.DataFrame:
    """The rejects frame for (raw record, reason) pairs."""
    return pl.DataFrame(
        {
            "table": [table] * len(pairs),
            "project": [PROJECT] * len(pairs),
            "reason": [reason for _, reason in pairs],
            "raw": [json.dumps(raw, ensure_ascii=False) for raw, _ in pairs],
            "_extracted_at": [NOW] * len(pairs),
        },
        schema=REJECTS_SCHEMA,
    )


@pytest.fixture
def run() -> Callable[..., Normalized]:
    """`normalize` with the test project and extraction time filled in."""

    def _run(table: str, records: Sequence[Any], **kwargs: Any) -> Normalized:
        kwargs.setdefault("project", PROJECT)
        kwargs.setdefault("extracted_at", NOW)
        return normalize(table, records, **kwargs)

    return _run


def _log(n: int = 0, **fields: Any) -> dict[str, Any]:
    """A valid raw log record (as the API sends it), with `fields` overriding or added."""
    record: dict[str, Any] = {
        "id": f"5dcad12ba76a2c6e4331f{n:03x}",
        "date": f"2020-01-01T00:00:{n % 60:02d}.000000Z",
        "log": f"line {n}",
        "level": "info",
        "system": False,
    }
    return record | fields


def _log_row(n: int = 0, **fields: Any) -> dict[str, Any]:
    """The typed lake row `log(n)` becomes, with `fields` overriding."""
    row: dict[str, Any] = {
        "day": date(2020, 1, 1),
        "id": f"5dcad12ba76a2c6e4331f{n:03x}",
        "date": utc(2020, 1, 1, 0, 0, n % 60),
        "log": f"line {n}",
        "level": "info",
        "system": False,
    }
    return row | fields


@pytest.fixture
def log() -> Callable[..., dict[str, Any]]:
    """Factory of valid raw log records: `log(n, **overrides)`."""
    return _log


@pytest.fixture
def log_row() -> Callable[..., dict[str, Any]]:
    """Factory of the typed rows `log(n)` becomes: `log_row(n, **overrides)`."""
    return _log_row


@pytest.fixture
def rows() -> Callable[[str, Sequence[Mapping[str, Any]]], pl.DataFrame]:
    """Builder of expected `rows` frames: `rows(table, [partial row dicts])`."""
    return expected_rows


@pytest.fixture
def rejects() -> Callable[[str, Sequence[tuple[Any, str]]], pl.DataFrame]:
    """Builder of expected `rejects` frames: `rejects(table, [(raw, reason)])`."""
    return expected_rejects
