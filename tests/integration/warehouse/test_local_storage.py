"""LocalStorage writes atomically and never touches files outside its root."""

import errno
import os

import pytest

from warehouse import Lake, LocalStorage, UnsafePath
from lake_examples import FailWith


def test_write_read_list_delete_round_trip(tmp_path):
    """A written key reads back, is listed under its folder and is gone after delete."""
    storage = LocalStorage(tmp_path)
    storage.write_atomic("a/b/c.bin", b"\x00data")
    assert storage.read("a/b/c.bin") == b"\x00data"
    assert storage.list("a") == ["a/b/c.bin"]
    assert storage.size("a/b/c.bin") == 5
    storage.delete("a/b/c.bin")
    storage.delete("a/b/c.bin")
    assert storage.list("a") == []


def test_overwrite_is_all_or_nothing_on_disk_full(tmp_path):
    """A failed overwrite leaves the old content and no temp file behind."""
    storage = LocalStorage(tmp_path, hook=FailWith(prefix="k"))
    (tmp_path / "k").write_bytes(b"old")
    with pytest.raises(OSError) as info:
        storage.write_atomic("k", b"new")
    assert info.value.errno == errno.ENOSPC
    assert (tmp_path / "k").read_bytes() == b"old"
    assert list((tmp_path / "_tmp").iterdir()) == []


def test_symlink_out_of_the_root_is_refused(tmp_path):
    """A key that resolves through a symlink to outside the root is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "escape")
    with pytest.raises(UnsafePath):
        LocalStorage(root).write_atomic("escape/x", b"x")
    assert list(outside.iterdir()) == []


def test_rename_moves_atomically(tmp_path):
    """rename replaces the destination with the source."""
    storage = LocalStorage(tmp_path)
    storage.write_atomic("a", b"1")
    storage.write_atomic("b", b"2")
    storage.rename("a", "b")
    assert storage.read("b") == b"1"
    assert not storage.exists("a")


def test_permission_error_surfaces_and_lake_stays_clean(root, frame, direct):
    """A permission error during a write is raised; the lake holds no partial change."""
    hook = FailWith(prefix="logs/", code=errno.EACCES)
    lake = Lake.open(root, LocalStorage(root, hook=hook))
    with pytest.raises(PermissionError):
        lake.write("logs", frame("logs", [{"id": "a" * 24}]))
    assert direct(root, "logs") == []
    assert Lake.open(root).repair().clean
