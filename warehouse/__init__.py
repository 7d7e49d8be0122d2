"""The Parquet lake: layout, atomic writes, merge, compaction, state and DuckDB views.

Writing (flows)::

    lake = Lake.open(root)                    # creates the layout, repairs a crashed run
    with lake.lock():                         # one writing process at a time (LakeBusy)
        result = lake.write("logs", frame)    # frame: exactly SCHEMAS["logs"].polars_schema
        lake.write_rejects(rejects)           # REJECTS_SCHEMA
        lake.state.commit(project, "logs", {...})   # only after the write returned
        lake.ledger.append(summary)
        lake.compact()

Reading: `run_sql(root, sql)` (one SELECT, confined to the lake), `connect(root)` for a
DuckDB connection with the views and marts, `rows_per_table(root)`, `build_bi_database(root)`.
Fault injection for tests lives in `warehouse.testing`.
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
