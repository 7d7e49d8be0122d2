"""`ubiops-etl` exactly as installed, plus test-only knobs read from the environment:

- RELIABILITY_FSIZE: the largest file (bytes) this process may write (RLIMIT_FSIZE, with
  SIGXFSZ ignored), so a write past it fails with EFBIG ("File too large") the way a full
  disk or a quota fails a write: a real storage error from the OS inside delta-rs, which no
  Python hook could inject. Set here, in the child itself, so the parent never runs code
  between fork and exec.

- RELIABILITY_STOP_BEFORE_APPEND_COMMIT: the process stops itself (SIGSTOP) right before
  each Delta append commit, once the batch's data files are uploaded, for the test to
  SIGKILL it there or let it go on (SIGCONT). On a local root the commit follows the last
  upload within milliseconds, so a kill sent from outside on seeing the upload can arrive
  after the commit; stopped, the process is killed between the two for certain. (On S3 the
  proxy holds the commit's request instead.)

The other commit steps need no knob: the tests watch the lake (inotify, local roots) or sit
between the process and the S3 server (a proxy) and SIGKILL it from outside.

Used as `python chaos_entry.py sync ...`; without the variables it is the plain CLI.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from typing import Any


def _install_file_size_limit() -> None:
    limit = os.environ.get("RELIABILITY_FSIZE")
    if not limit:
        return
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))


def _install_commit_stop() -> None:
    if not os.environ.get("RELIABILITY_STOP_BEFORE_APPEND_COMMIT"):
        return
    from deltalake import DeltaTable

    commit = DeltaTable.create_write_transaction

    def stopped_first(self: DeltaTable, *args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGSTOP)
        commit(self, *args, **kwargs)

    DeltaTable.create_write_transaction = stopped_first  # type: ignore[method-assign]


if __name__ == "__main__":
    _install_file_size_limit()
    _install_commit_stop()
    from flows.cli import main

    sys.argv[0] = "ubiops-etl"
    main()
