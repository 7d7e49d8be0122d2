"""Watch a local lake folder tree with Linux inotify (through ctypes), so a test can SIGKILL a
child process the moment it creates, renames into place or deletes a file: an event-driven
kill at a storage step of a process whose storage calls happen inside Rust (delta-rs), where
no Python hook can reach. Folders created while watching are watched too (and scanned, so a
file made in a new folder before its watch existed is still reported).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_MOVED_TO = 0x00000080
IN_CLOSE_WRITE = 0x00000008
IN_ISDIR = 0x40000000
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
MASK = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_CLOSE_WRITE
_HEADER = struct.Struct("iIII")


@dataclass(frozen=True)
class Event:
    """One change: `kind` is create, write (closed after writing), moved (renamed into
    place) or delete; `key` is the path relative to the watched root, with `/`."""

    kind: str
    key: str
    is_dir: bool


def _kind(mask: int) -> str:
    if mask & IN_DELETE:
        return "delete"
    if mask & IN_MOVED_TO:
        return "moved"
    if mask & IN_CLOSE_WRITE:
        return "write"
    return "create"


class TreeWatch:
    """inotify on `root` and every folder below it (the root must exist)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._dirs: dict[int, Path] = {}
        self._pending: list[Event] = []
        self._watch_tree(root, report=False)

    def _watch(self, folder: Path) -> bool:
        wd = self._add(self.fd, os.fsencode(folder), MASK)
        if wd < 0:
            return False  # gone again already
        self._dirs[wd] = folder
        return True

    def _watch_tree(self, top: Path, report: bool = True) -> None:
        """Watch `top` and its folders; report what is already inside (if `report`)."""
        if not self._watch(top):
            return
        try:
            entries = list(os.scandir(top))
        except FileNotFoundError:
            return
        for entry in entries:
            path = Path(entry.path)
            is_dir = entry.is_dir(follow_symlinks=False)
            if report:
                self._pending.append(
                    Event("create" if is_dir else "moved", self._key(path), is_dir)
                )
            if is_dir:
                self._watch_tree(path, report)

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def events(self, timeout_s: float) -> Iterator[Event]:
        """The events that happened so far, waiting up to `timeout_s` for the first."""
        while self._pending:
            yield self._pending.pop(0)
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        offset = 0
        while offset < len(data):
            wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
            raw = data[offset + _HEADER.size : offset + _HEADER.size + length]
            offset += _HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                raise RuntimeError("inotify queue overflowed; events were lost")
            folder = self._dirs.get(wd)
            if folder is None:
                continue
            path = folder / os.fsdecode(raw.rstrip(b"\0"))
            is_dir = bool(mask & IN_ISDIR)
            yield Event(_kind(mask), self._key(path), is_dir)
            if is_dir and mask & (IN_CREATE | IN_MOVED_TO):
                self._watch_tree(path)
                while self._pending:
                    yield self._pending.pop(0)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> TreeWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
