"""Pure polars transforms: raw API pages in, typed frames and rejected records out. No I/O."""

from transform.schemas import EVENT_TABLES, SCHEMAS, SNAPSHOT_TABLES, Column, TableSchema

__all__ = ["EVENT_TABLES", "SCHEMAS", "SNAPSHOT_TABLES", "Column", "TableSchema"]
