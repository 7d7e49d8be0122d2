"""`ubiops-etl` exactly as installed, plus one test-only knob read from the environment:

- RELIABILITY_FSIZE: the largest file (bytes) this process may write (RLIMIT_FSIZE, with
  SIGXFSZ ignored), so a write past it fails with EFBIG ("File too large") the way a full
  disk or a quota fails a write: a real storage error from the OS inside delta-rs, which no
  Python hook could inject. Set here, in the child itself, so the parent never runs code
  between fork and exec.

Kills at commit steps need no knob: the tests watch the lake (inotify, local roots) or sit
between the process and the S3 server (a proxy) and SIGKILL it from outside.

Used as `python chaos_entry.py sync ...`; without the variable it is the plain CLI.
"""

from __future__ import annotations

import os
import resource
import signal
import sys


def _install_file_size_limit() -> None:
    limit = os.environ.get("RELIABILITY_FSIZE")
    if not limit:
        return
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))


if __name__ == "__main__":
    _install_file_size_limit()
    from flows.cli import main

    sys.argv[0] = "ubiops-etl"
    main()
