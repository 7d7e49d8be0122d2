"""Plain objects beside the tables (state, leases, the run ledger) on any lake root.

One small adapter over obstore, so the same code works on a local directory and on S3, GCS or
Azure. Keys are relative POSIX paths under the root and are checked before use. A put is
atomic on every store (readers see the old or the new object, never a part); `create` is a
conditional put that succeeds for exactly one caller, which is what leases are built on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import obstore
from obstore.exceptions import AlreadyExistsError, BaseError, NotFoundError
from obstore.store import LocalStore, from_url

from warehouse.errors import StorageError, UnsafePath
from warehouse.location import LakeLocation


def check_key(key: str) -> str:
    """Refuse keys that could escape the root (absolute, `..`, empty parts, backslashes)."""
    if (
        not key
        or PurePosixPath(key).is_absolute()
        or "\\" in key
        or "\x00" in key
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise UnsafePath(f"refusing storage key {key!r}: not a plain relative path")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object: its key under the root, size and last change."""

    key: str
    size: int
    modified: datetime


class ObjectStore:
    """Get, put, create-if-absent, list and delete objects under a lake root."""

    def __init__(self, location: LakeLocation) -> None:
        self.location = location
        self._store: Any
        if location.local_path is not None:
            self._store = LocalStore(location.local_path, mkdir=True)
        else:
            self._store = from_url(location.uri, client_options={"allow_http": location.allow_http})

    def __repr__(self) -> str:
        return f"ObjectStore({self.location.uri!r})"

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        try:
            return bytes(obstore.get(self._store, check_key(key)).bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except (BaseError, OSError) as exc:
            raise StorageError(f"reading {self.location.join(key)} failed: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, atomically."""
        try:
            obstore.put(self._store, check_key(key), data)
        except (BaseError, OSError) as exc:
            raise StorageError(f"writing {self.location.join(key)} failed: {exc}") from exc

    def create(self, key: str, data: bytes) -> bool:
        """Store `data` only if `key` holds nothing; False when another caller was first."""
        try:
            obstore.put(self._store, check_key(key), data, mode="create")
        except (AlreadyExistsError, FileExistsError):
            return False
        except (BaseError, OSError) as exc:
            raise StorageError(f"creating {self.location.join(key)} failed: {exc}") from exc
        return True

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object under the folder `prefix` (recursively; "" for the whole root),
        sorted by key."""
        found: list[ObjectInfo] = []
        folder = check_key(prefix.rstrip("/")) + "/" if prefix else None
        try:
            for batch in obstore.list(self._store, prefix=folder):
                found.extend(
                    ObjectInfo(str(meta["path"]), int(meta["size"]), meta["last_modified"])
                    for meta in batch
                )
        except (BaseError, OSError) as exc:
            where = self.location.join(folder or "")
            raise StorageError(f"listing {where} failed: {exc}") from exc
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """Remove `key`; a missing key is not an error (clean-ups are idempotent)."""
        try:
            obstore.delete(self._store, check_key(key))
        except (NotFoundError, FileNotFoundError):
            return
        except (BaseError, OSError) as exc:
            raise StorageError(f"deleting {self.location.join(key)} failed: {exc}") from exc
