"""Pure polars transforms: raw API pages in, typed frames and rejected records out. No I/O.

- `normalize(table, records, *, project, extracted_at, object_type=None) -> Normalized`:
  `rows` has exactly `SCHEMAS[table].polars_schema`; `rejects` has `REJECTS_SCHEMA`.
  Every record is in exactly one of them. Larger batches cost less per record (polars has a
  fixed cost per call): normalising a buffer of raw records beats normalising each page.
- `table_reference_markdown()`: the README's table reference, generated from `SCHEMAS`.
"""

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
