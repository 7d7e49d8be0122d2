"""The declared table schemas are internally consistent."""

import polars as pl
import pytest

from transform.schemas import (
    EVENT_TABLES,
    EXTRACTED_AT,
    REJECT_TYPES,
    SCHEMAS,
    SNAPSHOT_TABLES,
    rejects_schema,
)


@pytest.mark.parametrize("schema", list(SCHEMAS.values()), ids=list(SCHEMAS))
def test_key_and_partition_columns_are_declared(schema):
    """Every key, partition key and day source names a declared column, each name once."""
    names = schema.names
    assert len(names) == len(set(names))
    for col in (*schema.key, *schema.partition_keys):
        assert col in names
    if schema.day_from is not None:
        assert schema.column(schema.day_from).dtype.is_temporal()
    assert "project" not in schema.file_columns


def test_event_tables_are_day_partitioned_and_snapshots_replaced():
    """Event tables partition by day; snapshot tables are replaced per run."""
    assert all(s.day_from for s in EVENT_TABLES)
    assert all(s.merge == "replace" and s.day_from is None for s in SNAPSHOT_TABLES)


def _polars_spelling(dtype: pl.DataType) -> str:
    """A polars type as the README spells it, derived from polars itself."""
    if isinstance(dtype, pl.Enum):
        return "enum(" + ", ".join(dtype.categories.to_list()) + ")"
    if isinstance(dtype, pl.Datetime):
        return f"timestamp[{dtype.time_unit}, {dtype.time_zone}]"
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return f"list[{_polars_spelling(inner if isinstance(inner, pl.DataType) else inner())}]"
    return str(dtype).lower().removesuffix("()")


@pytest.mark.parametrize("schema", list(SCHEMAS.values()), ids=list(SCHEMAS))
def test_declared_types_name_the_polars_types_frames_carry(schema):
    """Types are declared as plain data (so `status` and `sql` need no polars); the polars
    type each maps to is the one its name says, and a frame built from the schema has it."""
    frame = pl.DataFrame(schema=schema.polars_schema)
    for column in schema.columns:
        assert column.type.name == _polars_spelling(frame.schema[column.name]), column.name
    assert rejects_schema() == pl.Schema({n: t.polars for n, t in REJECT_TYPES.items()})
    assert rejects_schema()[EXTRACTED_AT] == pl.Datetime("us", "UTC")
