"""The declared table schemas are internally consistent."""

import pytest

from transform.schemas import EVENT_TABLES, SCHEMAS, SNAPSHOT_TABLES


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
