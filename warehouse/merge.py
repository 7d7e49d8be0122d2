"""Pure merge rules: what a batch adds to, or changes in, one partition.

No I/O here: the writer reads what a partition holds, asks these functions what to do, and
applies the answer. Each rule keeps one row per key:

- dedupe (logs, audit): the first row seen for a key wins; stored rows are never changed.
- upsert (requests): the row with the newest `_extracted_at` wins; on a tie the later write
  wins if its content differs, and re-writing an identical batch changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transform.schemas import EXTRACTED_AT, TableSchema


def first_per_key(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """One row per key, the first in batch order (append-only records repeat unchanged)."""
    return frame.unique(subset=key, keep="first", maintain_order=True)


def latest_per_key(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """One row per key, the newest `_extracted_at`; later batch rows win ties."""
    ordered = frame.with_row_index("_order").sort([EXTRACTED_AT, "_order"])
    return ordered.unique(subset=key, keep="last", maintain_order=True).drop("_order")


def collapse_batch(schema: TableSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Remove repeats inside one batch according to the table's merge policy."""
    key = list(schema.key)
    if schema.merge == "dedupe":
        return first_per_key(frame, key)
    return latest_per_key(frame, key)


def unseen_rows(batch: pl.DataFrame, stored_keys: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Rows of `batch` whose key the partition does not hold yet."""
    if stored_keys.height == 0:
        return batch
    return batch.join(stored_keys.select(key).unique(), on=key, how="anti", nulls_equal=True)


@dataclass(frozen=True)
class UpsertPlan:
    """How a batch meets a partition of mutable records."""

    fresh: pl.DataFrame
    """Rows whose key is not stored: appended as a new file."""
    newer: pl.DataFrame
    """Rows that supersede a stored version: the partition is rewritten with them."""
    tied: pl.DataFrame
    """Rows extracted at the same instant as the stored version: see `changed_ties`."""


def plan_upsert(batch: pl.DataFrame, stored: pl.DataFrame, key: list[str]) -> UpsertPlan:
    """Split a collapsed batch into new keys, newer versions and same-instant versions.

    `stored` holds the key columns and `_extracted_at` of every stored row. Older versions
    are in none of the three: they are dropped.
    """
    if stored.height == 0:
        return UpsertPlan(fresh=batch, newer=batch.clear(), tied=batch.clear())
    stored_latest = stored.group_by(key).agg(pl.col(EXTRACTED_AT).max().alias("_stored_at"))
    joined = batch.join(stored_latest, on=key, how="left", nulls_equal=True)
    at, stored_at = pl.col(EXTRACTED_AT), pl.col("_stored_at")
    return UpsertPlan(
        fresh=joined.filter(stored_at.is_null()).drop("_stored_at"),
        newer=joined.filter(at > stored_at).drop("_stored_at"),
        tied=joined.filter(at == stored_at).drop("_stored_at"),
    )


def changed_ties(plan: UpsertPlan, stored_rows: pl.DataFrame, key: list[str]) -> UpsertPlan:
    """Count a same-instant version as newer when its content differs from the stored row.

    One run stamps every page with the same `_extracted_at`, and offset paging can return a
    record twice while its status moves on; the later write then wins. An identical row
    (a re-run of a batch) stays a no-op, so re-runs do not rewrite partitions.
    """
    if plan.tied.height == 0:
        return plan
    candidates = stored_rows.join(plan.tied.select(key), on=key, how="semi", nulls_equal=True)
    changed = plan.tied.join(candidates, on=plan.tied.columns, how="anti", nulls_equal=True)
    newer = pl.concat([plan.newer, changed], how="vertical")
    return UpsertPlan(fresh=plan.fresh, newer=newer, tied=plan.tied.clear())


def rewrite_partition(stored: pl.DataFrame, plan: UpsertPlan, key: list[str]) -> pl.DataFrame:
    """The full new content of a partition: stored rows not superseded, then newer and fresh.

    Collapsing again also heals a partition that held two versions of a key.
    """
    kept = stored.join(plan.newer.select(key), on=key, how="anti", nulls_equal=True)
    merged = pl.concat([kept, plan.newer, plan.fresh], how="vertical")
    return latest_per_key(merged, key)
