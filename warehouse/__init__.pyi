"""Type stub: the names `__init__.py` loads on first use (lazy_loader.attach_stub)."""

from .errors import (
    InvalidLocation,
    InvalidName,
    LeaseBusy,
    LeaseLost,
    NotALake,
    QueryRefused,
    SchemaMismatch,
    UnsafePath,
    WarehouseError,
)
from .lake import (
    CompactReport,
    Lake,
)
from .leases import Lease
from .location import LakeLocation
from .query import (
    QueryResult,
    build_bi_database,
    connect,
    format_csv,
    format_json,
    format_table,
    rows_per_table,
    run_sql,
)
from .state import (
    RunLedger,
    StateStore,
)
from .tables import WriteResult

__all__ = [
    "CompactReport",
    "InvalidLocation",
    "InvalidName",
    "Lake",
    "LakeLocation",
    "Lease",
    "LeaseBusy",
    "LeaseLost",
    "NotALake",
    "QueryRefused",
    "QueryResult",
    "RunLedger",
    "SchemaMismatch",
    "StateStore",
    "UnsafePath",
    "WarehouseError",
    "WriteResult",
    "build_bi_database",
    "connect",
    "format_csv",
    "format_json",
    "format_table",
    "rows_per_table",
    "run_sql",
]
