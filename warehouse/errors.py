"""The warehouse's exceptions, grouped by what the caller must do."""

from __future__ import annotations


class WarehouseError(Exception):
    """Base of every error the warehouse raises on purpose."""


class InvalidName(WarehouseError, ValueError):
    """A project, stream, table or lease name is not safe to use as a path segment."""


class InvalidLocation(WarehouseError, ValueError):
    """The warehouse root is not a path or a supported object-store URL."""


class UnsafePath(WarehouseError, ValueError):
    """A storage key would point outside the lake root."""


class SchemaMismatch(WarehouseError, ValueError):
    """A frame handed to the writer does not have the table's declared schema."""


class StorageError(WarehouseError):
    """The lake's store refused or failed an operation (permissions, a full disk, a file
    too large, a store that is down, a commit that kept conflicting)."""


class LeaseBusy(WarehouseError):
    """Another live run holds the lease `name`; `holder` says who (run, host, pid, until)."""

    def __init__(self, name: str, holder: dict[str, object]) -> None:
        self.name = name
        self.holder = holder
        shown = {k: holder[k] for k in ("run", "host", "pid", "expires_at") if k in holder}
        who = ", ".join(f"{k}={v}" for k, v in shown.items()) or "unknown holder"
        super().__init__(f"{name} is being written by another run ({who})")


class LeaseLost(WarehouseError):
    """A lease expired and another run took it over; stop writing under it."""


class NotALake(WarehouseError):
    """The root holds no lake (nothing synced yet), or one that must be converted first."""


class QueryRefused(WarehouseError):
    """A SQL statement was refused because it could change the lake or reach other files."""
