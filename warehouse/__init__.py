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

import lazy_loader

# Names load their module on first use (SPEC 1 lazy loading; the names and their modules are
# in __init__.pyi, which type checkers read): the command line's start must not pay for
# modules its command does not use.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
