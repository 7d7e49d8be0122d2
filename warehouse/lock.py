"""One writer at a time: an advisory lock on a file in `_state/`.

`fcntl.flock` belongs to the open file description, so the operating system releases it when
the holder exits in any way, SIGKILL included: a crashed sync never leaves a stale lock. The
holder writes who it is into the file, so a refused caller can say who is running.
This is a local-filesystem lock; an object-storage root will need a different one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warehouse.errors import LakeBusy
from warehouse.layout import validate_stream
from warehouse.state import Clock, utc_now


def _holder(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


@contextlib.contextmanager
def hold_lock(
    state_dir: Path, name: str = "sync", wait: bool = False, clock: Clock = utc_now
) -> Iterator[dict[str, Any]]:
    """Hold the lock `name` for the block; LakeBusy (with holder info) if taken and not `wait`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"{validate_stream(name)}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LakeBusy(name, _holder(path)) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": clock().isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
