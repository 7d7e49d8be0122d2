"""The rejects frame: records that could not be typed, as received, with the reason."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from transform.derive import redact_secret_value
from transform.schemas import EXTRACTED_AT, rejects_schema

Refused = list[tuple[Any, str]]
"""(record as received, reason) pairs."""

REJECTS_SCHEMA = rejects_schema()
_NO_REJECTS = pl.DataFrame(schema=REJECTS_SCHEMA)


def raw_json(record: Any) -> str:
    """The record as JSON text that `json.loads` turns back into an equal value.

    Non-ASCII text is written as is, so log lines stay readable; control characters and NUL
    must be escaped to be JSON at all, and decoding restores them exactly.
    """
    return json.dumps(record, ensure_ascii=False, default=str)


def rejects_frame(
    table: str, project: str, refused: Refused, extracted_at: datetime
) -> pl.DataFrame:
    """One REJECTS_SCHEMA row per refused record (secret variable values are nulled)."""
    if not refused:  # the usual case; building even an empty frame from columns is slow
        return _NO_REJECTS.clone()
    if table == "environment_variables":
        refused = [(redact_secret_value(record), reason) for record, reason in refused]
    return pl.DataFrame(
        {
            "table": [table] * len(refused),
            "project": [project] * len(refused),
            "reason": [reason for _, reason in refused],
            "raw": [raw_json(record) for record, _ in refused],
            EXTRACTED_AT: [extracted_at] * len(refused),
        },
        schema=REJECTS_SCHEMA,
    )
