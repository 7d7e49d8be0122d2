"""The key span that bounds which stored files an insert-if-absent reads."""

import polars as pl

from transform.schemas import AUDIT_EVENTS, LOGS
from warehouse.merge import key_span, stored_keys_predicate


def test_the_span_bounds_each_key_column_by_the_batch_s_least_and_greatest_value(frame):
    batch = frame("logs", [{"id": "c"}, {"id": "e"}, {"id": "d"}])
    assert key_span(LOGS, batch) == ["\"id\" >= 'c'", "\"id\" <= 'e'"]


def test_partition_columns_and_columns_with_nulls_are_not_bounded(frame):
    """A key column the batch holds a null in cannot bound the stored rows (a null key
    equals a null one); partition columns are pruned by partition already."""
    batch = frame("audit_events", [{"id": "c"}, {"id": "d"}])
    assert key_span(AUDIT_EVENTS, batch) == ["\"id\" >= 'c'", "\"id\" <= 'd'"]
    with_null = batch.with_columns(
        pl.when(pl.col("id") == "d").then(None).otherwise("id").alias("id")
    )
    assert key_span(AUDIT_EVENTS, with_null) == []


def test_the_predicate_joins_the_touched_partitions_and_the_span(frame):
    batch = frame("logs", [{"id": "it's"}])
    predicate = stored_keys_predicate(LOGS, [("alpha", "2026-03-01")], batch)
    assert predicate == (
        "\"project\" IN ('alpha') AND \"day\" IN ('2026-03-01') "
        "AND \"id\" >= 'it''s' AND \"id\" <= 'it''s'"
    )
