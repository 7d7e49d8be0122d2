"""A journal of intent that makes a multi-file change all-or-nothing.

One change (a write touching several partitions, a compaction) is a `Transaction`:

1. the journal entry is written, status ``pending``, naming every file to add and remove;
2. the new files are written (each atomically);
3. the entry is rewritten with status ``committed``: from here the change has happened;
4. the replaced files are deleted, then the entry is deleted.

`repair` finishes whatever a crash interrupted: a pending entry is rolled back (its added
files deleted, the old files were never touched), a committed one rolled forward (its removed
files deleted). Both are idempotent, so a crash during repair is repaired by the next one.
Between steps 2 and 4 a partition briefly holds old and new files; the DuckDB views dedupe by
key so queries stay exact, and after any finished run the raw files are exact too.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Literal

from warehouse.layout import JOURNAL_DIR
from warehouse.storage import TMP_DIR, Storage

Status = Literal["pending", "committed"]


@dataclass
class Transaction:
    """Files one change adds and removes; `write` stages data, `commit` makes it happen."""

    storage: Storage
    kind: str
    txid: str = field(default_factory=lambda: uuid.uuid4().hex)
    adds: dict[str, bytes] = field(default_factory=dict)
    removes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{JOURNAL_DIR}/{self.txid}.json"

    def add(self, key: str, data: bytes) -> None:
        """Plan to add `data` as file `key` (held in memory until commit: one batch's worth)."""
        self.adds[key] = data

    def remove(self, key: str) -> None:
        """Plan to delete file `key` once the change is committed."""
        self.removes.append(key)

    @property
    def empty(self) -> bool:
        return not self.adds and not self.removes

    def _entry(self, status: Status) -> bytes:
        doc = {
            "txid": self.txid,
            "kind": self.kind,
            "status": status,
            "add": sorted(self.adds),
            "remove": sorted(self.removes),
        }
        return json.dumps(doc, indent=1).encode()

    def commit(self) -> None:
        """Run the four steps; on an ordinary error roll back so the lake is unchanged."""
        if self.empty:
            return
        self.storage.write_atomic(self.key, self._entry("pending"))
        try:
            for key, data in self.adds.items():
                self.storage.write_atomic(key, data)
            self.storage.write_atomic(self.key, self._entry("committed"))
        except Exception:
            # A disk-full or permission error: undo now; a real crash is undone by repair.
            _roll_back(self.storage, sorted(self.adds), self.key)
            raise
        # From here the change has happened; if a delete fails, repair rolls forward.
        _roll_forward(self.storage, sorted(self.removes), self.key)


def _roll_back(storage: Storage, added: list[str], entry_key: str) -> None:
    for key in added:
        storage.delete(key)
    storage.delete(entry_key)


def _roll_forward(storage: Storage, removed: list[str], entry_key: str) -> None:
    for key in removed:
        storage.delete(key)
    storage.delete(entry_key)


@dataclass(frozen=True)
class RepairReport:
    """What `repair` found and did."""

    rolled_back: tuple[str, ...] = ()
    rolled_forward: tuple[str, ...] = ()
    temp_files_removed: int = 0
    skipped_busy: bool = False
    """True when another process held the writer lock, so nothing was touched."""

    @property
    def clean(self) -> bool:
        return not (self.rolled_back or self.rolled_forward or self.temp_files_removed)


def repair(storage: Storage) -> RepairReport:
    """Finish or undo every interrupted transaction and sweep temp files (idempotent)."""
    back: list[str] = []
    forward: list[str] = []
    for entry_key in storage.list(JOURNAL_DIR):
        if not entry_key.endswith(".json"):
            continue
        doc = json.loads(storage.read(entry_key))
        if doc["status"] == "committed":
            _roll_forward(storage, list(doc["remove"]), entry_key)
            forward.append(str(doc["txid"]))
        else:
            _roll_back(storage, list(doc["add"]), entry_key)
            back.append(str(doc["txid"]))
    temps = storage.list(TMP_DIR)
    for key in temps:
        storage.delete(key)
    return RepairReport(tuple(back), tuple(forward), len(temps))
