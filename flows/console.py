"""Terminal output: results on stdout, progress and messages on stderr (rich on a terminal,
plain lines otherwise, so logs and pipes stay readable)."""

from __future__ import annotations

import logging
import sys

from rich.console import Console

# Pipes and log files get a wide fixed width instead of rich's 80 columns, so tables are
# not truncated where nobody can resize the window.
_PIPE_WIDTH = 160
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
for _console in (out, err):
    if not _console.is_terminal:
        _console.width = _PIPE_WIDTH

log = logging.getLogger("ubiops_etl")


def configure(level: int = logging.INFO) -> None:
    """Plain `time level message` lines on stderr for the product's own logger."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def interactive() -> bool:
    """True when progress bars make sense (stderr is a terminal)."""
    return err.is_terminal
