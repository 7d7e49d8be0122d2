"""The one door to the lake's files: a small storage adapter.

Everything the warehouse reads or writes goes through `Storage`, addressed by relative POSIX
keys such as ``logs/project=a/day=2026-01-01/x.parquet``. That keeps object storage possible
later and lets tests inject faults (full disk, permission errors, crashes) at each step.
`LocalStorage` writes atomically: temp file in ``_tmp/``, fsync, rename into place, fsync the
directory, so a reader never sees half a file and a crash leaves only temp files to sweep.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol, runtime_checkable

from warehouse.errors import UnsafePath

TMP_DIR = "_tmp"

StorageHook = Callable[[str, str], None]
"""Called as hook(step, key) at each durable step; tests raise from it to simulate a crash."""


@runtime_checkable
class Storage(Protocol):
    """What the warehouse needs from a file store; keys are relative POSIX paths."""

    def write_atomic(self, key: str, data: bytes) -> None:
        """Store `data` under `key` so readers see the old content or the new, never a part."""

    def read(self, key: str) -> bytes:
        """Return the whole content of `key` (FileNotFoundError if absent)."""

    def open_read(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open `key` for seekable reading (Parquet readers fetch only the columns they need)."""

    def exists(self, key: str) -> bool:
        """Whether `key` holds a file."""

    def size(self, key: str) -> int:
        """Size of `key` in bytes."""

    def list(self, prefix: str) -> list[str]:
        """All file keys under the folder `prefix`, recursively, sorted; [] if none."""

    def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error (repair is idempotent)."""

    def rename(self, src: str, dst: str) -> None:
        """Move `src` to `dst` atomically, replacing `dst`."""

    def local_path(self, key: str) -> Path | None:
        """The key as a local filesystem path, or None when the store is not local."""


def check_key(key: str) -> str:
    """Refuse keys that could escape the root (absolute, `..`, empty parts, backslashes)."""
    pure = PurePosixPath(key)
    if (
        not key
        or pure.is_absolute()
        or "\\" in key
        or "\x00" in key
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise UnsafePath(f"refusing storage key {key!r}: not a plain relative path")
    return key


class LocalStorage:
    """A `Storage` on a local directory, with durable atomic writes."""

    def __init__(
        self, root: Path | str, hook: StorageHook | None = None, durable: bool = True
    ) -> None:
        """`durable=False` skips the fsyncs: only for tests and scratch lakes, since a power
        cut could then lose a file whose rename the journal already relies on."""
        self.root = Path(root).resolve()
        self._hook = hook
        self._durable = durable

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if path != self.root and self.root not in path.parents:
            raise UnsafePath(f"refusing storage key {key!r}: resolves outside the lake root")
        return path

    def _step(self, step: str, key: str) -> None:
        if self._hook is not None:
            self._hook(step, key)

    def write_atomic(self, key: str, data: bytes) -> None:
        target = self._path(key)
        tmp = self._path(f"{TMP_DIR}/{uuid.uuid4().hex}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                if self._durable:
                    os.fsync(fh.fileno())
            self._step("write:temp", key)
            os.replace(tmp, target)
        except Exception:
            tmp.unlink(missing_ok=True)
            raise
        self._sync_dir(target.parent)
        self._step("write:renamed", key)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        with open(self._path(key), "rb") as fh:
            yield fh

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(keys)

    def delete(self, key: str) -> None:
        path = self._path(key)
        self._step("delete:before", key)
        path.unlink(missing_ok=True)
        self._sync_dir(path.parent)
        self._step("delete:after", key)

    def rename(self, src: str, dst: str) -> None:
        source, target = self._path(src), self._path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        self._sync_dir(target.parent)
        self._step("rename", dst)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def _sync_dir(self, directory: Path) -> None:
        if self._durable:
            _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is; ignore filesystems that refuse.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
