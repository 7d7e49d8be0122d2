"""Sync state beside the data: per (project, stream) cursors and the run ledger, plain JSON.

The warehouse does not know what a cursor means (that is extract's business); it stores an
opaque JSON object atomically. Callers commit a stream's state only after the table commit
that covers it returned, so a crash in between re-reads one batch, which the idempotent
commit (insert-if-absent, upsert) absorbs. The ledger keeps one object per run, so runs on
different machines never contend for one file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from warehouse.layout import STATE_DIR, state_key
from warehouse.objects import ObjectStore

Clock = Callable[[], dt.datetime]
LEDGER_DIR = f"{STATE_DIR}/ledger"
STREAMS_DIR = f"{STATE_DIR}/streams"


def utc_now() -> dt.datetime:
    """The real clock; tests inject their own."""
    return dt.datetime.now(dt.UTC)


class StateStore:
    """Cursor documents, one JSON object per (project, stream)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def load(self, project: str, stream: str) -> dict[str, Any] | None:
        """The last committed state of (project, stream), or None before the first commit."""
        key = state_key(project, stream)
        data = self._store.get(key)
        if data is None:
            return None
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError(f"state {key} is not a JSON object")
        return doc

    def commit(self, project: str, stream: str, state: dict[str, Any]) -> None:
        """Atomically replace the state of (project, stream) with `state` (JSON-serialisable)."""
        data = json.dumps(state, sort_keys=True, indent=1, ensure_ascii=False).encode()
        self._store.put(state_key(project, stream), data)

    def streams(self) -> list[tuple[str, str]]:
        """Every (project, stream) that has committed state, sorted."""
        found = []
        for info in self._store.list(STREAMS_DIR):
            project, _, name = info.key.removeprefix(STREAMS_DIR + "/").partition("/")
            if name.endswith(".json"):
                found.append((project, name.removesuffix(".json")))
        return found


class RunLedger:
    """An append-only record of run summaries: one object per run, grouped by UTC month."""

    def __init__(self, store: ObjectStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    def append(self, summary: dict[str, Any], run_id: str) -> None:
        """Add one run summary (JSON-serialisable); `read` returns them in time order."""
        now = self._clock()
        key = f"{LEDGER_DIR}/{now:%Y-%m}/{now:%Y%m%dT%H%M%S%fZ}-{run_id}.json"
        self._store.put(key, json.dumps(summary, sort_keys=True, default=str).encode())

    def read(self, last: int | None = None) -> list[dict[str, Any]]:
        """Every summary (or the `last` ones), oldest first; one listing, then one read per
        summary returned."""
        keys = [info.key for info in self._store.list(LEDGER_DIR) if info.key.endswith(".json")]
        entries = []
        for key in keys[-last:] if last else keys:
            data = self._store.get(key)
            if data is not None:
                entries.append(json.loads(data))
        return entries
