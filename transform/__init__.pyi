"""Type stub: the names `__init__.py` loads on first use (lazy_loader.attach_stub)."""

from .columns import ColumnarRecords
from .normalization import (
    Normalized,
    normalize,
    normalize_columns,
)
from .reference import table_reference_markdown
from .rejects import REJECTS_SCHEMA
from .schemas import (
    EVENT_TABLES,
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
    "ColumnarRecords",
    "Normalized",
    "TableSchema",
    "normalize",
    "normalize_columns",
    "table_reference_markdown",
]
