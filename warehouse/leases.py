"""Leases in the lake root: one writer per (project, stream), across machines.

A lease is a JSON object `_state/leases/<name>/<generation>.json`. Taking it means creating
the next generation with a conditional put (create-if-absent), which exactly one of several
racing runs wins on every store (local, S3 with If-None-Match, GCS, Azure). The holder renews
the expiry while it works (a heartbeat) and marks it released when done. A lease whose holder
died is taken over once it expires; on the same host a holder whose process is gone is known
dead at once. No update-in-place is needed, so no store feature beyond create-if-absent is.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warehouse.errors import LeaseBusy, LeaseLost
from warehouse.layout import STATE_DIR
from warehouse.objects import ObjectStore

Clock = Callable[[], datetime]
LEASE_DIR = f"{STATE_DIR}/leases"
DEFAULT_TTL = timedelta(minutes=5)
_TAKE_ATTEMPTS = 5


def _generation_of(key: str) -> int | None:
    name = key.rsplit("/", 1)[-1]
    stem = name.removesuffix(".json")
    return int(stem) if name.endswith(".json") and stem.isdigit() else None


def _process_gone(doc: dict[str, Any]) -> bool:
    """Whether the holder ran on this host and its process no longer exists."""
    if doc.get("host") != socket.gethostname() or not isinstance(doc.get("pid"), int):
        return False
    if doc["pid"] == os.getpid():
        return False
    try:
        os.kill(doc["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class Lease:
    """A held lease; `renew` extends it, `release` gives it up (both idempotent)."""

    store: ObjectStore
    name: str
    generation: int
    doc: dict[str, Any]
    clock: Clock
    ttl: timedelta
    released: bool = field(default=False)

    @property
    def key(self) -> str:
        return f"{LEASE_DIR}/{self.name}/{self.generation:012d}.json"

    def _check_still_ours(self) -> None:
        newer = [
            g
            for info in self.store.list(f"{LEASE_DIR}/{self.name}")
            if (g := _generation_of(info.key)) is not None and g > self.generation
        ]
        if newer:
            raise LeaseLost(f"the lease on {self.name} expired and another run took it over")

    def renew(self) -> None:
        """Push the expiry `ttl` past now; LeaseLost if another run took the lease over."""
        if self.released:
            return
        self._check_still_ours()
        self.doc["expires_at"] = (self.clock() + self.ttl).isoformat()
        self.store.put(self.key, json.dumps(self.doc).encode())

    def release(self) -> None:
        """Mark the lease free now (a newer generation by someone else is left alone)."""
        if self.released:
            return
        self.released = True
        with contextlib.suppress(LeaseLost):
            self._check_still_ours()
            self.doc["released_at"] = self.clock().isoformat()
            self.store.put(self.key, json.dumps(self.doc).encode())


class Leases:
    """Take leases named like `acme/logs` under the lake root."""

    def __init__(self, store: ObjectStore, clock: Clock, ttl: timedelta = DEFAULT_TTL) -> None:
        self._store = store
        self._clock = clock
        self.ttl = ttl

    def holder(self, name: str) -> dict[str, Any] | None:
        """The live holder of `name`, or None if the lease is free (released or expired)."""
        latest = self._latest(name)
        if latest is None:
            return None
        _, doc = latest
        return None if self._free(doc) else doc

    def take(self, name: str, run_id: str) -> Lease:
        """Take `name` for `run_id`; LeaseBusy (saying who holds it) if a live run does."""
        for _ in range(_TAKE_ATTEMPTS):
            latest = self._latest(name)
            if latest is not None and not self._free(latest[1]):
                raise LeaseBusy(name, latest[1])
            generation = latest[0] + 1 if latest is not None else 1
            now = self._clock()
            doc = {
                "name": name,
                "run": run_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "taken_at": now.isoformat(),
                "expires_at": (now + self.ttl).isoformat(),
            }
            lease = Lease(self._store, name, generation, doc, self._clock, self.ttl)
            if self._store.create(lease.key, json.dumps(doc).encode()):
                self._forget_before(name, generation)
                return lease
            # Another run created this generation first: look again at who holds it.
        latest = self._latest(name)
        raise LeaseBusy(name, latest[1] if latest else {})

    def _latest(self, name: str) -> tuple[int, dict[str, Any]] | None:
        found = [
            (g, info.key)
            for info in self._store.list(f"{LEASE_DIR}/{name}")
            if (g := _generation_of(info.key)) is not None
        ]
        for generation, key in sorted(found, reverse=True):
            data = self._store.get(key)
            if data is not None:
                doc = json.loads(data)
                return generation, doc if isinstance(doc, dict) else {}
        return None

    def _free(self, doc: dict[str, Any]) -> bool:
        if doc.get("released_at"):
            return True
        try:
            expires = datetime.fromisoformat(str(doc["expires_at"]))
        except (KeyError, ValueError):
            return True  # unreadable: nobody can be relying on it
        return expires <= self._clock() or _process_gone(doc)

    def _forget_before(self, name: str, generation: int) -> None:
        for info in self._store.list(f"{LEASE_DIR}/{name}"):
            older = _generation_of(info.key)
            if older is not None and older < generation:
                self._store.delete(info.key)
