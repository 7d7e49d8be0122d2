"""The warehouse's exceptions, grouped by what the caller must do."""

from __future__ import annotations


class WarehouseError(Exception):
    """Base of every error the warehouse raises on purpose."""


class InvalidName(WarehouseError, ValueError):
    """A project, stream, table or lock name is not safe to use as a path segment."""


class UnsafePath(WarehouseError, ValueError):
    """A storage key would point outside the lake root."""


class SchemaMismatch(WarehouseError, ValueError):
    """A frame handed to the writer does not have the table's declared schema."""


class LakeBusy(WarehouseError):
    """Another process holds the lake lock; `holder` says who (pid, host, since)."""

    def __init__(self, name: str, holder: dict[str, object]) -> None:
        self.name = name
        self.holder = holder
        who = ", ".join(f"{k}={v}" for k, v in holder.items()) or "unknown holder"
        super().__init__(f"the lake lock {name!r} is held by another run ({who})")


class QueryRefused(WarehouseError):
    """A SQL statement was refused because it could change the lake or reach other files."""
