"""Pure polars transforms: raw API pages in, typed frames and rejected records out. No I/O."""

from transform.normalization import Normalized, normalize
from transform.reference import table_reference_markdown
from transform.schemas import (
    EVENT_TABLES,
    REJECTS_SCHEMA,
    SCHEMAS,
    SNAPSHOT_TABLES,
    Column,
    TableSchema,
)

__all__ = [
    "EVENT_TABLES",
    "REJECTS_SCHEMA",
    "SCHEMAS",
    "SNAPSHOT_TABLES",
    "Column",
    "Normalized",
    "TableSchema",
    "normalize",
    "table_reference_markdown",
]
