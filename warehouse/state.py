"""Sync state beside the data: per (project, stream) cursors and the run ledger, plain JSON.

The warehouse does not know what a cursor means (that is extract's business); it stores an
opaque JSON object atomically. Callers commit a stream's state only after the write that
covers it returned, so a crash in between re-reads one window and deduplication absorbs it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from warehouse.layout import STATE_DIR, state_key
from warehouse.storage import Storage

Clock = Callable[[], dt.datetime]
LEDGER_DIR = f"{STATE_DIR}/ledger"


def utc_now() -> dt.datetime:
    """The real clock; tests inject their own."""
    return dt.datetime.now(dt.UTC)


class StateStore:
    """Cursor documents, one JSON file per (project, stream)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def load(self, project: str, stream: str) -> dict[str, Any] | None:
        """The last committed state of (project, stream), or None before the first commit."""
        key = state_key(project, stream)
        if not self._storage.exists(key):
            return None
        doc = json.loads(self._storage.read(key))
        if not isinstance(doc, dict):
            raise ValueError(f"state {key} is not a JSON object")
        return doc

    def commit(self, project: str, stream: str, state: dict[str, Any]) -> None:
        """Atomically replace the state of (project, stream) with `state` (JSON-serialisable)."""
        data = json.dumps(state, sort_keys=True, indent=1, ensure_ascii=False).encode()
        self._storage.write_atomic(state_key(project, stream), data)

    def streams(self) -> list[tuple[str, str]]:
        """Every (project, stream) that has committed state, sorted."""
        prefix = f"{STATE_DIR}/streams/"
        found = []
        for key in self._storage.list(f"{STATE_DIR}/streams"):
            project, _, name = key.removeprefix(prefix).partition("/")
            if name.endswith(".json"):
                found.append((project, name.removesuffix(".json")))
        return found


class RunLedger:
    """An append-only record of run summaries, one JSON Lines file per UTC month.

    Each append rewrites only the current month's file atomically, so a crash never leaves
    a torn line and the cost stays bounded however long the lake lives.
    """

    def __init__(self, storage: Storage, clock: Clock = utc_now) -> None:
        self._storage = storage
        self._clock = clock

    def append(self, summary: dict[str, Any]) -> None:
        """Add one run summary (JSON-serialisable); the ledger keeps insertion order."""
        key = f"{LEDGER_DIR}/{self._clock().strftime('%Y-%m')}.jsonl"
        line = json.dumps(summary, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        previous = self._storage.read(key) if self._storage.exists(key) else b""
        self._storage.write_atomic(key, previous + line.encode())

    def read(self) -> list[dict[str, Any]]:
        """Every summary, oldest month first, in the order appended."""
        entries: list[dict[str, Any]] = []
        for key in self._storage.list(LEDGER_DIR):
            if key.endswith(".jsonl"):
                text = self._storage.read(key).decode()
                entries.extend(json.loads(line) for line in text.splitlines() if line.strip())
        return entries
