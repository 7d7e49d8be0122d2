"""A run keeps glibc's heaps from holding large freed blocks (flows.core.runner)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

from flows.core.runner import bound_glibc_heaps

# Run in a fresh process, as at the start of a run: malloc's settings are process-wide, and in
# a process that has already freed large blocks (this test session) glibc serves a new one
# from those free chunks whatever the threshold, so nothing would be measured.
PROBE = """
import ctypes, sys
from flows.core.runner import bound_glibc_heaps

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "bound":
    assert bound_glibc_heaps(environ={})
size = 1_600_000
# Freeing a larger mmapped block raises glibc's own threshold above `size`.
libc.free(libc.malloc(4 * size))
before = libc.mallinfo2().hblkd
block = libc.malloc(size)
print(libc.mallinfo2().hblkd - before)
libc.free(block)
"""


def mapped_bytes(mode: str) -> int:
    """How many more bytes glibc holds in mmapped blocks while a 1.6 MB block is live, after
    a larger block was freed, in a fresh process (`bound`: after `bound_glibc_heaps`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.fixture(autouse=True)
def glibc() -> None:
    try:
        ctypes.CDLL("libc.so.6").mallinfo2  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("not glibc >= 2.33")


def test_a_large_block_is_mapped_even_after_a_larger_one_was_freed() -> None:
    """A page body's block (1.6 MB at 5,000 logs) is mmapped, so freeing it returns it,
    however large the blocks freed before it: glibc's own rule puts it on a heap."""
    assert mapped_bytes("glibc") == 0
    assert mapped_bytes("bound") >= 1_600_000


def test_the_environment_s_malloc_tuning_is_left_alone() -> None:
    assert not bound_glibc_heaps(
        environ={"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_ARENA_MAX": "4"}
    )
