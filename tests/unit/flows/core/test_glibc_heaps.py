"""A run keeps glibc's heaps from holding large freed blocks (flows.core.runner)."""

from __future__ import annotations

import ctypes

import pytest

from flows.core.runner import bound_glibc_heaps


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@pytest.fixture
def libc() -> ctypes.CDLL:
    try:
        found = ctypes.CDLL("libc.so.6")
        found.mallinfo2.restype = MallInfo2
    except (OSError, AttributeError):
        pytest.skip("not glibc >= 2.33")
    found.malloc.restype = ctypes.c_void_p
    found.malloc.argtypes = [ctypes.c_size_t]
    found.free.argtypes = [ctypes.c_void_p]
    return found


def mapped_bytes_of(libc: ctypes.CDLL, size: int) -> int:
    """How much more glibc holds in mmapped blocks while a block of `size` is live, after a
    larger block was freed (which, left to glibc, raises its mmap threshold above `size`)."""
    libc.free(libc.malloc(4 * size))
    before = libc.mallinfo2().hblkd
    block = libc.malloc(size)
    try:
        return int(libc.mallinfo2().hblkd - before)
    finally:
        libc.free(block)


def test_a_large_block_is_mapped_even_after_a_larger_one_was_freed(libc: ctypes.CDLL):
    """A page body's block (1.6 MB at 5,000 logs) is mmapped, so freeing it returns it,
    however large the blocks freed before it: glibc's own rule would have put it on a heap."""
    assert bound_glibc_heaps(environ={})
    assert mapped_bytes_of(libc, 1_600_000) >= 1_600_000


def test_the_environment_s_malloc_tuning_is_left_alone():
    assert not bound_glibc_heaps(
        environ={"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_ARENA_MAX": "4"}
    )
