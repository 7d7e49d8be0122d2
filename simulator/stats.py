"""Counters the benchmarks and tests read from `app.state.stats`."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SimStats:
    """Calls per operation and per rate-limit group, statuses, and faults injected."""

    calls: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def served_429(self) -> int:
        return self.statuses[429]

    def count_call(self, operation: str, group: str) -> None:
        with self._lock:
            self.calls[operation] += 1
            self.groups[group] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def count_fault(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.faults[kind] += n

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "groups": dict(self.groups),
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "faults": dict(self.faults),
            }
