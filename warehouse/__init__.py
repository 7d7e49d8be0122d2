"""The lake: Delta tables on a local or object-store root, state, leases and DuckDB views.

Writing (flows)::

    lake = Lake.open("s3://bucket/lake")          # or a path; converts an old Parquet lake
    with lake.lease(project, "logs", run_id):      # one writer per (project, stream): LeaseBusy
        result = lake.write("logs", frame)        # one atomic commit (insert-if-absent here)
        lake.write_rejects(rejects)               # REJECTS_SCHEMA
        lake.state.commit(project, "logs", {...})  # only after the commit returned
        lake.sweep(project, "logs")               # delete files no commit uses any more
    lake.ledger.append(summary, run_id)

Reading: `run_sql(location, sql)` (one SELECT, confined to the lake), `connect(location)` for a
DuckDB connection with the views and marts, `rows_per_table`, `build_bi_database`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.errors import (
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
    from warehouse.lake import CompactReport, Lake
    from warehouse.leases import Lease
    from warehouse.location import LakeLocation
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
    from warehouse.tables import WriteResult

# Names load their module on first use (PEP 562): `ubiops-etl --help` and a settings check
# must not pay for importing delta-rs, DuckDB and polars.
_HOMES = {
    **dict.fromkeys(
        [
            "InvalidLocation",
            "InvalidName",
            "LeaseBusy",
            "LeaseLost",
            "NotALake",
            "QueryRefused",
            "SchemaMismatch",
            "UnsafePath",
            "WarehouseError",
        ],
        "errors",
    ),
    "CompactReport": "lake",
    "Lake": "lake",
    "Lease": "leases",
    "LakeLocation": "location",
    **dict.fromkeys(
        [
            "QueryResult",
            "build_bi_database",
            "connect",
            "format_csv",
            "format_json",
            "format_table",
            "rows_per_table",
            "run_sql",
        ],
        "query",
    ),
    "RunLedger": "state",
    "StateStore": "state",
    "WriteResult": "tables",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"warehouse.{home}"), name)
    globals()[name] = value
    return value


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
