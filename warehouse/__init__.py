"""The Parquet lake: layout, atomic writes, merge, compaction, state and DuckDB views."""
