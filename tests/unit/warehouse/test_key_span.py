"""The key span that bounds which stored files an insert-if-absent reads."""

import polars as pl
import pyarrow as pa

from transform.schemas import LOGS
from warehouse.tables import key_span


def test_the_span_keeps_exactly_the_stored_rows_a_batch_key_can_equal(frame):
    """Stored ids between the batch's least and greatest id are kept, all others dropped."""
    batch = frame("logs", [{"id": "c"}, {"id": "e"}, {"id": "d"}])
    span = key_span(LOGS, batch)
    assert span is not None
    stored = pa.table({"id": ["a", "c", "d", "e", "f"]})
    assert stored.filter(span).column("id").to_pylist() == ["c", "d", "e"]


def test_partition_columns_and_columns_with_nulls_are_not_bounded(frame):
    """A key column the batch holds a null in cannot bound the stored rows (a null key
    equals a null key), and partition columns are pruned by partition already."""
    batch = frame("logs", [{"id": "c"}, {"id": "d"}])
    with_null = batch.with_columns(
        pl.when(pl.col("id") == "d").then(None).otherwise("id").alias("id")
    )
    assert key_span(LOGS, with_null) is None
