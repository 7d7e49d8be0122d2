"""The Parquet lake: layout, atomic writes, merge, compaction, state and DuckDB views.

Flows use `Lake.open(root)` to write and `warehouse.query` (re-exported here) to read.
"""

from warehouse.compact import CompactReport
from warehouse.errors import (
    InvalidName,
    LakeBusy,
    QueryRefused,
    SchemaMismatch,
    UnsafePath,
    WarehouseError,
)
from warehouse.journal import RepairReport
from warehouse.lake import Lake
from warehouse.query import (
    QueryResult,
    build_bi_database,
    connect,
    format_csv,
    format_json,
    format_table,
    rows_per_table,
    run_sql,
)
from warehouse.state import RunLedger, StateStore
from warehouse.storage import LocalStorage, Storage
from warehouse.writer import WriteResult

__all__ = [
    "CompactReport",
    "InvalidName",
    "Lake",
    "LakeBusy",
    "LocalStorage",
    "QueryRefused",
    "QueryResult",
    "RepairReport",
    "RunLedger",
    "SchemaMismatch",
    "StateStore",
    "Storage",
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
