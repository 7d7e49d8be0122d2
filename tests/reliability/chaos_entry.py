"""`ubiops-etl` exactly as installed, plus two test-only knobs read from the environment:

- RELIABILITY_KILL_STEP / _PREFIX / _NTH: SIGKILL this very process at the NTH durable
  storage step named STEP (write:temp, write:renamed, delete:before, delete:after, rename)
  whose key starts with PREFIX: a crash at an exact point of a file write, a journal entry or
  a state commit, with nothing cleaned up (the same signal as `kill -9`).
- RELIABILITY_BATCH_ROWS: rows a stream buffers before it writes and commits (the product
  uses 50,000; small batches give a small test world many commits to be killed in).

Used as `python chaos_entry.py sync ...`; without the variables it is the plain CLI.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _install_kill_switch() -> None:
    step = os.environ.get("RELIABILITY_KILL_STEP")
    if not step:
        return
    prefix = os.environ.get("RELIABILITY_KILL_PREFIX", "")
    nth = int(os.environ.get("RELIABILITY_KILL_NTH", "1"))
    from warehouse.storage import LocalStorage

    original = LocalStorage._step
    seen = [0]

    def step_then_maybe_die(self: LocalStorage, name: str, key: str) -> None:
        original(self, name, key)
        if name == step and key.startswith(prefix):
            seen[0] += 1
            if seen[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    LocalStorage._step = step_then_maybe_die  # type: ignore[method-assign]


def _install_batch_rows() -> None:
    rows = os.environ.get("RELIABILITY_BATCH_ROWS")
    if not rows:
        return
    from flows.streams import RunContext

    original = RunContext.__init__

    def init(self: RunContext, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.batch_rows = int(rows)

    RunContext.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    _install_kill_switch()
    _install_batch_rows()
    from flows.cli import main

    sys.argv[0] = "ubiops-etl"
    main()
