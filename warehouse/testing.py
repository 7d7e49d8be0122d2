"""Fault injection for tests of the warehouse and of the flows that use it.

`LocalStorage(root, hook=...)` calls its hook at every durable step ("write:temp" after the
temp file is fsynced, "write:renamed" after it is in place, "delete:before", "delete:after",
"rename"). These hooks turn a chosen step into a crash or an I/O error:

    hook = CrashAt(5)
    lake = Lake.open(root, LocalStorage(root, hook=hook))
    with pytest.raises(SimulatedCrash): run_the_sync(lake)
    Lake.open(root)   # repairs; the lake is exact again

`SimulatedCrash` derives from BaseException, so like a real crash it skips the in-process
rollback the writer does for ordinary errors: only `repair` can clean up after it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from transform.schemas import EXTRACTED_AT, REJECTS_SCHEMA, SCHEMAS
from warehouse.storage import StorageHook, check_key


class SimulatedCrash(BaseException):
    """Raised by a hook to stop the process at a storage step, as a kill would."""


@dataclass
class StepRecorder:
    """A hook that records every (step, key) it sees; the base of the others."""

    steps: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, step: str, key: str) -> None:
        self.steps.append((step, key))
        self.on_step(len(self.steps), step, key)

    def on_step(self, number: int, step: str, key: str) -> None:
        """Called with the 1-based number of the step; subclasses raise from here."""


@dataclass
class CrashAt(StepRecorder):
    """Crash at the `at`-th step (1-based)."""

    at: int = 0

    def on_step(self, number: int, step: str, key: str) -> None:
        if number == self.at:
            raise SimulatedCrash(f"simulated crash at step {number}: {step} {key}")


@dataclass
class FailWith(StepRecorder):
    """Raise an OSError (default: disk full) at the first step named `step` under `prefix`."""

    step: str = "write:temp"
    prefix: str = ""
    code: int = errno.ENOSPC
    failed: bool = False

    def on_step(self, number: int, step: str, key: str) -> None:
        if not self.failed and step == self.step and key.startswith(self.prefix):
            self.failed = True
            raise OSError(self.code, os.strerror(self.code), key)


class MemoryStorage:
    """A `Storage` in a dict: the fake for unit tests, and a model of a non-local store."""

    def __init__(self, hook: StorageHook | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self._hook = hook

    def _step(self, step: str, key: str) -> None:
        if self._hook is not None:
            self._hook(step, key)

    def write_atomic(self, key: str, data: bytes) -> None:
        check_key(key)
        self._step("write:temp", key)
        self.files[key] = bytes(data)
        self._step("write:renamed", key)

    def read(self, key: str) -> bytes:
        try:
            return self.files[check_key(key)]
        except KeyError:
            raise FileNotFoundError(key) from None

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        yield io.BytesIO(self.read(key))

    def exists(self, key: str) -> bool:
        return check_key(key) in self.files

    def size(self, key: str) -> int:
        return len(self.read(key))

    def list(self, prefix: str) -> list[str]:
        folder = check_key(prefix).rstrip("/") + "/"
        return sorted(k for k in self.files if k.startswith(folder))

    def delete(self, key: str) -> None:
        self._step("delete:before", key)
        self.files.pop(check_key(key), None)
        self._step("delete:after", key)

    def rename(self, src: str, dst: str) -> None:
        self.files[check_key(dst)] = self.files.pop(check_key(src))
        self._step("rename", dst)

    def local_path(self, key: str) -> Path | None:
        return None


EXAMPLE_TIME = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

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


def example_frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame with exactly the table's declared schema, as transform returns it.

    Unspecified columns get plain defaults; `day` follows the table's `day_from` column.
    """
    schema = SCHEMAS[table]
    full = []
    for row in rows:
        record: dict[str, Any] = dict.fromkeys(schema.names)
        record.update({"project": "alpha", EXTRACTED_AT: EXAMPLE_TIME})
        record.update(_DEFAULTS.get(table, {}))
        if table in _TIME_COLUMN:
            record[_TIME_COLUMN[table]] = EXAMPLE_TIME
        record.update(row)
        if schema.day_from is not None and "day" not in row:
            record["day"] = record[schema.day_from].astimezone(dt.UTC).date()
        full.append(record)
    return pl.DataFrame(full, schema=schema.polars_schema, orient="row")


def example_rejects(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame of refused records with REJECTS_SCHEMA."""
    base = {
        "table": "logs",
        "project": "alpha",
        "reason": "no id",
        "raw": "{}",
        EXTRACTED_AT: EXAMPLE_TIME,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=REJECTS_SCHEMA, orient="row")
